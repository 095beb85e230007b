//! [`Middleware`] behind a pointer: its `async fn` hooks boxed, so that an app holds the
//! middleware of every kind in one list, and a function's middleware are built from the
//! paths its attribute names.
//!
//! Object-safe on the inside, `async fn` on the outside: users implement [`Middleware`] with
//! plain `async fn` hooks (no attribute macro, no boxing to write), and the SDK stores
//! `Arc<dyn DynMiddleware>`. A generic stack (`App<M1, M2, ..>`) would have no boxing, but
//! would put the middleware types into every function's and the app's type, and compile the
//! call path once per combination; the boxing costs one allocation per hook that awaits.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use super::{FunctionInfo, FunctionInput, Middleware, Next, Request, Response, RunInfo, StepInfo};
use crate::error::Error;

/// A middleware with its hooks' futures boxed.
pub(crate) trait DynMiddleware: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn on_register(&self, app_id: &str, function: Option<&FunctionInfo>);
    fn wrap_request<'a>(
        &'a self,
        request: &'a Request,
        next: Next<'a, Response>,
    ) -> BoxFuture<'a, Response>;
    fn transform_function_input<'a>(
        &'a self,
        input: &'a mut FunctionInput,
    ) -> BoxFuture<'a, Result<(), Error>>;
    fn on_memoization_end<'a>(&'a self, run: &'a RunInfo) -> BoxFuture<'a, ()>;
    fn on_run_start<'a>(&'a self, run: &'a RunInfo) -> BoxFuture<'a, ()>;
    fn wrap_function_handler<'a>(
        &'a self,
        run: &'a RunInfo,
        next: Next<'a, Result<Value, Error>>,
    ) -> BoxFuture<'a, Result<Value, Error>>;
    fn on_run_complete<'a>(&'a self, run: &'a RunInfo, output: &'a Value) -> BoxFuture<'a, ()>;
    fn on_run_error<'a>(
        &'a self,
        run: &'a RunInfo,
        error: &'a Error,
        final_attempt: bool,
    ) -> BoxFuture<'a, ()>;
    fn transform_step_input<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        input: &'a mut Value,
    ) -> BoxFuture<'a, Result<(), Error>>;
    fn wrap_step<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        next: Next<'a, Result<Value, Error>>,
    ) -> BoxFuture<'a, Result<Value, Error>>;
    fn on_step_start<'a>(&'a self, run: &'a RunInfo, step: &'a StepInfo) -> BoxFuture<'a, ()>;
    fn wrap_step_handler<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        next: Next<'a, Result<Value, Error>>,
    ) -> BoxFuture<'a, Result<Value, Error>>;
    fn on_step_complete<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        output: &'a Value,
    ) -> BoxFuture<'a, ()>;
    fn on_step_error<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        error: &'a Error,
        final_attempt: bool,
    ) -> BoxFuture<'a, ()>;
    fn transform_send_event<'a>(
        &'a self,
        run: Option<&'a RunInfo>,
        events: &'a mut Vec<Value>,
    ) -> BoxFuture<'a, Result<(), Error>>;
    fn wrap_send_event<'a>(
        &'a self,
        run: Option<&'a RunInfo>,
        events: &'a [Value],
        next: Next<'a, Result<Vec<String>, Error>>,
    ) -> BoxFuture<'a, Result<Vec<String>, Error>>;
}

