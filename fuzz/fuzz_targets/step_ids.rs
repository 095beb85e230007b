//! The user step ids of one run, one per line, hashed with repeat indexes.
//! The invariants live in `inngest::__fuzz::step_ids`, shared with the property tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inngest::__fuzz::step_ids(data));
