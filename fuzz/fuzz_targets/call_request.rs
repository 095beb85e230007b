//! A call request body (`POST ?fnId=`), as the handler parses it.
//! The invariants live in `inngest::__fuzz::call_request`, shared with the property tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inngest::__fuzz::call_request(data));
