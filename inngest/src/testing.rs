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
//! It drives the same engine core that serves in embedded mode and in `inngest-engine`, on
//! virtual time: a day-long sleep, Inngest's retry backoff or a wait that times out after a
//! week take no time. Unlike the TypeScript SDK's test tool, it retries failed attempts, runs
//! failure handlers, and never hangs on an unmocked sleep or wait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use inngest_engine::core::CoreConfig;
use inngest_engine::{
    BoxFuture, Call, CallResponse, Happening, ServiceTransport, Simulation, Transport,
    TransportError,
};
use inngest_protocol::call::{CallRequest, DISCOVERY_STEP_ID};
use inngest_protocol::op::{InvokeFunctionOpts, Op, Opcode};
use serde::Serialize;
use serde_json::Value;

use crate::app::App;
use crate::client::{Client, EventSink};
use crate::error::Error;
use crate::function::{Function, Kind, Registration};
use crate::serving::handler::InngestService;
use crate::{Event, SerializedError};

pub use inngest_engine::RunStatus;

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
    /// The events the run received (`ctx.events`: a batch has many).
    pub events: Vec<Value>,
    /// When the run started, on the virtual clock, from the first event sent (a debounce, a
    /// throttle or a start time delays it).
    pub started_after: Duration,
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
    ///
    /// It answers the steps Inngest does itself too: a `step.fetch` (return the response as
    /// `{"status_code", "headers", "body"}`), an `ai().infer` (return the provider's answer),
    /// a `wait_for_signal` (return `{"signal", "data"}`, or `null` for a timeout).
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
    /// fails, its failure handler), on virtual time.
    pub async fn run<E: Serialize>(&self, event: Event<E>) -> Outcome {
        let mut runs = self.run_events(vec![(Duration::ZERO, event)]).await;
        if runs.is_empty() {
            let fn_id = format!("test-{}", self.function.definition.id);
            return failed_outcome(format!("the event did not start `{fn_id}`"));
        }
        runs.remove(0)
    }

    /// Sends `events` on virtual time, each `(delay, event)` the delay after the one before,
    /// and runs until everything is done: the outcomes of every run of the function, in the
    /// order they started, with the function's flow control in force (a debounce of 30 s,
    /// a throttle of a minute or a batch timeout take no wall time). A run skipped by a rate
    /// limit or a singleton is there with the status `Skipped`.
    pub async fn run_events<E: Serialize>(
        &self,
        events: Vec<(Duration, Event<E>)>,
    ) -> Vec<Outcome> {
        let mut values = Vec::with_capacity(events.len());
        for (delay, event) in events {
            match serde_json::to_value(event) {
                Ok(v) => values.push((delay, v)),
                Err(e) => {
                    return vec![failed_outcome(format!("the event does not serialize: {e}"))]
                }
            }
        }
        let captured = Arc::new(Capture::default());
        let mut app = App::new("test")
            .dev("http://127.0.0.1:9")
            .register_registration(self.function)
            .with_client(Client::with_sink(captured.clone()));
        if let Some(handler) = self.failure_handler {
            app = app.register_registration(handler);
        }
        let service = match app.into_service() {
            Ok(s) => s,
            Err(e) => {
                return vec![failed_outcome(format!(
                    "the function could not be served: {e}"
                ))]
            }
        };
        // A whole second, so that the times runs show (whole seconds) are exact offsets.
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let start = UNIX_EPOCH + Duration::from_secs(wall.as_secs());
        let mut sim = Simulation::new(CoreConfig::default(), start);
        if let Err(e) = sim.register(&service.register_request()) {
            return vec![failed_outcome(format!(
                "the function could not be synced: {e}"
            ))];
        }
        let transport = Intercept {
            sdk: ServiceTransport::new(service.clone()),
            test: Arc::new(self.clone()),
            seen: Arc::default(),
        };
        let mut at = start;
        for (delay, event) in values {
            at += delay;
            if let Err(e) = sim.run_until(&transport, at, self.max_calls).await {
                return vec![failed_outcome(e.to_string())];
            }
            // The test stands in for Inngest: it may send Inngest's own events too.
            if let Err(e) = sim.inject(vec![event]) {
                return vec![failed_outcome(format!("the event was refused: {e}"))];
            }
        }
        if let Err(e) = sim.run_until_idle(&transport, self.max_calls).await {
            return vec![failed_outcome(e.to_string())];
        }
        let fn_id = format!("test-{}", self.function.definition.id);
        let handler_id = format!("{fn_id}-failure");
        let (mut runs, mut handlers) = (Vec::new(), Vec::new());
        for h in sim.happenings() {
            let (run_id, function_id) = match h {
                Happening::RunStarted {
                    run_id,
                    function_id,
                    ..
                }
                | Happening::RunEnded {
                    run_id,
                    function_id,
                    ..
                } => (run_id, function_id),
                _ => continue,
            };
            let list = if *function_id == fn_id {
                &mut runs
            } else if *function_id == handler_id {
                &mut handlers
            } else {
                continue;
            };
            if !list.contains(run_id) {
                list.push(run_id.clone());
            }
        }
        let seen = lock(&transport.seen);
        runs.iter()
            .map(|run_id| {
                let mut outcome = outcome(&mut sim, run_id, &seen, &captured, start);
                // The failure handler of this run: the one whose event names it.
                let handler = handlers.iter().find(|h| {
                    sim.core()
                        .run_events(h)
                        .and_then(|e| e.first().cloned())
                        .is_some_and(|e| e["data"]["run_id"].as_str() == Some(run_id))
                });
                if let Some(handler) = handler {
                    outcome.failure_handler = Some(Box::new(outcome_of(
                        &mut sim, handler, &seen, &captured, start,
                    )));
                }
                outcome
            })
            .collect()
    }
}

