//! Flow control and the server's limits end to end: with `inngest::testing::TestEngine` on
//! virtual time, with the embedded engine over HTTP on real time, and with the official JS
//! SDK's functions registered with the standalone engine.

#[path = "../support/mod.rs"]
mod support;

mod embedded;
mod functions;
mod peers;
mod test_engine;
