//! Middleware: hooks around each call request, run and step, and around sending events.
//!
//! A middleware implements [`Middleware`]; every hook has a default that does nothing, so it
//! implements only the hooks it needs. Register it on the app, where it applies to every
//! function, or on one function:
//!
//! ```no_run
//! use inngest::middleware::{Middleware, RunInfo, StepInfo};
//! use inngest::{Context, Error};
//!
//! #[derive(Default)]
//! struct Metrics;
//!
//! impl Middleware for Metrics {
//!     async fn on_step_complete(&self, run: &RunInfo, step: &StepInfo, _output: &serde_json::Value) {
//!         tracing::info!(function = %run.function_id, step = %step.id, "step done");
//!     }
//! }
//!
//! #[inngest::function(id = "report", event = "report/asked", middleware = [Metrics])]
//! async fn report(ctx: Context) -> Result<(), Error> {
//!     ctx.step.run("build", || async { Ok(()) }).await
//! }
//!
//! # async fn run() -> Result<(), Error> {
//! inngest::App::new("my-app").middleware(Metrics).serve().await
//! # }
//! ```
//!
//! # The hooks, in the order they run
//!
//! Each call request replays the function from the top (memoized steps return at once), then
//! does new work: runs one step, reports new steps, or completes. The hooks of one call, in
//! order:
//!
//! | hook | when | may change |
//! |---|---|---|
//! | [`on_register`](Middleware::on_register) | once, when the app is built (app middleware with no function, function middleware with its function) | |
//! | [`wrap_request`](Middleware::wrap_request) | around the whole call request (POST) | the HTTP answer |
//! | [`transform_function_input`](Middleware::transform_function_input) | every call, before the function runs | the event, the events; values put into the context ([`FunctionInput::insert`]) |
//! | [`on_memoization_end`](Middleware::on_memoization_end) | once per call, where replay ends and new work begins: at once with no memos, else when the last memo is claimed or a new step is found (at the latest when the function returns) | |
//! | [`on_run_start`](Middleware::on_run_start) | the first call of a run only (no memos, attempt 0, not a call for one step) | |
//! | [`wrap_function_handler`](Middleware::wrap_function_handler) | every call, around the function; `next` resolves only in the call where the function returns | the output or error |
//! | [`transform_step_input`](Middleware::transform_step_input) | every step, memoized or new, in every call | a new step's options (`input`) |
//! | [`wrap_step`](Middleware::wrap_step) | every step, memoized or new; `next` resolves only for a memoized step | the value the function gets |
//! | [`on_step_start`](Middleware::on_step_start) | before a `step.run`/`send_event` handler runs (new work) | |
//! | [`wrap_step_handler`](Middleware::wrap_step_handler) | around that handler, once per attempt | the output or error sent to Inngest |
//! | [`on_step_complete`](Middleware::on_step_complete) / [`on_step_error`](Middleware::on_step_error) | after the handler | |
//! | [`on_run_complete`](Middleware::on_run_complete) / [`on_run_error`](Middleware::on_run_error) | when the function returns in this call | |
//! | [`transform_send_event`](Middleware::transform_send_event), then [`wrap_send_event`](Middleware::wrap_send_event) | `step.send_event` (app and function middleware), [`Client::send`](crate::Client::send) (the client's middleware) | the events; the ids |
//!
//! So on a replay of memoized steps only `wrap_request`, `transform_function_input`,
//! `wrap_function_handler` (before `next`), `transform_step_input` and `wrap_step` run for
//! them; `on_step_*`, `wrap_step_handler` and `on_run_start` run only for new work.
//!
//! **Order.** App middleware come first, then the function's, each in the order registered.
//! `transform_*` and `on_*` hooks run in that order; `wrap_*` hooks nest like an onion: the
//! first registered is the outermost (its code before `next` runs first, its code after
//! `next` last).
//!
//! **Failures.** A `transform_*` or `wrap_*` hook that returns an error fails what it wraps,
//! as that would have failed: the call answers like a function error, retriable unless the
//! error is a [`NonRetriableError`](crate::NonRetriableError); an error in `wrap_step` is
//! what the step returns. A panic in any hook answers the call with a retriable error that
//! names the middleware and the hook, never a dropped connection.
//!
//! **Dependency injection.** A value put in [`transform_function_input`] with
//! [`FunctionInput::insert`] is read in the function by type, with
//! [`Context::get`](crate::Context::get) (an error names the type when nothing put it there).
//!
//! [`transform_function_input`]: Middleware::transform_function_input

mod erased;
mod extensions;
mod input;
mod stack;

use std::future::{Future, IntoFuture};

use bytes::Bytes;
use serde_json::Value;

use crate::error::Error;

