//! One memoized step value, decoded by its exact key set.
//! The invariants live in `inngest::__fuzz::memo`, shared with the property tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inngest::__fuzz::memo(data));
