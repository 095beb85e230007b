//! Inngest time strings (`"30s"`, `"2h45m"`, `"1d"`, `"1w"`), as the server parses them with
//! `str2duration`: a sequence of `<integer><unit>` with units `ns us µs ms s m h d w`.
//!
//! The parser lives in the `inngest-protocol` crate, where `#[inngest::function]` uses it too:
//! a time string the attribute accepts at compile time is one the runtime accepts.

pub use inngest_protocol::timestr::{format, parse, MAX_SLEEP};
