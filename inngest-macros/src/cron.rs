//! Cron schedules, checked at compile time as the Inngest server reads them (the checks live in
//! `inngest_protocol::cron`, shared with the engine).

pub use inngest_protocol::cron::check;