pub use extensions::Extensions;
pub use input::FunctionInput;

pub(crate) use erased::DynMiddleware;
#[doc(hidden)]
pub use erased::{MiddlewareArg, MiddlewareFactory};
pub(crate) use stack::{RunHooks, Stack};

/// The answer to a call request, as [`Middleware::wrap_request`] sees it.
pub type Response = http::Response<Bytes>;

/// A call request, as [`Middleware::wrap_request`] sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Request {
    /// The composite id of the function called (`"<app>-<fn>"`).
    pub function_id: String,
    /// The request's URI (path and query).
    pub uri: http::Uri,
    /// The request's headers.
    pub headers: http::HeaderMap,
    /// The request's body (the call request's JSON).
    pub body: Bytes,
}

/// A function as [`Middleware::on_register`] sees it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FunctionInfo {
    /// Its composite id (`"<app>-<fn>"`).
    pub id: String,
    /// Its display name.
    pub name: String,
}

/// The run of one call request, as the hooks see it.
#[derive(Debug)]
#[non_exhaustive]
pub struct RunInfo {
    /// The composite id of the function (`"<app>-<fn>"`).
    pub function_id: String,
    /// The run's id.
    pub run_id: String,
    /// The 0-based attempt of this call.
    pub attempt: u32,
    /// How many attempts the run has in all, when Inngest says so.
    pub max_attempts: Option<u32>,
    /// The values middleware put into the context.
    pub extensions: Extensions,
}

impl RunInfo {
    /// Whether this call is the run's last attempt.
    pub fn is_last_attempt(&self) -> bool {
        self.max_attempts
            .is_some_and(|max| self.attempt.saturating_add(1) >= max)
    }
}

/// The kind of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StepKind {
    /// `step.run`.
    Run,
    /// `step.send_event`.
    SendEvent,
    /// `step.sleep`, `step.sleep_until`.
    Sleep,
    /// `step.wait_for_event`.
    WaitForEvent,
    /// `step.invoke`.
    Invoke,
    /// `step.ai().wrap`.
    AiWrap,
    /// `step.send_signal`.
    SendSignal,
    /// `step.realtime_publish`.
    RealtimePublish,
}

impl StepKind {
    /// The name the official SDKs give the kind: `run`, `sendEvent`, `sleep`,
    /// `waitForEvent`, `invoke`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Run => "run",
            StepKind::SendEvent => "sendEvent",
            StepKind::Sleep => "sleep",
            StepKind::WaitForEvent => "waitForEvent",
            StepKind::Invoke => "invoke",
            StepKind::AiWrap => "ai.wrap",
            StepKind::SendSignal => "sendSignal",
            StepKind::RealtimePublish => "realtime.publish",
        }
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step, as the hooks see it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StepInfo {
    /// The step's id as written in the function (`"load-user"`).
    pub id: String,
    /// The hashed id Inngest knows it by (the SHA-1 of the id, with its index for a repeat).
    pub hashed_id: String,
    /// What kind of step it is.
    pub kind: StepKind,
    /// Whether its result comes from a memo (a replay), not from new work.
    pub memoized: bool,
    /// The 0-based attempt of this call.
    pub attempt: u32,
}

/// The rest of the chain, in a `wrap_*` hook: await it (`next.await`) to run what the hook
/// wraps, and return what it gives, or something else.
pub struct Next<'a, T> {
    inner: futures::future::BoxFuture<'a, T>,
}

impl<'a, T> Next<'a, T> {
    pub(crate) fn new(inner: futures::future::BoxFuture<'a, T>) -> Self {
        Next { inner }
    }
}

impl<T> std::fmt::Debug for Next<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}

impl<'a, T> IntoFuture for Next<'a, T> {
    type Output = T;
    type IntoFuture = futures::future::BoxFuture<'a, T>;

    fn into_future(self) -> Self::IntoFuture {
        self.inner
    }
}