/// What the interception saw of each run.
#[derive(Debug, Default)]
struct Seen {
    /// Steps answered by the test instead of the function, by hashed id: how to show them.
    replaced: HashMap<String, &'static str>,
    /// The highest attempt of a discovery call, by run.
    discovery_attempts: HashMap<String, u32>,
    /// `Retry-After` values, by run.
    retry_after: HashMap<String, Vec<String>>,
}

/// The function's answers as the engine sees them, with the test's mocks, wait resolutions
/// and invoke stubs in place of the steps they stand for.
struct Intercept {
    sdk: ServiceTransport<InngestService>,
    test: Arc<TestEngine>,
    seen: Arc<Mutex<Seen>>,
}

impl Transport for Intercept {
    fn call(&self, call: &Call) -> BoxFuture<Result<CallResponse, TransportError>> {
        // Every run step comes back planned, so that mocks can take its place.
        let mut call = call.clone();
        if let Ok(mut request) = serde_json::from_slice::<CallRequest>(&call.body) {
            request.ctx.disable_immediate_execution = true;
            call.body = Bytes::from(serde_json::to_vec(&request).unwrap_or_default());
        }
        if call.step_id == DISCOVERY_STEP_ID {
            let mut seen = lock(&self.seen);
            let max = seen
                .discovery_attempts
                .entry(call.run_id.clone())
                .or_default();
            *max = (*max).max(call.attempt);
        }
        let answer = self.sdk.call(&call);
        let (test, seen) = (self.test.clone(), self.seen.clone());
        Box::pin(async move {
            let res = answer.await?;
            Ok(rewrite(&test, &call, res, &seen))
        })
    }
}

/// Replaces the ops the test answers itself.
fn rewrite(
    test: &TestEngine,
    call: &Call,
    mut res: CallResponse,
    seen: &Mutex<Seen>,
) -> CallResponse {
    let mut seen = lock(seen);
    if let Some(after) = res.header("retry-after") {
        seen.retry_after
            .entry(call.run_id.clone())
            .or_default()
            .push(after.to_owned());
    }
    if res.status != 206 {
        return res;
    }
    let Ok(mut ops) = serde_json::from_slice::<Vec<Op>>(&res.body) else {
        return res;
    };
    for op in &mut ops {
        let user = op.label().to_owned();
        let replaced = match op.op {
            Opcode::StepPlanned | Opcode::Gateway | Opcode::AIGateway | Opcode::WaitForSignal => {
                test.mocks.get(&user).map(|mock| {
                    let step = StepCall {
                        id: user.clone(),
                        op: op.op.to_string(),
                        opts: op.opts.clone().unwrap_or(Value::Null),
                        attempt: call.attempt,
                    };
                    answer(op, mock(&step));
                    "Mocked"
                })
            }
            Opcode::WaitForEvent => test.waits.get(&user).and_then(|resolved| {
                let event = resolved.clone()?;
                op.op = Opcode::Step;
                op.data = Some(event);
                Some("WaitForEvent")
            }),
            Opcode::InvokeFunction => {
                let stub = test.invokes.get(&user).cloned().unwrap_or_else(|| {
                        let target = op
                            .opts_as::<InvokeFunctionOpts>()
                            .map(|o| o.function_id)
                            .unwrap_or_default();
                        Err(SerializedError {
                            name: "NoInvokeStub".into(),
                            message: format!(
                                "no stub for the invoke step `{user}` (of `{target}`): use TestEngine::stub_invoke"
                            ),
                            stack: None,
                            cause: None,
                            step_id: None,
                        })
                    });
                answer(op, stub);
                Some("InvokeFunction")
            }
            _ => None,
        };
        if let Some(label) = replaced {
            seen.replaced.insert(op.id.clone(), label);
        }
    }
    res.body = Bytes::from(serde_json::to_vec(&ops).unwrap_or_default());
    res
}

