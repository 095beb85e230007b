//! Unit tests of Inngest functions, in-process, without sockets or an Inngest server.
//!
//! [`TestEngine`] runs a function with an event the way Inngest would, call after call, and
//! lets a test take the place of the outside world: mock steps by id, fast-forward sleeps,
//! resolve or time out waits, stub invokes, and capture sent events. It models retries,
//! `NonRetriableError` and `RetryAfterError`, and runs the function's `#[on_failure]`
//! handler with the real `inngest/function.failed` event. The returned [`Outcome`] has the
//! status, the output or error, every step in order, and the events sent.
//!
//! ```ignore
//! use inngest::testing::TestEngine;
//!
//! #[tokio::test]
//! async fn banned_users_get_no_welcome() {
//!     let outcome = TestEngine::new::<send_welcome>()
//!         .mock_step("load-user", |_| Ok(serde_json::json!("user-1")))
//!         .run(Event::new("user/signup", Signup { user_id: "1".into(), plan: "banned".into() }))
//!         .await;
//!     assert_eq!(outcome.status, RunStatus::Failed);
//!     assert_eq!(outcome.error.unwrap().name, "NonRetriableError");
//!     assert!(outcome.failure_handler.unwrap().output.is_some());
//! }
//! ```
//!
//! Unlike the TypeScript SDK's test tool, it retries failed attempts, runs failure handlers,
//! and never hangs on an unmocked sleep (sleeps are fast-forwarded; an unresolved wait times
//! out).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::app::App;
use crate::client::Client;
use crate::dev::engine::finished_data;
use crate::dev::{InProcessTransport, RunStatus, Transport};
use crate::function::{Function, Kind, Registration};
use crate::serving::handler::InngestService;
use inngest_protocol::error::SerializedError;
use inngest_protocol::event::Event;

/// What a mocked step is told about its call.
#[derive(Debug, Clone, PartialEq)]
pub struct StepCall {
    /// The step's id as written in the function.
    pub id: String,
    /// The op Inngest saw (`StepPlanned` for `step.run`, `Sleep`, `WaitForEvent`, ...).
    pub op: String,
    /// The step's options: the sleep duration, the awaited event, the invoke target and data.
    pub opts: Value,
    /// The 0-based attempt.
    pub attempt: u32,
}

/// One step as it happened, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    /// The step's id as written in the function.
    pub id: String,
    /// `StepRun`, `StepError`, `StepFailed`, `Sleep`, `WaitForEvent`, `InvokeFunction`, or
    /// `Mocked`.
    pub op: String,
    /// The 0-based attempt.
    pub attempt: u32,
    /// What the step returned (or how a sleep/wait/invoke was resolved).
    pub output: Option<Value>,
    /// The step's error, for `StepError`/`StepFailed`.
    pub error: Option<SerializedError>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `Completed` or `Failed`.
    pub status: RunStatus,
    /// The function's output, when it completed.
    pub output: Option<Value>,
    /// The function's error, when it failed.
    pub error: Option<SerializedError>,
    /// How many attempts the function-level calls took (1 when nothing was retried).
    pub attempts: u32,
    /// Every step, in the order it ran.
    pub steps: Vec<StepRecord>,
    /// The events the function sent with `step.send_event`.
    pub events_sent: Vec<Value>,
    /// The `Retry-After` values asked for, in order.
    pub retry_after: Vec<String>,
    /// The outcome of the `#[on_failure]` handler, when the run failed and it has one.
    pub failure_handler: Option<Box<Outcome>>,
}

type Mock = Arc<dyn Fn(&StepCall) -> Result<Value, SerializedError> + Send + Sync>;

/// Runs one function (and its failure handler) in-process for a test.
#[derive(Clone)]
pub struct TestEngine {
    function: Registration,
    failure_handler: Option<Registration>,
    mocks: HashMap<String, Mock>,
    waits: HashMap<String, Option<Value>>,
    invokes: HashMap<String, Result<Value, SerializedError>>,
    max_calls: usize,
}

impl std::fmt::Debug for TestEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestEngine")
            .field("function", &self.function.definition.id)
            .finish_non_exhaustive()
    }
}

impl TestEngine {
    /// A test engine for the function `F`, with its `#[on_failure]` handler if it has one.
    pub fn new<F: Function>() -> TestEngine {
        let function = Registration::of::<F>();
        let failure_handler = inventory::iter::<Registration>
            .into_iter()
            .find(|r| matches!(r.definition.kind, Kind::FailureHandler { target } if target.is(F::DEFINITION)))
            .copied();
        TestEngine {
            function,
            failure_handler,
            mocks: HashMap::new(),
            waits: HashMap::new(),
            invokes: HashMap::new(),
            max_calls: 10_000,
        }
    }

    /// Answers the `step.run` named `id` with `mock` instead of running its code. The mock
    /// receives the call; an `Err` fails the step like an error from its code would.
    pub fn mock_step(
        mut self,
        id: &str,
        mock: impl Fn(&StepCall) -> Result<Value, SerializedError> + Send + Sync + 'static,
    ) -> Self {
        self.mocks.insert(id.to_owned(), Arc::new(mock));
        self
    }