impl<M: Middleware> DynMiddleware for M {
    fn name(&self) -> &str {
        Middleware::name(self)
    }
    fn on_register(&self, app_id: &str, function: Option<&FunctionInfo>) {
        Middleware::on_register(self, app_id, function)
    }
    fn wrap_request<'a>(
        &'a self,
        request: &'a Request,
        next: Next<'a, Response>,
    ) -> BoxFuture<'a, Response> {
        Box::pin(Middleware::wrap_request(self, request, next))
    }
    fn transform_function_input<'a>(
        &'a self,
        input: &'a mut FunctionInput,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Middleware::transform_function_input(self, input))
    }
    fn on_memoization_end<'a>(&'a self, run: &'a RunInfo) -> BoxFuture<'a, ()> {
        Box::pin(Middleware::on_memoization_end(self, run))
    }
    fn on_run_start<'a>(&'a self, run: &'a RunInfo) -> BoxFuture<'a, ()> {
        Box::pin(Middleware::on_run_start(self, run))
    }
    fn wrap_function_handler<'a>(
        &'a self,
        run: &'a RunInfo,
        next: Next<'a, Result<Value, Error>>,
    ) -> BoxFuture<'a, Result<Value, Error>> {
        Box::pin(Middleware::wrap_function_handler(self, run, next))
    }
    fn on_run_complete<'a>(&'a self, run: &'a RunInfo, output: &'a Value) -> BoxFuture<'a, ()> {
        Box::pin(Middleware::on_run_complete(self, run, output))
    }
    fn on_run_error<'a>(
        &'a self,
        run: &'a RunInfo,
        error: &'a Error,
        final_attempt: bool,
    ) -> BoxFuture<'a, ()> {
        Box::pin(Middleware::on_run_error(self, run, error, final_attempt))
    }
    fn transform_step_input<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        input: &'a mut Value,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Middleware::transform_step_input(self, run, step, input))
    }
    fn wrap_step<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        next: Next<'a, Result<Value, Error>>,
    ) -> BoxFuture<'a, Result<Value, Error>> {
        Box::pin(Middleware::wrap_step(self, run, step, next))
    }
    fn on_step_start<'a>(&'a self, run: &'a RunInfo, step: &'a StepInfo) -> BoxFuture<'a, ()> {
        Box::pin(Middleware::on_step_start(self, run, step))
    }
    fn wrap_step_handler<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        next: Next<'a, Result<Value, Error>>,
    ) -> BoxFuture<'a, Result<Value, Error>> {
        Box::pin(Middleware::wrap_step_handler(self, run, step, next))
    }
    fn on_step_complete<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        output: &'a Value,
    ) -> BoxFuture<'a, ()> {
        Box::pin(Middleware::on_step_complete(self, run, step, output))
    }
    fn on_step_error<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        error: &'a Error,
        final_attempt: bool,
    ) -> BoxFuture<'a, ()> {
        Box::pin(Middleware::on_step_error(
            self,
            run,
            step,
            error,
            final_attempt,
        ))
    }
    fn transform_send_event<'a>(
        &'a self,
        run: Option<&'a RunInfo>,
        events: &'a mut Vec<Value>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Middleware::transform_send_event(self, run, events))
    }
    fn wrap_send_event<'a>(
        &'a self,
        run: Option<&'a RunInfo>,
        events: &'a [Value],
        next: Next<'a, Result<Vec<String>, Error>>,
    ) -> BoxFuture<'a, Result<Vec<String>, Error>> {
        Box::pin(Middleware::wrap_send_event(self, run, events, next))
    }
}

/// How a function's attribute builds one of its middleware: `M::default()`, once per app.
#[derive(Clone, Copy)]
pub struct MiddlewareFactory {
    make: fn() -> Arc<dyn DynMiddleware>,
}

impl MiddlewareFactory {
    /// The factory of `M` (what `middleware = [M]` emits).
    pub const fn of<M: MiddlewareArg>() -> MiddlewareFactory {
        MiddlewareFactory { make: make::<M> }
    }

    /// A new instance.
    pub(crate) fn make(&self) -> Arc<dyn DynMiddleware> {
        (self.make)()
    }
}

impl std::fmt::Debug for MiddlewareFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiddlewareFactory").finish_non_exhaustive()
    }
}

fn make<M: MiddlewareArg>() -> Arc<dyn DynMiddleware> {
    Arc::new(M::default())
}

/// What `middleware = [M]` takes: a type that implements [`Middleware`] and `Default`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an Inngest middleware that a function attribute can build",
    label = "expected a type implementing `inngest::middleware::Middleware` and `Default`",
    note = "`middleware = [M]` builds `M::default()` once; implement `inngest::middleware::Middleware` and `Default` for `{Self}`, or register a configured middleware on the app with `App::middleware`"
)]
pub trait MiddlewareArg: Middleware + Default {}

impl<M: Middleware + Default> MiddlewareArg for M {}
