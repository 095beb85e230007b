//! An `X-Inngest-Signature` header value, parsed and verified.
//! The invariants live in `inngest::__fuzz::signature_header`, shared with the property tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inngest::__fuzz::signature_header(data));
