//! What the Inngest SDK for Rust and its macros must agree on: the time strings Inngest reads
//! ([`timestr`]) and the limits the Inngest server enforces ([`limits`]).
//!
//! `#[inngest::function]` checks every option against these at compile time, and the runtime
//! uses the same parser for sleeps and timeouts, so a value the macro accepts is one the runtime
//! and the server accept. Use them through the `inngest` crate (`inngest::timestr`); this crate
//! has no dependencies so that the proc-macro crate can build it for the host.

#![deny(missing_docs)]

pub mod limits;
pub mod timestr;
