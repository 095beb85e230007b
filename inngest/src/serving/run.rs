//! One call of a function that has middleware: `wrap_request` around the call request, and
//! around the function `transform_function_input`, `on_memoization_end`, `on_run_start`,
//! `wrap_function_handler`, and `on_run_complete` or `on_run_error` (the step hooks are the
//! steps' own, `step/hooks.rs`). Functions without middleware never come here.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use http::request::Parts;
use http::{Response, StatusCode};
use http_body_util::BodyExt;

use crate::error::Error;
use crate::execution::{panic_message, SharedCall};
use crate::function::{Call, Runner};
use crate::json::RawJson;
use crate::middleware::{FunctionInput, Request, RunHooks, RunInfo, Stack};
use crate::serving::registry::Entry;
use crate::serving::response::{self, Body};

/// Answers a call request through the function's middleware's `wrap_request`; a panic in one
/// is answered as a retriable error that names it.
pub(crate) async fn wrap_request(
    entry: &Entry,
    parts: &Parts,
    body: &Bytes,
    answer: impl Future<Output = Response<Body>> + Send,
) -> Response<Body> {
    let request = Request {
        function_id: entry.composite_id.clone(),
        uri: parts.uri.clone(),
        headers: parts.headers.clone(),
        body: body.clone(),
    };
    let inner = Box::pin(async move {
        let (head, body) = answer.await.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Response::from_parts(head, bytes)
    });
    let wrapped = entry.middleware.wrap_request(&request, inner);
    match AssertUnwindSafe(wrapped).catch_unwind().await {
        Ok(res) => res.map(Body::whole),
        Err(panic) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(%message, "an Inngest middleware panicked");
            response::error_message(StatusCode::INTERNAL_SERVER_ERROR, false, "Panic", message)
        }
    }
}

/// A function's call with its middleware.
pub(crate) struct Hooked {
    pub runner: Runner,
    pub stack: Stack,
    pub function_id: String,
    pub state: Arc<SharedCall>,
    /// The run's first call.
    pub run_start: bool,
}

impl Hooked {
    /// Runs `call`'s function inside the hooks; its output as JSON text.
    pub(crate) async fn run(self, mut call: Call) -> Result<RawJson, Error> {
        let Hooked {
            runner,
            stack,
            function_id,
            state,
            run_start,
        } = self;
        let event = std::mem::replace(&mut call.event, RawJson::null());
        // The middleware sees every event, the one of a call that does not batch too.
        let events = match std::mem::take(&mut call.events) {
            none if none.is_empty() => vec![event.clone()],
            events => events,
        };
        let mut input = FunctionInput::new(
            function_id.clone(),
            call.run_id.clone(),
            call.attempt,
            event,
            events,
        );
        stack.transform_function_input(&mut input).await?;
        let (event, events, extensions) = input.finish()?;
        let run = RunInfo {
            function_id,
            run_id: call.run_id.clone(),
            attempt: call.attempt,
            max_attempts: call.max_attempts,
            extensions,
        };
        let hooks = Arc::new(RunHooks::new(stack, run));
        if !state.lock().is_replaying() {
            hooks.memoization_end().await;
        }
        if run_start {
            hooks.stack.on_run_start(&hooks.run).await;
        }
        call.event = event;
        call.events = events;
        call.step = call.step.with_hooks(hooks.clone());
        state.lock().set_hooks(hooks.clone());
        call.hooks = Some(hooks.clone());
        let function = async move {
            let output = runner(call).await?;
            output.value().map_err(Error::new)
        };
        let (stack, run) = (&hooks.stack, &hooks.run);
        let result = stack.wrap_function_handler(run, Box::pin(function)).await;
        // The function returned: whatever it did not replay, what follows is new work.
        if state.lock().is_replaying() {
            state.lock().end_replay();
        }
        hooks.memoization_end().await;
        match result {
            Ok(output) => {
                stack.on_run_complete(run, &output).await;
                RawJson::from_value(&output).map_err(Error::new)
            }
            Err(error) => {
                let final_attempt = !error.is_retriable() || run.is_last_attempt();
                stack.on_run_error(run, &error, final_attempt).await;
                Err(error)
            }
        }
    }
}