    /// Resolves the `wait_for_event` named `id` with this event (`name`, `data`, ...).
    pub fn resolve_wait<E: Serialize>(mut self, id: &str, event: Event<E>) -> Self {
        let value = serde_json::to_value(event).unwrap_or(Value::Null);
        self.waits.insert(id.to_owned(), Some(value));
        self
    }

    /// Times out the `wait_for_event` named `id` (what happens to any wait not resolved).
    pub fn time_out_wait(mut self, id: &str) -> Self {
        self.waits.insert(id.to_owned(), None);
        self
    }

    /// Answers the invoke step named `id` with this output of the invoked function.
    pub fn stub_invoke(mut self, id: &str, output: impl Serialize) -> Self {
        let value = serde_json::to_value(output).unwrap_or(Value::Null);
        self.invokes.insert(id.to_owned(), Ok(value));
        self
    }

    /// Makes the invoke step named `id` fail with this error of the invoked function.
    pub fn fail_invoke(mut self, id: &str, error: SerializedError) -> Self {
        self.invokes.insert(id.to_owned(), Err(error));
        self
    }

    /// Runs the function with `event` until it completes or fails for good (and, when it
    /// fails, its failure handler).
    pub async fn run<E: Serialize>(&self, event: Event<E>) -> Outcome {
        let mut event = serde_json::to_value(event).unwrap_or(Value::Null);
        if let Some(map) = event.as_object_mut() {
            map.entry("id")
                .or_insert_with(|| Value::from(ulid::Ulid::new().to_string()));
            map.entry("ts").or_insert(Value::from(0));
            map.entry("user").or_insert_with(|| json!({}));
        }
        let mut outcome = self.drive(self.function, event.clone()).await;
        if outcome.status == RunStatus::Failed {
            if let Some(handler) = self.failure_handler {
                let fn_id = format!("test-{}", self.function.definition.id);
                let output = outcome.error.as_ref().map_or(Value::Null, |e| {
                    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                    v["error"] = Value::from("invalid status code: 500");
                    v
                });
                let run_id = ulid::Ulid::new().to_string();
                let data = finished_data(
                    &fn_id,
                    &run_id,
                    &event,
                    std::slice::from_ref(&event),
                    RunStatus::Failed,
                    &output,
                );
                let failed = json!({
                    "id": run_id, "name": "inngest/function.failed", "data": data, "user": {}, "ts": 0,
                });
                let handled = Box::pin(self.drive(handler, failed)).await;
                outcome.failure_handler = Some(Box::new(handled));
            }
        }
        outcome
    }

