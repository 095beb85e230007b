//! A local Inngest engine.
//!
//! It runs the functions of apps built with any Inngest SDK (Rust, TypeScript, Python, Go) as
//! the Inngest server does: events in, runs out; steps memoized, failures retried with the
//! server's backoff, sleeps, waits, invokes, cancellations, and the lifecycle events
//! `inngest/function.finished`, `.failed` and `.cancelled`.
//!
//! - [`core`]: the pure state machine (no sockets, no async runtime, time passed in).
//! - [`Engine`]: the async shell that drives the core on real time, calls apps through a
//!   [`Transport`] (HTTP, or in-process through any `tower::Service`), and answers the dev
//!   server's HTTP API ([`EngineService`], [`serve`]).
//! - [`Simulation`]: drives the core on virtual time (what `inngest::testing` uses).
//!
//! It is a local engine for development, tests and single-machine use; production runs on
//! Inngest itself.

#![deny(missing_docs)]

pub mod core;
mod shell;
mod simulation;

pub use crate::core::{
    AppView, Call, CallId, CallResponse, CheckpointError, CoreConfig, EventError, Fetch, FetchId,
    FetchRequest, FetchResponse, Happening, RegisterError, RunStatus, RunView, SignalError,
    StepRecord, Synced, TraceContext, TransportError,
};
pub use shell::{
    serve, ApiBody, BoxFuture, Engine, EngineConfig, EngineError, EngineService, Fetcher,
    HttpFetcher, HttpTransport, Realtime, ServiceTransport, SharedFetcher, Subscription, Transport,
    WeakEngine,
};
pub use simulation::{Simulation, TooManyCalls};
