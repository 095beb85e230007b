//! A middleware that panics or fails is answered like a function error, never a dropped
//! connection: a panic in any hook is a retriable `Panic` naming the middleware and the hook;
//! an error from a hook fails what it wraps, retriable unless it says otherwise.

use inngest::middleware::{
    FunctionInfo, FunctionInput, Middleware, Next, Request, Response, RunInfo, StepInfo,
};
use inngest::{Context, Error, Event, NonRetriableError};
use serde_json::{json, Value};

use crate::support::CallBody;
use crate::{app, call};

/// Panics in one hook.
struct Panicky(&'static str);

impl Panicky {
    fn maybe(&self, hook: &str) {
        if self.0 == hook {
            panic!("boom in {hook}");
        }
    }
}

impl Middleware for Panicky {
    fn name(&self) -> &str {
        "panicky"
    }
    fn on_register(&self, _app: &str, _function: Option<&FunctionInfo>) {
        self.maybe("on_register");
    }
    async fn wrap_request(&self, _r: &Request, next: Next<'_, Response>) -> Response {
        self.maybe("wrap_request");
        next.await
    }
    async fn transform_function_input(&self, _i: &mut FunctionInput) -> Result<(), Error> {
        self.maybe("transform_function_input");
        Ok(())
    }
    async fn on_memoization_end(&self, _run: &RunInfo) {
        self.maybe("on_memoization_end");
    }
    async fn on_run_start(&self, _run: &RunInfo) {
        self.maybe("on_run_start");
    }
    async fn wrap_function_handler(
        &self,
        _run: &RunInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        self.maybe("wrap_function_handler");
        next.await
    }
    async fn on_run_complete(&self, _run: &RunInfo, _output: &Value) {
        self.maybe("on_run_complete");
    }
    async fn on_run_error(&self, _run: &RunInfo, _error: &Error, _final: bool) {
        self.maybe("on_run_error");
    }
    async fn transform_step_input(
        &self,
        _run: &RunInfo,
        _step: &StepInfo,
        _input: &mut Value,
    ) -> Result<(), Error> {
        self.maybe("transform_step_input");
        Ok(())
    }
    async fn wrap_step(
        &self,
        _run: &RunInfo,
        _step: &StepInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        self.maybe("wrap_step");
        next.await
    }
    async fn on_step_start(&self, _run: &RunInfo, _step: &StepInfo) {
        self.maybe("on_step_start");
    }
    async fn wrap_step_handler(
        &self,
        _run: &RunInfo,
        _step: &StepInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        self.maybe("wrap_step_handler");
        next.await
    }
    async fn on_step_complete(&self, _run: &RunInfo, _step: &StepInfo, _output: &Value) {
        self.maybe("on_step_complete");
    }
    async fn on_step_error(&self, _run: &RunInfo, _step: &StepInfo, _e: &Error, _f: bool) {
        self.maybe("on_step_error");
    }
    async fn transform_send_event(
        &self,
        _run: Option<&RunInfo>,
        _events: &mut Vec<Value>,
    ) -> Result<(), Error> {
        self.maybe("transform_send_event");
        Ok(())
    }
    async fn wrap_send_event(
        &self,
        _run: Option<&RunInfo>,
        _events: &[Value],
        next: Next<'_, Result<Vec<String>, Error>>,
    ) -> Result<Vec<String>, Error> {
        self.maybe("wrap_send_event");
        next.await
    }
}

#[inngest::function(id = "victim", event = "t/victim")]
async fn victim(ctx: Context) -> Result<&'static str, Error> {
    let fail_step = ctx.event.data["fail_step"] == true;
    ctx.step
        .run("work", || async move {
            if fail_step {
                return Err(Error::msg("step failed"));
            }
            Ok(1)
        })
        .await?;
    if ctx.event.data["fail"] == true {
        return Err(Error::msg("function failed"));
    }
    Ok("done")
}