/// Hooks around each call request, run and step, and around sending events (see the
/// [module documentation](self) for when each runs, in which order, and what a failure does).
///
/// Every hook has a default that does nothing (a `wrap_*` hook's default awaits `next`).
/// Hooks are `async`: implement them with `async fn`. One instance serves every call
/// (`&self`): keep per-run state in the context's [`Extensions`].
///
/// A middleware registered per function (`#[inngest::function(.., middleware = [M])]`) is
/// built with `M::default()` once, when the app is built.
pub trait Middleware: Send + Sync + 'static {
    /// A name for messages (a panic in a hook names it); the type's name by default.
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }

    /// Called once when the app is built: with `None` for a middleware registered on the
    /// app, with the function for one registered on a function.
    fn on_register(&self, app_id: &str, function: Option<&FunctionInfo>) {
        let _ = (app_id, function);
    }

    /// Wraps the whole call request; `next` answers it.
    fn wrap_request(
        &self,
        request: &Request,
        next: Next<'_, Response>,
    ) -> impl Future<Output = Response> + Send {
        let _ = request;
        next.into_future()
    }

    /// Changes the function's input before it runs, in every call: the event, the events,
    /// and values put into the context for the function to read by type.
    fn transform_function_input(
        &self,
        input: &mut FunctionInput,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = input;
        async { Ok(()) }
    }

    /// Called once per call where the replay of memoized steps ends and new work begins.
    fn on_memoization_end(&self, run: &RunInfo) -> impl Future<Output = ()> + Send {
        let _ = run;
        async {}
    }

    /// Called in the first call of a run only.
    fn on_run_start(&self, run: &RunInfo) -> impl Future<Output = ()> + Send {
        let _ = run;
        async {}
    }

    /// Wraps the function in every call. `next` resolves only in the call where the
    /// function returns (in a call that stops at a new step, it never does: the call's
    /// future is dropped, so clean up in `Drop`, not after `next`).
    fn wrap_function_handler(
        &self,
        run: &RunInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> impl Future<Output = Result<Value, Error>> + Send {
        let _ = run;
        next.into_future()
    }

    /// Called when the function returns its output in this call.
    fn on_run_complete(&self, run: &RunInfo, output: &Value) -> impl Future<Output = ()> + Send {
        let _ = (run, output);
        async {}
    }

    /// Called when the function returns an error in this call; `final_attempt` says whether
    /// Inngest will not retry it (the last attempt, or an error that must not be retried).
    fn on_run_error(
        &self,
        run: &RunInfo,
        error: &Error,
        final_attempt: bool,
    ) -> impl Future<Output = ()> + Send {
        let _ = (run, error, final_attempt);
        async {}
    }

    /// Changes a step's input, for every step, memoized or not: for a new step, `input` is
    /// its options as reported to Inngest (an invoke's `{"function_id", "payload":
    /// {"data"}, "timeout"}`, a sleep's `{"duration"}`, a wait's `{"event", "timeout",
    /// "if"}`); it is `null` for a memoized step and for `step.run`.
    fn transform_step_input(
        &self,
        run: &RunInfo,
        step: &StepInfo,
        input: &mut Value,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (run, step, input);
        async { Ok(()) }
    }

    /// Wraps every step; `next` gives the step's memoized value (or its error), and never
    /// resolves for a new step (the call stops there). What this returns is what the
    /// function gets.
    fn wrap_step(
        &self,
        run: &RunInfo,
        step: &StepInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> impl Future<Output = Result<Value, Error>> + Send {
        let _ = (run, step);
        next.into_future()
    }

    /// Called before a `step.run` or `step.send_event` handler runs.
    fn on_step_start(&self, run: &RunInfo, step: &StepInfo) -> impl Future<Output = ()> + Send {
        let _ = (run, step);
        async {}
    }

    /// Wraps a `step.run` or `step.send_event` handler, once per attempt; what this returns
    /// is what is sent to Inngest (and memoized).
    fn wrap_step_handler(
        &self,
        run: &RunInfo,
        step: &StepInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> impl Future<Output = Result<Value, Error>> + Send {
        let _ = (run, step);
        next.into_future()
    }

    /// Called when a step's handler returned its output (after `wrap_step_handler`).
    fn on_step_complete(
        &self,
        run: &RunInfo,
        step: &StepInfo,
        output: &Value,
    ) -> impl Future<Output = ()> + Send {
        let _ = (run, step, output);
        async {}
    }

    /// Called when a step's handler failed; `final_attempt` says whether the step will not
    /// be retried.
    fn on_step_error(
        &self,
        run: &RunInfo,
        step: &StepInfo,
        error: &Error,
        final_attempt: bool,
    ) -> impl Future<Output = ()> + Send {
        let _ = (run, step, error, final_attempt);
        async {}
    }

    /// Changes events before they are sent (each as its JSON object); `run` is the run
    /// sending them with `step.send_event`, `None` for [`Client::send`](crate::Client::send).
    fn transform_send_event(
        &self,
        run: Option<&RunInfo>,
        events: &mut Vec<Value>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (run, events);
        async { Ok(()) }
    }

    /// Wraps sending events; `next` sends them and gives their ids.
    fn wrap_send_event(
        &self,
        run: Option<&RunInfo>,
        events: &[Value],
        next: Next<'_, Result<Vec<String>, Error>>,
    ) -> impl Future<Output = Result<Vec<String>, Error>> + Send {
        let _ = (run, events);
        next.into_future()
    }
}