/// Turns `op` into the step's result: `StepRun` with its data, or `StepFailed` with its error.
fn answer(op: &mut Op, result: Result<Value, SerializedError>) {
    match result {
        Ok(data) => {
            op.op = Opcode::StepRun;
            op.data = Some(data);
        }
        Err(error) => {
            op.op = Opcode::StepFailed;
            op.error = serde_json::to_value(error).ok();
        }
    }
}

/// The events the function sent, captured instead of sent; ids are `test-event-<n>`.
#[derive(Default)]
struct Capture(Mutex<Vec<Value>>);

impl EventSink for Capture {
    fn deliver(&self, events: Vec<Value>) -> BoxFuture<Result<Vec<String>, Error>> {
        let mut all = lock(&self.0);
        let first = all.len();
        all.extend(events);
        let ids = (first..all.len())
            .map(|i| format!("test-event-{i}"))
            .collect();
        Box::pin(async move { Ok(ids) })
    }
}

/// How one run ended, with its steps.
fn outcome_of(
    sim: &mut Simulation,
    run_id: &str,
    seen: &Seen,
    captured: &Capture,
    start: SystemTime,
) -> Outcome {
    outcome(sim, run_id, seen, captured, start)
}

fn outcome(
    sim: &mut Simulation,
    run_id: &str,
    seen: &Seen,
    captured: &Capture,
    start: SystemTime,
) -> Outcome {
    let core = sim.core();
    let Some(run) = core.run(run_id) else {
        return failed_outcome(format!("the run `{run_id}` was not kept"));
    };
    let steps = core
        .run_history(run_id)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.op != Opcode::StepPlanned)
        .map(|r| {
            let op = seen
                .replaced
                .get(&r.id)
                .map_or_else(|| r.op.to_string(), |label| (*label).to_owned());
            let output = match r.op {
                Opcode::Sleep => r.opts.as_ref().map(|o| o["duration"].clone()),
                _ => r.output,
            };
            StepRecord {
                id: r.name,
                op,
                attempt: r.attempt,
                output,
                error: r.error.and_then(|e| serde_json::from_value(e).ok()),
            }
        })
        .collect();
    let events = core.run_events(run_id).unwrap_or_default();
    let (output, error) = match run.status {
        RunStatus::Completed => (run.output, None),
        _ => (
            None,
            run.output.map(|o| {
                serde_json::from_value(o.clone()).unwrap_or_else(|_| SerializedError {
                    name: "Error".into(),
                    message: o.to_string(),
                    stack: None,
                    cause: None,
                    step_id: None,
                })
            }),
        ),
    };
    Outcome {
        status: run.status,
        output,
        error,
        attempts: seen.discovery_attempts.get(run_id).map_or(1, |a| a + 1),
        steps,
        events_sent: lock(&captured.0).clone(),
        retry_after: seen.retry_after.get(run_id).cloned().unwrap_or_default(),
        failure_handler: None,
        events,
        started_after: inngest_protocol::time::parse_rfc3339(&run.run_started_at)
            .and_then(|t| t.duration_since(start).ok())
            .unwrap_or_default(),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
            step_id: None,
        }),
        attempts: 0,
        steps: Vec::new(),
        events_sent: Vec::new(),
        retry_after: Vec::new(),
        failure_handler: None,
        events: Vec::new(),
        started_after: Duration::ZERO,
    }
}
