//! The embedded engine: runs functions with nothing else installed, behaving as the Inngest
//! server does (steps memoized, retries with backoff, sleeps, waits, invokes, failure
//! handlers). `serve()` runs it in-process when neither `INNGEST_DEV` nor
//! `INNGEST_SIGNING_KEY` is set; [`Engine`] also runs on its own in front of other apps' serve
//! URLs (any SDK registers with it through `POST /fn/register`, like the dev server).
//!
//! It is a local engine for development and tests on one machine; production runs on Inngest.

pub(crate) mod api;
mod engine;
mod expr;
mod transport;

pub use engine::{Engine, EngineConfig, Happening, RunStatus, RunView};
pub use transport::{CallResponse, HttpTransport, InProcessTransport, Transport};

/// The embedded engine `serve()` started in this process, if any (for timelines and tests).
pub fn embedded() -> Option<Engine> {
    crate::client::embedded()
}
