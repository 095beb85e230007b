//! # Inngest SDK for Rust
//!
//! Durable functions: annotate an `async fn` with [`#[inngest::function]`](function), call
//! [`serve`](crate::serve()), and Inngest runs it. Each [`step.run`](step::Step::run) is
//! memoized, failures are retried, and when a function fails for good Inngest emits
//! `inngest/function.failed`, which runs the function's
//! [`#[inngest::on_failure]`](on_failure) handler.
//!
//! ```no_run
//! use inngest::{Context, Error, FunctionFailed, NonRetriableError};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Clone, Serialize, Deserialize)]
//! pub struct Signup { pub user_id: String, pub plan: String }
//!
//! #[inngest::function(id = "send-welcome", event = "user/signup", retries = 3)]
//! async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
//!     let name: String = ctx
//!         .step
//!         .run("load-user", || async { Ok(format!("user-{}", ctx.event.data.user_id)) })
//!         .await?;
//!     if ctx.event.data.plan == "banned" {
//!         return Err(NonRetriableError::new("banned users get no welcome").into());
//!     }
//!     Ok(format!("welcomed {name}"))
//! }
//!
//! #[inngest::on_failure(send_welcome)]
//! async fn send_welcome_failed(ctx: Context<FunctionFailed<Signup>>) -> Result<String, Error> {
//!     let failed = &ctx.event.data;
//!     Ok(format!("{} failed: {}", failed.function_id, failed.error.message))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     inngest::serve().await
//! }
//! ```
//!
//! ## Middleware, logs and traces
//!
//! [`middleware`] hooks run around each call request, run and step, and around sending
//! events (metrics, error reporting, authentication, values injected into the context, read
//! with [`Context::get`]); register them with [`App::middleware`] or
//! `#[inngest::function(.., middleware = [M])]`. [`logs::QuietReplay`], one layer on a
//! `tracing` subscriber, drops every event emitted while a function replays memoized steps.
//! Each call is a span `inngest.call` and each step that runs a span `inngest.step`; with the
//! feature `opentelemetry` the W3C trace context travels from the events you send into the
//! runs they start. With the feature `encryption`, `encryption::Encryption` encrypts what
//! Inngest stores, byte-compatible with `@inngest/middleware-encryption`.
//!
//! ## Configuration
//!
//! `serve()` reads the environment variables other Inngest SDKs read: `INNGEST_DEV` (`1` or
//! a dev server URL), `INNGEST_SIGNING_KEY`, `INNGEST_SIGNING_KEY_FALLBACK`,
//! `INNGEST_EVENT_KEY`, `INNGEST_BASE_URL`, `INNGEST_SERVE_ORIGIN`, `INNGEST_SERVE_PATH`,
//! `INNGEST_APP_ID`, `INNGEST_ENV`, and listens on `PORT` (default 3000) at `/api/inngest`.

#![deny(missing_docs)]
#![warn(unreachable_pub)]

// The layers, bottom up (ARCHITECTURE.md): the shared model of functions, contexts and
// errors; execution (replay, suspension); the steps; serving (HTTP, sync, signatures,
// introspection); the app; and, at the edge, the engine.
mod config;
mod context;
mod error;
mod function;
mod json;
mod options;
mod sdk;
pub mod timestr;

mod execution;
pub mod middleware;

mod client;
pub mod step;

mod serving;

pub mod logs;

#[cfg(feature = "encryption")]
pub mod encryption;
#[cfg(feature = "opentelemetry")]
mod otel;

mod app;

#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "engine")]
pub mod testing;

/// A boxed, sendable future, as functions are stored and driven.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

/// The embedded engine of this build, if it has one (the feature `engine`).
fn local_engine() -> Option<&'static dyn app::LocalEngine> {
    #[cfg(feature = "engine")]
    return Some(&engine::Embedded);
    #[cfg(not(feature = "engine"))]
    return None;
}

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// Entry points of the fuzz targets in `fuzz/` (feature `fuzzing`, off by default); not
/// public API. Also built for this crate's tests, whose property tests share its invariants.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;

#[cfg(test)]
mod proptests;

pub use app::serve::Serve;
pub use app::{serve, App};
pub use client::{send, send_many, send_signal, Client};
pub use context::{Context, Events};
pub use error::{Error, NonRetriableError, RetryAfterError, RetryAt, StepError};
pub use function::Function;
pub use inngest_macros::{function, on_cancel, on_failure};
pub use inngest_protocol::error::SerializedError;
pub use inngest_protocol::event::{
    Event, FailureError, FunctionCancelled, FunctionFailed, FUNCTION_CANCELLED_EVENT,
    FUNCTION_FAILED_EVENT,
};
pub use options::Checkpointing;
pub use sdk::{SDK_HEADER_VALUE, VERSION};
pub use serving::body::Body;
pub use serving::handler::InngestService;