#[inngest::function(id = "victim-sends", event = "t/victim-sends")]
async fn victim_sends(ctx: Context) -> Result<(), Error> {
    ctx.step
        .send_event("send", vec![Event::new("t/x", json!({}))])
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_panic_in_any_hook_is_a_retriable_error_that_names_it() {
    let fresh = CallBody::new("t/victim", json!({}));
    let failing_step = CallBody::new("t/victim", json!({"fail_step": true}));
    let completes = fresh.clone().memo("work", json!({"data": 1}));
    let fails = CallBody::new("t/victim", json!({"fail": true})).memo("work", json!({"data": 1}));
    let sends = CallBody::new("t/victim-sends", json!({}));
    let cases: Vec<(&str, &CallBody, &str)> = vec![
        ("wrap_request", &fresh, "victim"),
        ("transform_function_input", &fresh, "victim"),
        ("on_memoization_end", &fresh, "victim"),
        ("on_run_start", &fresh, "victim"),
        ("wrap_function_handler", &fresh, "victim"),
        ("transform_step_input", &fresh, "victim"),
        ("wrap_step", &fresh, "victim"),
        ("on_step_start", &fresh, "victim"),
        ("wrap_step_handler", &fresh, "victim"),
        ("on_step_complete", &fresh, "victim"),
        ("on_step_error", &failing_step, "victim"),
        ("on_run_complete", &completes, "victim"),
        ("on_run_error", &fails, "victim"),
        ("transform_send_event", &sends, "victim-sends"),
        ("wrap_send_event", &sends, "victim-sends"),
    ];
    for (hook, body, function) in cases {
        let mut service = app("panics")
            .middleware(Panicky(hook))
            .register::<victim>()
            .register::<victim_sends>()
            .into_service()
            .unwrap();
        let id = format!("panics-{function}");
        let answer = call(&mut service, &id, "step", &body.build()).await;
        assert_eq!(
            (answer.status, answer.no_retry.as_deref()),
            (500, Some("false")),
            "{hook}: {answer:?}"
        );
        assert_eq!(answer.body["name"], "Panic", "{hook}: {answer:?}");
        assert_eq!(
            answer.body["message"],
            format!("the middleware `panicky` panicked in `{hook}`: boom in {hook}"),
            "{hook}"
        );
        // The same service answers the next call (nothing was left broken).
        let next = call(&mut service, &id, "step", &body.build()).await;
        assert_eq!(next.status, 500, "{hook}");
    }

    let error = app("panics")
        .middleware(Panicky("on_register"))
        .register::<victim>()
        .into_service()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the middleware `panicky` panicked in `on_register`: boom in on_register"
    );
}

/// Fails its hooks as the event says.
#[derive(Default)]
struct Refuses;

impl Middleware for Refuses {
    async fn transform_function_input(&self, input: &mut FunctionInput) -> Result<(), Error> {
        match input.event()["data"]["refuse"].as_str() {
            Some("for good") => Err(NonRetriableError::new("refused for good").into()),
            Some("for now") => Err(Error::msg("refused for now")),
            _ => Ok(()),
        }
    }

    async fn wrap_step(
        &self,
        _run: &RunInfo,
        _step: &StepInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        let value = next.await?;
        if value == json!(13) {
            return Err(Error::msg("unlucky memo"));
        }
        Ok(value)
    }
}

#[tokio::test]
async fn a_failing_hook_fails_what_it_wraps() {
    let mut service = app("refuses")
        .middleware(Refuses)
        .register::<victim>()
        .into_service()
        .unwrap();
    let id = "refuses-victim";
    let answer = call(
        &mut service,
        id,
        "step",
        &CallBody::new("t/victim", json!({"refuse": "for good"})).build(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.no_retry.as_deref()),
        (400, Some("true"))
    );
    assert_eq!(
        (&answer.body["name"], &answer.body["message"]),
        (&json!("NonRetriableError"), &json!("refused for good"))
    );
    let answer = call(
        &mut service,
        id,
        "step",
        &CallBody::new("t/victim", json!({"refuse": "for now"})).build(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.no_retry.as_deref()),
        (500, Some("false"))
    );
    assert_eq!(answer.body["message"], "refused for now");
    // An error from `wrap_step` is what the step returns (here, passed up by `?`).
    let body = CallBody::new("t/victim", json!({})).memo("work", json!({"data": 13}));
    let answer = call(&mut service, id, "step", &body.build()).await;
    assert_eq!(
        (answer.status, answer.no_retry.as_deref()),
        (500, Some("false"))
    );
    assert_eq!(answer.body["message"], "unlucky memo");
}
