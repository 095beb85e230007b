//! A serialized error (`{name, message, stack?, cause?}`), parsed and round-tripped.
//! The invariants live in `inngest::__fuzz::serialized_error`, shared with the property tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inngest::__fuzz::serialized_error(data));
