//! The middleware of a function (the app's, then its own) and the hooks run in order: `on_*`
//! and `transform_*` hooks one after the other, `wrap_*` hooks nested with the first
//! registered outermost. A panic in a hook is re-raised with a message that names the
//! middleware and the hook; the call answers it as a retriable error.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::Value;

use super::{
    DynMiddleware, FunctionInfo, FunctionInput, Next, Request, Response, RunInfo, StepInfo,
};
use crate::error::Error;
use crate::execution::{panic_message, PanicMessage};

/// Middleware in the order they apply. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Stack(Option<Arc<[Arc<dyn DynMiddleware>]>>);

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|m| m.name().to_owned()))
            .finish()
    }
}

impl Stack {
    /// These middleware, in this order.
    pub(crate) fn new(middleware: Vec<Arc<dyn DynMiddleware>>) -> Stack {
        if middleware.is_empty() {
            Stack(None)
        } else {
            Stack(Some(middleware.into()))
        }
    }

    /// This stack, then `more`.
    pub(crate) fn then(&self, more: Vec<Arc<dyn DynMiddleware>>) -> Stack {
        if more.is_empty() {
            return self.clone();
        }
        Stack::new(self.iter().cloned().chain(more).collect())
    }

    /// This stack, then `more`'s middleware.
    pub(crate) fn then_stack(&self, more: &Stack) -> Stack {
        self.then(more.iter().cloned().collect())
    }

    /// Whether there are none (then nothing is hooked and the call takes the plain path).
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    fn iter(&self) -> std::slice::Iter<'_, Arc<dyn DynMiddleware>> {
        self.0.as_deref().unwrap_or(&[]).iter()
    }

    /// `on_register` of each; a panic is an error that names the middleware.
    pub(crate) fn on_register(
        &self,
        app_id: &str,
        function: Option<&FunctionInfo>,
    ) -> Result<(), Error> {
        for m in self.iter() {
            let run =
                std::panic::catch_unwind(AssertUnwindSafe(|| m.on_register(app_id, function)));
            if let Err(panic) = run {
                return Err(Error::msg(format!(
                    "the middleware `{}` panicked in `on_register`: {}",
                    m.name(),
                    panic_message(panic.as_ref())
                )));
            }
        }
        Ok(())
    }

    pub(crate) async fn wrap_request<'a>(
        &'a self,
        request: &'a Request,
        inner: BoxFuture<'a, Response>,
    ) -> Response {
        self.chain("wrap_request", inner, |m, next| {
            m.wrap_request(request, next)
        })
        .await
    }

    pub(crate) async fn transform_function_input(
        &self,
        input: &mut FunctionInput,
    ) -> Result<(), Error> {
        for m in self.iter() {
            guard(
                m.name(),
                "transform_function_input",
                m.transform_function_input(input),
            )
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn on_run_start(&self, run: &RunInfo) {
        for m in self.iter() {
            guard(m.name(), "on_run_start", m.on_run_start(run)).await;
        }
    }

    pub(crate) async fn wrap_function_handler<'a>(
        &'a self,
        run: &'a RunInfo,
        inner: BoxFuture<'a, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        self.chain("wrap_function_handler", inner, |m, next| {
            m.wrap_function_handler(run, next)
        })
        .await
    }

    pub(crate) async fn on_run_complete(&self, run: &RunInfo, output: &Value) {
        for m in self.iter() {
            guard(m.name(), "on_run_complete", m.on_run_complete(run, output)).await;
        }
    }

    pub(crate) async fn on_run_error(&self, run: &RunInfo, error: &Error, final_attempt: bool) {
        for m in self.iter() {
            let hook = m.on_run_error(run, error, final_attempt);
            guard(m.name(), "on_run_error", hook).await;
        }
    }

    pub(crate) async fn transform_step_input(
        &self,
        run: &RunInfo,
        step: &StepInfo,
        input: &mut Value,
    ) -> Result<(), Error> {
        for m in self.iter() {
            let hook = m.transform_step_input(run, step, input);
            guard(m.name(), "transform_step_input", hook).await?;
        }
        Ok(())
    }

    pub(crate) async fn wrap_step<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        inner: BoxFuture<'a, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        self.chain("wrap_step", inner, |m, next| m.wrap_step(run, step, next))
            .await
    }

    pub(crate) async fn on_step_start(&self, run: &RunInfo, step: &StepInfo) {
        for m in self.iter() {
            guard(m.name(), "on_step_start", m.on_step_start(run, step)).await;
        }
    }

    pub(crate) async fn wrap_step_handler<'a>(
        &'a self,
        run: &'a RunInfo,
        step: &'a StepInfo,
        inner: BoxFuture<'a, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        self.chain("wrap_step_handler", inner, |m, next| {
            m.wrap_step_handler(run, step, next)
        })
        .await
    }

    pub(crate) async fn on_step_complete(&self, run: &RunInfo, step: &StepInfo, output: &Value) {
        for m in self.iter() {
            let hook = m.on_step_complete(run, step, output);
            guard(m.name(), "on_step_complete", hook).await;
        }
    }

    pub(crate) async fn on_step_error(
        &self,
        run: &RunInfo,
        step: &StepInfo,
        error: &Error,
        final_attempt: bool,
    ) {
        for m in self.iter() {
            let hook = m.on_step_error(run, step, error, final_attempt);
            guard(m.name(), "on_step_error", hook).await;
        }
    }

    /// Sends `events` through `transform_send_event` and `wrap_send_event`; `send` delivers
    /// what the transforms made of them.
    pub(crate) async fn send_events<'a>(
        &'a self,
        run: Option<&'a RunInfo>,
        mut events: Vec<Value>,
        send: impl FnOnce(Vec<Value>) -> BoxFuture<'a, Result<Vec<String>, Error>> + Send + 'a,
    ) -> Result<Vec<String>, Error> {
        for m in self.iter() {
            let hook = m.transform_send_event(run, &mut events);
            guard(m.name(), "transform_send_event", hook).await?;
        }
        let events = &events;
        let inner = send(events.clone());
        self.chain("wrap_send_event", inner, |m, next| {
            m.wrap_send_event(run, events, next)
        })
        .await
    }

    /// `wrap` hooks nested around `inner`: the first middleware outermost.
    fn chain<'a, T: Send + 'a>(
        &'a self,
        hook: &'static str,
        inner: BoxFuture<'a, T>,
        call: impl Fn(&'a dyn DynMiddleware, Next<'a, T>) -> BoxFuture<'a, T>,
    ) -> BoxFuture<'a, T> {
        let mut next: BoxFuture<'a, T> = Box::pin(label(inner));
        for m in self.iter().rev() {
            let wrapped = call(&**m, Next::new(next));
            next = Box::pin(guard(m.name(), hook, wrapped));
        }
        next
    }
}