    /// One run: calls the function, acts on each answer, until it ends.
    async fn drive(&self, registration: Registration, event: Value) -> Outcome {
        let captured: Arc<Mutex<Vec<Value>>> = Arc::default();
        let mut app = App::new("test")
            .dev("http://127.0.0.1:9")
            .register_registration(registration)
            .with_client(Client::capturing(captured.clone()));
        let fn_id = match registration.definition.kind {
            Kind::FailureHandler { .. } => {
                // A failure handler is served beside the function it handles.
                app = app.register_registration(self.function);
                format!("test-{}-failure", self.function.definition.id)
            }
            _ => format!("test-{}", registration.definition.id),
        };
        let service = match app.into_service() {
            Ok(s) => s,
            Err(e) => return failed_outcome(format!("the function could not be served: {e}")),
        };
        let max_attempts = registration.definition.retries.unwrap_or(4) + 1;
        let mut steps: Map<String, Value> = Map::new();
        let mut stack: Vec<String> = Vec::new();
        let mut records = Vec::new();
        let mut retry_after = Vec::new();
        let mut queue: Vec<(String, u32)> = vec![("step".to_owned(), 0)];
        let mut function_attempts = 1;
        let mut calls = 0;
        while let Some((step_id, attempt)) = queue.pop() {
            calls += 1;
            if calls > self.max_calls {
                return failed_outcome(format!(
                    "the function did not end after {} calls",
                    self.max_calls
                ));
            }
            let body = json!({
                "event": event, "events": [event], "steps": steps, "version": 2, "use_api": false,
                "ctx": {
                    "fn_id": fn_id, "run_id": "test-run", "env": "", "step_id": step_id,
                    "attempt": attempt, "max_attempts": max_attempts,
                    "stack": {"stack": stack, "current": stack.len()},
                    // Every run step comes back planned, so mocks can take its place.
                    "disable_immediate_execution": true, "use_api": false,
                }
            });
            let (status, headers, body) = call(&service, &fn_id, &step_id, &body).await;
            if let Some(r) = headers.get("retry-after") {
                retry_after.push(r.clone());
            }
            let no_retry = headers
                .get("x-inngest-no-retry")
                .is_some_and(|v| v == "true");
            match status {
                200 => {
                    return Outcome {
                        status: RunStatus::Completed,
                        output: Some(body),
                        error: None,
                        attempts: function_attempts,
                        steps: records,
                        events_sent: captured.lock().unwrap_or_else(|p| p.into_inner()).clone(),
                        retry_after,
                        failure_handler: None,
                    }
                }
                206 => {
                    let ops = body.as_array().cloned().unwrap_or_default();
                    let mut planned = Vec::new();
                    for op in ops {
                        let id = op["id"].as_str().unwrap_or_default().to_owned();
                        let kind = op["op"].as_str().unwrap_or_default().to_owned();
                        let user = op["displayName"].as_str().unwrap_or(&id).to_owned();
                        let call = StepCall {
                            id: user.clone(),
                            op: kind.clone(),
                            opts: op["opts"].clone(),
                            attempt,
                        };
                        let error = op
                            .get("error")
                            .and_then(|e| serde_json::from_value(e.clone()).ok());
                        let (memo, record_output) = match kind.as_str() {
                            "StepPlanned" => match self.mocks.get(&user) {
                                Some(mock) => match mock(&call) {
                                    Ok(v) => (Some(json!({"data": v})), Some(v)),
                                    Err(e) => (Some(json!({"error": e})), None),
                                },
                                None => {
                                    planned.push((id.clone(), 0));
                                    continue;
                                }
                            },
                            "StepRun" => {
                                (Some(json!({"data": op["data"]})), Some(op["data"].clone()))
                            }
                            "StepError" if !no_retry && attempt + 1 < max_attempts => {
                                records.push(StepRecord {
                                    id: user,
                                    op: kind,
                                    attempt,
                                    output: None,
                                    error,
                                });
                                planned.push((step_id.clone(), attempt + 1));
                                continue;
                            }
                            "StepError" | "StepFailed" => {
                                (Some(json!({"error": op["error"]})), None)
                            }
                            "Sleep" => (Some(Value::Null), Some(op["opts"]["duration"].clone())),
                            "WaitForEvent" => {
                                let resolved = self
                                    .waits
                                    .get(&user)
                                    .cloned()
                                    .flatten()
                                    .unwrap_or(Value::Null);
                                (Some(resolved.clone()), Some(resolved))
                            }
                            "InvokeFunction" => match self.invokes.get(&user) {
                                Some(Ok(v)) => (Some(json!({"data": v})), Some(v.clone())),
                                Some(Err(e)) => (Some(json!({"error": e})), None),
                                None => {
                                    let e = json!({"name": "NoInvokeStub", "message": format!("no stub for the invoke step `{user}`: use TestEngine::stub_invoke")});
                                    (Some(json!({"error": e})), None)
                                }
                            },
                            _ => (None, None),
                        };
                        let op_name = if kind == "StepPlanned" {
                            "Mocked".to_owned()
                        } else {
                            kind
                        };
                        records.push(StepRecord {
                            id: user,
                            op: op_name,
                            attempt,
                            output: record_output,
                            error,
                        });
                        if let Some(memo) = memo {
                            steps.insert(id.clone(), memo);
                            stack.push(id);
                        }
                    }
                    // Run planned steps one at a time, in order; discovery follows.
                    queue.push(("step".to_owned(), 0));
                    queue.extend(planned.into_iter().rev());
                }
                _ => {
                    if !no_retry && attempt + 1 < max_attempts {
                        function_attempts += 1;
                        queue.push((step_id, attempt + 1));
                        continue;
                    }
                    let error =
                        serde_json::from_value(body.clone()).unwrap_or_else(|_| SerializedError {
                            name: "Error".into(),
                            message: body.to_string(),
                            stack: None,
                            cause: None,
                        });
                    return Outcome {
                        status: RunStatus::Failed,
                        output: None,
                        error: Some(error),
                        attempts: function_attempts,
                        steps: records,
                        events_sent: captured.lock().unwrap_or_else(|p| p.into_inner()).clone(),
                        retry_after,
                        failure_handler: None,
                    };
                }
            }
        }
        failed_outcome("the run ended without an answer".to_owned())
    }
}

fn failed_outcome(message: String) -> Outcome {
    Outcome {
        status: RunStatus::Failed,
        output: None,
        error: Some(SerializedError {
            name: "TestEngineError".into(),
            message,
            stack: None,
            cause: None,
        }),
        attempts: 0,
        steps: Vec::new(),
        events_sent: Vec::new(),
        retry_after: Vec::new(),
        failure_handler: None,
    }
}

/// One call request, in-process, through the engine's transport.
async fn call(
    service: &InngestService,
    fn_id: &str,
    step_id: &str,
    body: &Value,
) -> (u16, HashMap<String, String>, Value) {
    let url = format!("http://127.0.0.1/api/inngest?fnId={fn_id}&stepId={step_id}");
    let transport = InProcessTransport::new(service);
    match transport
        .call(url, serde_json::to_vec(body).unwrap_or_default())
        .await
    {
        Ok(res) => (
            res.status,
            res.headers,
            serde_json::from_slice(&res.body).unwrap_or(Value::Null),
        ),
        Err(e) => (
            500,
            HashMap::new(),
            json!({"name": "TestEngineError", "message": e}),
        ),
    }
}