/// Runs a hook's future; a panic in it is re-raised naming the middleware and the hook (a
/// panic that passed through it from what it wraps keeps its own message).
async fn guard<T>(name: &str, hook: &'static str, future: impl Future<Output = T>) -> T {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(value) => value,
        Err(panic) if panic.is::<PanicMessage>() => std::panic::resume_unwind(panic),
        Err(panic) => std::panic::resume_unwind(Box::new(PanicMessage(format!(
            "the middleware `{name}` panicked in `{hook}`: {}",
            panic_message(panic.as_ref())
        )))),
    }
}

/// Runs what the middleware wrap (the function, a step's handler); a panic in it keeps its
/// message as it is.
async fn label<T>(future: impl Future<Output = T>) -> T {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(value) => value,
        Err(panic) if panic.is::<PanicMessage>() => std::panic::resume_unwind(panic),
        Err(panic) => {
            std::panic::resume_unwind(Box::new(PanicMessage(panic_message(panic.as_ref()))))
        }
    }
}

/// The middleware of one call, with the run they see.
pub(crate) struct RunHooks {
    pub stack: Stack,
    pub run: RunInfo,
    /// `on_memoization_end` ran in this call.
    memoization_ended: AtomicBool,
}

impl std::fmt::Debug for RunHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunHooks")
            .field("stack", &self.stack)
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl RunHooks {
    pub(crate) fn new(stack: Stack, run: RunInfo) -> Self {
        RunHooks {
            stack,
            run,
            memoization_ended: AtomicBool::new(false),
        }
    }

    /// `on_memoization_end`, the first time only.
    pub(crate) async fn memoization_end(&self) {
        if !self.memoization_ended.swap(true, Ordering::AcqRel) {
            for m in self.stack.iter() {
                guard(
                    m.name(),
                    "on_memoization_end",
                    m.on_memoization_end(&self.run),
                )
                .await;
            }
        }
    }
}
