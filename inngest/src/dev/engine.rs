//! The executor core: events in, runs out. It keeps runs and their memoized steps, calls the
//! SDK (discovery and targeted calls), and acts on the ops it gets back, the way the Inngest
//! server does (protocol.md sections 3, 7 and 8).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use tokio::sync::broadcast;

use super::expr;
use super::transport::{CallResponse, Transport};
use crate::timestr;

/// The server's retry backoff table; the last entry repeats.
const BACKOFF: [Duration; 12] = [
    Duration::from_secs(15),
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(120),
    Duration::from_secs(300),
    Duration::from_secs(600),
    Duration::from_secs(1800),
    Duration::from_secs(3600),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(6 * 3600),
    Duration::from_secs(12 * 3600),
    Duration::from_secs(24 * 3600),
];
/// Retries when a function sets none.
const DEFAULT_RETRIES: u32 = 4;
/// A year: the default for invoke and cancel timeouts.
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// How the engine behaves.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Linear backoff of this many seconds per attempt instead of the server's table
    /// (`INNGEST_RETRY_INTERVAL`).
    pub retry_interval: Option<Duration>,
    /// How many finished runs are kept for the REST API (older ones are forgotten).
    pub max_finished_runs: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            retry_interval: crate::app::config::var("INNGEST_RETRY_INTERVAL")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| *n >= 1)
                .map(Duration::from_secs),
            max_finished_runs: 10_000,
        }
    }
}

/// The status of a run, as the REST API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum RunStatus {
    /// Still going.
    Running,
    /// Returned a value.
    Completed,
    /// Failed for good.
    Failed,
    /// Cancelled.
    Cancelled,
}

/// What a run looks like from outside.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunView {
    /// The run's id.
    pub run_id: String,
    /// The composite id of its function.
    pub function_id: String,
    /// Its status.
    pub status: RunStatus,
    /// Its output, or its error once failed.
    pub output: Option<Value>,
    /// The id of the event that triggered it.
    pub event_id: String,
    /// When it started (RFC 3339).
    pub run_started_at: String,
    /// When it ended (RFC 3339).
    pub ended_at: Option<String>,
}

/// Something that happened, for timelines and tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Happening {
    /// An event was received.
    Event {
        /// Its id.
        id: String,
        /// Its name.
        name: String,
    },
    /// A run started.
    RunStarted {
        /// The run.
        run_id: String,
        /// Its function.
        function_id: String,
        /// The triggering event's name.
        event: String,
    },
    /// A step finished (`StepRun`) or failed (`StepError`/`StepFailed`).
    Step {
        /// The run.
        run_id: String,
        /// The step's id as the user wrote it.
        step: String,
        /// `StepRun`, `StepError`, `StepFailed`, `Sleep`, ...
        op: String,
        /// The 0-based attempt.
        attempt: u32,
    },
    /// A call failed and will be retried.
    Retrying {
        /// The run.
        run_id: String,
        /// The attempt that failed.
        attempt: u32,
        /// When the next one comes.
        delay: Duration,
        /// The error's message.
        error: String,
    },
    /// A run ended.
    RunEnded {
        /// The run.
        run_id: String,
        /// Its function.
        function_id: String,
        /// How.
        status: RunStatus,
        /// Its output or error.
        output: Value,
    },
}

/// A function the engine can run.
#[derive(Clone)]
struct EngineFn {
    id: String,
    crons: Vec<String>,
    /// Which registration this is; cron schedules of older ones stop.
    generation: u64,
    triggers: Vec<(String, Option<String>)>,
    cancel: Vec<(String, Option<String>, Duration)>,
    url: String,
    retries: u32,
    transport: Arc<dyn Transport>,
}

struct Run {
    id: String,
    fn_id: String,
    event: Value,
    events: Vec<Value>,
    steps: Map<String, Value>,
    stack: Vec<String>,
    status: RunStatus,
    output: Option<Value>,
    started: SystemTime,
    ended: Option<SystemTime>,
    /// Planned steps still out (request version 2 coalesces discovery until none are).
    pending: HashSet<String>,
    disable_immediate: bool,
    /// The version stored from the SDK's first generator response.
    version: i64,
    /// Invoked runs carry the parent's correlation id.
    correlation_id: Option<String>,
    /// Triggered by one of Inngest's own lifecycle events (`inngest/function.failed`,
    /// `.finished`, `.cancelled`): its end emits no lifecycle event of its own.
    internal: bool,
}

struct Pause {
    run_id: String,
    step: String,
    event: String,
    expression: Option<String>,
    /// For invokes: the correlation id the finished event must carry.
    correlation: Option<String>,
}

#[derive(Default)]
struct State {
    functions: Vec<EngineFn>,
    runs: HashMap<String, Run>,
    event_runs: HashMap<String, Vec<String>>,
    finished: VecDeque<String>,
    pauses: Vec<Pause>,
}

/// The engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    /// Signs calls to apps registered over HTTP.
    signing_key: Mutex<Option<String>>,
    state: Mutex<State>,
    config: EngineConfig,
    happenings: broadcast::Sender<Happening>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

enum Job {
    Call {
        run_id: String,
        step_id: String,
        attempt: u32,
    },
    Resume {
        run_id: String,
        step: String,
        memo: Value,
    },
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(EngineConfig::default())
    }
}

impl Engine {
    /// A new engine with no functions.
    pub fn new(config: EngineConfig) -> Engine {
        let (happenings, _) = broadcast::channel(1024);
        Engine {
            inner: Arc::new(Inner {
                signing_key: Mutex::new(None),
                state: Mutex::new(State::default()),
                config,
                happenings,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Signs the calls to apps that register over HTTP with this key, as Inngest Cloud does
    /// (the apps then run in cloud mode with the same `INNGEST_SIGNING_KEY`).
    pub fn set_signing_key(&self, key: impl Into<String>) {
        *self
            .inner
            .signing_key
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(key.into());
    }

    /// The transport for an app registering over HTTP: signed when a key is set.
    pub(crate) fn http_transport(&self) -> super::HttpTransport {
        match self
            .inner
            .signing_key
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            Some(key) => super::HttpTransport::signed(key),
            None => super::HttpTransport::default(),
        }
    }

    /// Everything that happens from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Happening> {
        self.inner.happenings.subscribe()
    }

    fn tell(&self, h: Happening) {
        let _ = self.inner.happenings.send(h);
    }

    /// Registers an app's functions from a register payload (`POST /fn/register`), called
    /// through `transport`. An app registering again replaces its functions.
    pub fn register(
        &self,
        payload: &Value,
        transport: Arc<dyn Transport>,
    ) -> Result<usize, String> {
        let functions = payload["functions"]
            .as_array()
            .ok_or("the register payload has no `functions` array")?;
        let generation = GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut parsed = Vec::new();
        for f in functions {
            let id = f["id"].as_str().ok_or("a function has no `id`")?.to_owned();
            let step = f["steps"]
                .as_object()
                .and_then(|s| s.values().next())
                .ok_or_else(|| format!("the function `{id}` has no step"))?;
            let url = step["runtime"]["url"]
                .as_str()
                .ok_or_else(|| format!("the function `{id}` has no step URL"))?
                .to_owned();
            let retries = step["retries"]["attempts"]
                .as_u64()
                .map_or(DEFAULT_RETRIES, |n| n.min(20) as u32);
            let triggers = f["triggers"]
                .as_array()
                .map(|ts| {
                    ts.iter()
                        .filter_map(|t| {
                            Some((
                                t["event"].as_str()?.to_owned(),
                                t["expression"].as_str().map(str::to_owned),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let cancel = f["cancel"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| {
                            let timeout = c["timeout"]
                                .as_str()
                                .and_then(|t| timestr::parse(t).ok())
                                .unwrap_or(YEAR);
                            Some((
                                c["event"].as_str()?.to_owned(),
                                c["if"].as_str().map(str::to_owned),
                                timeout,
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let crons = f["triggers"]
                .as_array()
                .map(|ts| {
                    ts.iter()
                        .filter_map(|t| t["cron"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            parsed.push(EngineFn {
                id,
                crons,
                generation,
                triggers,
                cancel,
                url,
                retries,
                transport: transport.clone(),
            });
        }
        let count = parsed.len();
        let scheduled: Vec<EngineFn> = parsed
            .iter()
            .filter(|f| !f.crons.is_empty())
            .cloned()
            .collect();
        {
            let mut st = self.state();
            let ids: HashSet<String> = parsed.iter().map(|f| f.id.clone()).collect();
            st.functions.retain(|f| !ids.contains(&f.id));
            st.functions.extend(parsed);
        }
        for f in scheduled {
            for schedule in &f.crons {
                self.schedule_cron(f.clone(), schedule.clone());
            }
        }
        Ok(count)
    }

    /// Receives events (as `POST /e/{key}` does); returns their ids in order.
    pub fn send(&self, events: Vec<Value>) -> Vec<String> {
        events.into_iter().map(|e| self.receive(e)).collect()
    }

    fn receive(&self, mut event: Value) -> String {
        let id = event["id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| ulid::Ulid::new().to_string());
        if let Some(map) = event.as_object_mut() {
            map.insert("id".into(), Value::from(id.clone()));
            map.entry("ts").or_insert_with(|| Value::from(now_ms()));
            map.entry("user").or_insert_with(|| json!({}));
            map.entry("data").or_insert_with(|| json!({}));
        }
        let name = event["name"].as_str().unwrap_or_default().to_owned();
        self.tell(Happening::Event {
            id: id.clone(),
            name: name.clone(),
        });
        self.resume_pauses(&name, &event);
        self.cancel_matching(&name, &event);
        let targets: Vec<EngineFn> = if name == "inngest/scheduled.timer" {
            Vec::new() // cron runs are started by their schedules, not by this event
        } else {
            let st = self.state();
            if name == "inngest/function.invoked" {
                let fn_id = event["data"]["_inngest"]["fn_id"]
                    .as_str()
                    .unwrap_or_default();
                st.functions
                    .iter()
                    .filter(|f| f.id == fn_id)
                    .cloned()
                    .collect()
            } else {
                st.functions
                    .iter()
                    .filter(|f| {
                        f.triggers.iter().any(|(n, expression)| {
                            *n == name
                                && expression
                                    .as_deref()
                                    .is_none_or(|x| expr::holds(x, &event, None))
                        })
                    })
                    .cloned()
                    .collect()
            }
        };
        for f in targets {
            self.start_run(&f, &event);
        }
        id
    }

    /// Fires `inngest/scheduled.timer` runs of `f` on its schedule, until `f` is registered
    /// again or the runtime stops.
    fn schedule_cron(&self, f: EngineFn, schedule: String) {
        let cron = match parse_cron(&schedule) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(function = %f.id, %schedule, error = %e, "a cron schedule does not parse; it will not fire");
                return;
            }
        };
        let engine = self.clone();
        tokio::spawn(async move {
            loop {
                let now = chrono::Utc::now();
                let Ok(next) = cron.find_next_occurrence(&now, false) else {
                    return;
                };
                let wait = (next - now).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                let current = engine
                    .state()
                    .functions
                    .iter()
                    .any(|g| g.id == f.id && g.generation == f.generation);
                if !current {
                    return;
                }
                let id = ulid::Ulid::new().to_string();
                let event = json!({
                    "id": id, "name": "inngest/scheduled.timer", "data": {"cron": schedule},
                    "user": {}, "ts": now_ms(),
                });
                engine.tell(Happening::Event {
                    id,
                    name: "inngest/scheduled.timer".into(),
                });
                engine.start_run(&f, &event);
            }
        });
    }

    fn start_run(&self, f: &EngineFn, event: &Value) {
        let run_id = ulid::Ulid::new().to_string();
        let name = event["name"].as_str().unwrap_or_default();
        let internal = matches!(
            name,
            "inngest/function.failed" | "inngest/function.finished" | "inngest/function.cancelled"
        );
        let correlation_id = event["data"]["_inngest"]["correlation_id"]
            .as_str()
            .map(str::to_owned);
        {
            let mut st = self.state();
            let event_id = event["id"].as_str().unwrap_or_default().to_owned();
            st.event_runs
                .entry(event_id)
                .or_default()
                .push(run_id.clone());
            st.runs.insert(
                run_id.clone(),
                Run {
                    id: run_id.clone(),
                    fn_id: f.id.clone(),
                    event: event.clone(),
                    events: vec![event.clone()],
                    steps: Map::new(),
                    stack: Vec::new(),
                    status: RunStatus::Running,
                    output: None,
                    started: SystemTime::now(),
                    ended: None,
                    pending: HashSet::new(),
                    disable_immediate: false,
                    version: -1,
                    correlation_id,
                    internal,
                },
            );
        }
        self.tell(Happening::RunStarted {
            run_id: run_id.clone(),
            function_id: f.id.clone(),
            event: name.to_owned(),
        });
        self.discover(&run_id);
    }

    /// Calls the function for discovery (`stepId=step`), attempt 0.
    fn discover(&self, run_id: &str) {
        self.schedule(
            Duration::ZERO,
            Job::Call {
                run_id: run_id.to_owned(),
                step_id: "step".into(),
                attempt: 0,
            },
        );
    }

    fn schedule(&self, delay: Duration, job: Job) {
        let engine = self.clone();
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            match job {
                Job::Call {
                    run_id,
                    step_id,
                    attempt,
                } => engine.call(run_id, step_id, attempt).await,
                Job::Resume { run_id, step, memo } => engine.resume(&run_id, &step, memo),
            }
        });
    }

    /// Stores a memo for a step that Inngest itself finished (a sleep, a wait, an invoke) and
    /// calls the function again.
    fn resume(&self, run_id: &str, step: &str, memo: Value) {
        let discover = {
            let mut st = self.state();
            let Some(run) = st.runs.get_mut(run_id) else {
                return;
            };
            if run.status != RunStatus::Running || !run.pending.remove(step) {
                return;
            }
            run.steps.insert(step.to_owned(), memo);
            run.stack.push(step.to_owned());
            st.pauses
                .retain(|p| !(p.run_id == run_id && p.step == step));
            let run = st.runs.get_mut(run_id).expect("checked above");
            if run.pending.is_empty() {
                run.disable_immediate = false;
                true
            } else {
                false
            }
        };
        if discover {
            self.discover(run_id);
        }
    }

    async fn call(&self, run_id: String, step_id: String, attempt: u32) {
        let (body, url, transport, max_attempts) = {
            let st = self.state();
            let Some(run) = st.runs.get(&run_id) else {
                return;
            };
            if run.status != RunStatus::Running {
                return;
            }
            let Some(f) = st.functions.iter().find(|f| f.id == run.fn_id) else {
                drop(st);
                self.finish(
                    &run_id,
                    RunStatus::Failed,
                    json!({"name": "Error", "message": "the function is no longer registered"}),
                );
                return;
            };
            let max_attempts = f.retries + 1;
            let body = json!({
                "event": run.event,
                "events": run.events,
                "steps": run.steps,
                "version": run.version,
                "use_api": false,
                "ctx": {
                    "fn_id": run.fn_id,
                    "run_id": run.id,
                    "env": "",
                    "step_id": step_id,
                    "attempt": attempt,
                    "max_attempts": max_attempts,
                    "stack": {"stack": run.stack, "current": run.stack.len()},
                    "disable_immediate_execution": run.disable_immediate,
                    "use_api": false,
                }
            });
            let mut url = url::Url::parse(&f.url).ok();
            if let Some(u) = url.as_mut() {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .filter(|(k, _)| k != "stepId" && k != "step")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                u.query_pairs_mut()
                    .clear()
                    .extend_pairs(pairs)
                    .append_pair("stepId", &step_id);
            }
            let url = url.map_or_else(|| f.url.clone(), |u| u.to_string());
            (
                serde_json::to_vec(&body).unwrap_or_default(),
                url,
                f.transport.clone(),
                max_attempts,
            )
        };
        let answer = transport.call(url, body).await;
        self.handle(&run_id, &step_id, attempt, max_attempts, answer);
    }

    fn handle(
        &self,
        run_id: &str,
        step_id: &str,
        attempt: u32,
        max_attempts: u32,
        answer: Result<CallResponse, String>,
    ) {
        let res = match answer {
            Ok(r) => r,
            Err(e) => {
                let error = json!({"name": "Error", "message": e, "error": e});
                return self.retry_or_fail(
                    run_id,
                    step_id,
                    attempt,
                    max_attempts,
                    None,
                    error,
                    false,
                );
            }
        };
        let no_retry = res.headers.get("x-inngest-no-retry").map(|v| v == "true");
        let retry_after = res
            .headers
            .get("retry-after")
            .and_then(|v| parse_retry_after(v));
        if !res.headers.contains_key("x-inngest-sdk") && res.status != 206 {
            let error = json!({"name": "Server returned a fatal error", "message": "the response does not come from an Inngest SDK", "stack": String::from_utf8_lossy(&res.body)});
            return self.retry_or_fail(
                run_id,
                step_id,
                attempt,
                max_attempts,
                retry_after,
                error,
                false,
            );
        }
        if let Some(v) = res
            .headers
            .get("x-inngest-req-version")
            .and_then(|v| v.parse::<i64>().ok())
        {
            if let Some(run) = self.state().runs.get_mut(run_id) {
                if run.version == -1 {
                    run.version = v;
                }
            }
        }
        let body: Value = serde_json::from_slice(&res.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&res.body).into_owned()));
        match res.status {
            200 => self.finish(run_id, RunStatus::Completed, body),
            206 => {
                let ops = match body {
                    Value::Array(ops) => ops,
                    single @ Value::Object(_) => vec![single],
                    _ => Vec::new(),
                };
                self.apply_ops(
                    run_id,
                    step_id,
                    attempt,
                    max_attempts,
                    ops,
                    no_retry == Some(true),
                    retry_after,
                );
            }
            status => {
                let status_text = format!("invalid status code: {status}");
                let mut error = match body {
                    Value::Object(map) => Value::Object(map),
                    other => json!({"name": "Error", "message": other}),
                };
                if let Some(map) = error.as_object_mut() {
                    map.entry("name").or_insert_with(|| Value::from("Error"));
                    map.insert("error".into(), Value::from(status_text));
                }
                self.retry_or_fail(
                    run_id,
                    step_id,
                    attempt,
                    max_attempts,
                    retry_after,
                    error,
                    no_retry == Some(true),
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn retry_or_fail(
        &self,
        run_id: &str,
        step_id: &str,
        attempt: u32,
        max_attempts: u32,
        retry_after: Option<Duration>,
        error: Value,
        no_retry: bool,
    ) {
        if !no_retry && attempt + 1 < max_attempts {
            let delay = retry_after.unwrap_or_else(|| self.backoff(attempt));
            self.tell(Happening::Retrying {
                run_id: run_id.to_owned(),
                attempt,
                delay,
                error: error["message"]
                    .as_str()
                    .map_or_else(|| error.to_string(), str::to_owned),
            });
            self.schedule(
                delay,
                Job::Call {
                    run_id: run_id.to_owned(),
                    step_id: step_id.to_owned(),
                    attempt: attempt + 1,
                },
            );
        } else {
            self.finish(run_id, RunStatus::Failed, error);
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        if let Some(interval) = self.inner.config.retry_interval {
            return interval * (attempt + 1);
        }
        let base = BACKOFF[(attempt as usize).min(BACKOFF.len() - 1)];
        base + base.mul_f64(fastrand::f64() * 0.1)
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_ops(
        &self,
        run_id: &str,
        step_id: &str,
        attempt: u32,
        max_attempts: u32,
        ops: Vec<Value>,
        no_retry: bool,
        retry_after: Option<Duration>,
    ) {
        let many = ops.len() > 1;
        let mut discover = false;
        let mut later: Vec<(Duration, Job)> = Vec::new();
        let mut invoked: Vec<Value> = Vec::new();
        let mut done: Option<Value> = None;
        let mut failed_step: Option<Value> = None;
        {
            let mut st = self.state();
            let Some(run) = st.runs.get_mut(run_id) else {
                return;
            };
            if run.status != RunStatus::Running {
                return;
            }
            if many {
                run.disable_immediate = true;
            }
            let mut pauses = Vec::new();
            for op in &ops {
                let id = op["id"].as_str().unwrap_or_default().to_owned();
                let kind = op["op"].as_str().unwrap_or_default().to_owned();
                let user = op["displayName"]
                    .as_str()
                    .or(op["name"].as_str())
                    .unwrap_or(&id)
                    .to_owned();
                let _ = self.inner.happenings.send(Happening::Step {
                    run_id: run_id.to_owned(),
                    step: user,
                    op: kind.clone(),
                    attempt,
                });
                match kind.to_ascii_lowercase().as_str() {
                    "steprun" | "step" => {
                        let memo = if kind.eq_ignore_ascii_case("step") {
                            op["data"].clone()
                        } else {
                            json!({"data": op["data"]})
                        };
                        run.steps.insert(id.clone(), memo);
                        run.stack.push(id.clone());
                        run.pending.remove(&id);
                        discover = true;
                    }
                    "stepfailed" => {
                        run.steps.insert(id.clone(), json!({"error": op["error"]}));
                        run.stack.push(id.clone());
                        run.pending.remove(&id);
                        discover = true;
                    }
                    "steperror" => {
                        if no_retry || attempt + 1 >= max_attempts {
                            run.steps.insert(id.clone(), json!({"error": op["error"]}));
                            run.stack.push(id.clone());
                            run.pending.remove(&id);
                            discover = true;
                        } else {
                            failed_step = Some(op["error"].clone());
                        }
                    }
                    "stepplanned" => {
                        run.pending.insert(id.clone());
                        later.push((
                            Duration::ZERO,
                            Job::Call {
                                run_id: run_id.to_owned(),
                                step_id: id,
                                attempt: 0,
                            },
                        ));
                    }
                    "sleep" => {
                        let spec = op["opts"]["duration"]
                            .as_str()
                            .or(op["name"].as_str())
                            .unwrap_or("0s");
                        let delay = sleep_delay(spec);
                        run.pending.insert(id.clone());
                        later.push((
                            delay,
                            Job::Resume {
                                run_id: run_id.to_owned(),
                                step: id,
                                memo: Value::Null,
                            },
                        ));
                    }
                    "waitforevent" => {
                        let event = op["opts"]["event"]
                            .as_str()
                            .or(op["name"].as_str())
                            .unwrap_or_default()
                            .to_owned();
                        let timeout = op["opts"]["timeout"]
                            .as_str()
                            .map_or(Duration::ZERO, sleep_delay);
                        run.pending.insert(id.clone());
                        pauses.push(Pause {
                            run_id: run_id.to_owned(),
                            step: id.clone(),
                            event,
                            expression: op["opts"]["if"].as_str().map(str::to_owned),
                            correlation: None,
                        });
                        later.push((
                            timeout,
                            Job::Resume {
                                run_id: run_id.to_owned(),
                                step: id,
                                memo: Value::Null,
                            },
                        ));
                    }
                    "invokefunction" => {
                        let correlation = format!("{run_id}.{id}");
                        let timeout = op["opts"]["timeout"].as_str().map_or(YEAR, sleep_delay);
                        let mut data = op["opts"]["payload"]["data"].clone();
                        if !data.is_object() {
                            data = json!({});
                        }
                        data["_inngest"] = json!({
                            "fn_id": op["opts"]["function_id"], "correlation_id": correlation,
                            "source_fn_id": run.fn_id,
                        });
                        invoked.push(json!({"name": "inngest/function.invoked", "data": data}));
                        run.pending.insert(id.clone());
                        pauses.push(Pause {
                            run_id: run_id.to_owned(),
                            step: id.clone(),
                            event: "inngest/function.finished".into(),
                            expression: None,
                            correlation: Some(correlation),
                        });
                        let memo = json!({"error": {"name": "InngestInvokeTimeoutError", "message": "Timed out waiting for invoked function to complete"}});
                        later.push((
                            timeout,
                            Job::Resume {
                                run_id: run_id.to_owned(),
                                step: id,
                                memo,
                            },
                        ));
                    }
                    "runcomplete" => done = Some(op["data"].clone()),
                    _ => {}
                }
            }
            if discover && !run.pending.is_empty() {
                // Request version 2: one discovery once every parallel branch is done.
                discover = false;
            } else if discover {
                run.disable_immediate = false;
            }
            st.pauses.extend(pauses);
        }
        if let Some(output) = done {
            return self.finish(run_id, RunStatus::Completed, output);
        }
        if let Some(error) = failed_step {
            return self.retry_or_fail_step(run_id, step_id, attempt, retry_after, error);
        }
        for (delay, job) in later {
            self.schedule(delay, job);
        }
        if discover {
            self.discover(run_id);
        }
        for event in invoked {
            self.receive(event);
        }
    }

    fn retry_or_fail_step(
        &self,
        run_id: &str,
        step_id: &str,
        attempt: u32,
        retry_after: Option<Duration>,
        error: Value,
    ) {
        let delay = retry_after.unwrap_or_else(|| self.backoff(attempt));
        self.tell(Happening::Retrying {
            run_id: run_id.to_owned(),
            attempt,
            delay,
            error: error["message"].as_str().unwrap_or_default().to_owned(),
        });
        self.schedule(
            delay,
            Job::Call {
                run_id: run_id.to_owned(),
                step_id: step_id.to_owned(),
                attempt: attempt + 1,
            },
        );
    }

    fn resume_pauses(&self, name: &str, event: &Value) {
        let resumed: Vec<(String, String, Value)> = {
            let st = self.state();
            st.pauses
                .iter()
                .filter(|p| p.event == name)
                .filter(|p| match &p.correlation {
                    Some(c) => event["data"]["correlation_id"].as_str() == Some(c.as_str()),
                    None => {
                        let run_event = st
                            .runs
                            .get(&p.run_id)
                            .map(|r| r.event.clone())
                            .unwrap_or(Value::Null);
                        p.expression
                            .as_deref()
                            .is_none_or(|x| expr::holds(x, &run_event, Some(event)))
                    }
                })
                .map(|p| {
                    let memo = match &p.correlation {
                        Some(_) if event["data"].get("error").is_some_and(|e| !e.is_null()) => {
                            json!({"error": event["data"]["error"]})
                        }
                        Some(_) if event["data"].get("result").is_some() => {
                            json!({"data": event["data"]["result"]})
                        }
                        Some(_) => event["data"].clone(),
                        None => event.clone(),
                    };
                    (p.run_id.clone(), p.step.clone(), memo)
                })
                .collect()
        };
        for (run_id, step, memo) in resumed {
            self.resume(&run_id, &step, memo);
        }
    }

    fn cancel_matching(&self, name: &str, event: &Value) {
        let doomed: Vec<String> = {
            let st = self.state();
            st.runs
                .values()
                .filter(|r| r.status == RunStatus::Running)
                .filter(|r| {
                    st.functions
                        .iter()
                        .find(|f| f.id == r.fn_id)
                        .is_some_and(|f| {
                            f.cancel.iter().any(|(n, x, timeout)| {
                                *n == name
                                    && r.started.elapsed().unwrap_or_default() <= *timeout
                                    && x.as_deref()
                                        .is_none_or(|x| expr::holds(x, &r.event, Some(event)))
                            })
                        })
                })
                .map(|r| r.id.clone())
                .collect()
        };
        for id in doomed {
            self.cancel(&id);
        }
    }

    /// Cancels a running run (as `DELETE /v1/runs/{id}` does); `false` if it is not running.
    pub fn cancel(&self, run_id: &str) -> bool {
        let running = self
            .state()
            .runs
            .get(run_id)
            .is_some_and(|r| r.status == RunStatus::Running);
        if running {
            self.finish(run_id, RunStatus::Cancelled, Value::Null);
        }
        running
    }

    /// Ends a run and emits what the server emits (protocol.md 7.3).
    fn finish(&self, run_id: &str, status: RunStatus, output: Value) {
        let (fn_id, data, internal, emit_failed) = {
            let mut st = self.state();
            let Some(run) = st.runs.get_mut(run_id) else {
                return;
            };
            if run.status != RunStatus::Running {
                return;
            }
            run.status = status;
            run.ended = Some(SystemTime::now());
            run.output = Some(output.clone());
            run.pending.clear();
            let mut data = finished_data(
                &run.fn_id,
                &run.id,
                &run.event,
                &run.events,
                status,
                &output,
            );
            if let Some(c) = &run.correlation_id {
                data["correlation_id"] = Value::from(c.clone());
            }
            let (fn_id, internal) = (run.fn_id.clone(), run.internal);
            st.pauses.retain(|p| p.run_id != run_id);
            st.finished.push_back(run_id.to_owned());
            while st.finished.len() > self.inner.config.max_finished_runs {
                if let Some(old) = st.finished.pop_front() {
                    st.runs.remove(&old);
                }
            }
            (fn_id, data, internal, status == RunStatus::Failed)
        };
        self.tell(Happening::RunEnded {
            run_id: run_id.to_owned(),
            function_id: fn_id,
            status,
            output,
        });
        if internal {
            return;
        }
        // The failure event's id is the run's id, so it is deduplicated (protocol.md 7.3).
        if emit_failed {
            self.receive(
                json!({"id": run_id, "name": "inngest/function.failed", "data": data.clone()}),
            );
        }
        if status == RunStatus::Cancelled {
            let mut cancelled = data.clone();
            if let Some(m) = cancelled.as_object_mut() {
                m.remove("error");
                m.remove("result");
            }
            self.receive(json!({"id": ulid::Ulid::new().to_string(), "name": "inngest/function.cancelled", "data": cancelled}));
        }
        self.receive(
            json!({"id": ulid::Ulid::new().to_string(), "name": "inngest/function.finished", "data": data}),
        );
    }

    /// A run, as the REST API shows it.
    pub fn run(&self, run_id: &str) -> Option<RunView> {
        self.state().runs.get(run_id).map(view)
    }

    /// The runs an event triggered.
    pub fn runs_for_event(&self, event_id: &str) -> Vec<RunView> {
        let st = self.state();
        st.event_runs
            .get(event_id)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| st.runs.get(id))
                    .map(view)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many runs are kept (running and finished).
    pub fn runs_kept(&self) -> usize {
        self.state().runs.len()
    }

    /// The composite ids of the registered functions.
    pub fn function_ids(&self) -> Vec<String> {
        self.state()
            .functions
            .iter()
            .map(|f| f.id.clone())
            .collect()
    }
}

/// The data of `inngest/function.finished` (and `.failed`) for a run that ended (protocol.md
/// 7.3): `result` on success, `error` (`{error, name, message, stack?, cause?}`) and the raw
/// `result` on failure, and `_inngest.status`.
pub(crate) fn finished_data(
    fn_id: &str,
    run_id: &str,
    event: &Value,
    events: &[Value],
    status: RunStatus,
    output: &Value,
) -> Value {
    let mut data = json!({
        "function_id": fn_id,
        "run_id": run_id,
        "event": event,
        "events": events,
        "_inngest": {"status": format!("{status:?}")},
    });
    match status {
        RunStatus::Completed => data["result"] = output.clone(),
        RunStatus::Failed => {
            let mut error = json!({
                "error": output.get("error").cloned().unwrap_or_else(|| Value::from(output["name"].as_str().unwrap_or("Error"))),
                "name": output.get("name").cloned().unwrap_or_else(|| Value::from("Error")),
                "message": output.get("message").cloned().unwrap_or_else(|| Value::from("Function execution error")),
            });
            for key in ["stack", "cause"] {
                if let Some(v) = output.get(key).filter(|v| !v.is_null()) {
                    error[key] = v.clone();
                }
            }
            data["error"] = error;
            data["result"] = output.clone();
        }
        _ => {}
    }
    data
}

fn view(r: &Run) -> RunView {
    RunView {
        run_id: r.id.clone(),
        function_id: r.fn_id.clone(),
        status: r.status,
        output: r.output.clone(),
        event_id: r.event["id"].as_str().unwrap_or_default().to_owned(),
        run_started_at: inngest_protocol::time::rfc3339(r.started),
        ended_at: r.ended.map(inngest_protocol::time::rfc3339),
    }
}

static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A five-field cron schedule, with an optional `TZ=<zone> ` prefix (the zone is not applied:
/// the engine fires in UTC).
fn parse_cron(schedule: &str) -> Result<croner::Cron, String> {
    let fields = match schedule.trim().split_once(' ') {
        Some((tz, rest)) if tz.starts_with("TZ=") || tz.starts_with("CRON_TZ=") => rest,
        _ => schedule.trim(),
    };
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .build()
        .parse(fields)
        .map_err(|e| e.to_string())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A sleep or timeout: a time string, or an RFC 3339 time (a past time means now).
fn sleep_delay(spec: &str) -> Duration {
    if let Ok(d) = timestr::parse(spec) {
        return d;
    }
    inngest_protocol::time::parse_rfc3339(spec)
        .and_then(|t| t.duration_since(SystemTime::now()).ok())
        .unwrap_or(Duration::ZERO)
}

/// `Retry-After`: seconds when 7 characters or fewer, else a date; clamped to [1 s, 24 h].
fn parse_retry_after(v: &str) -> Option<Duration> {
    let d = if v.len() <= 7 {
        Duration::from_secs(v.trim().parse().ok()?)
    } else {
        inngest_protocol::time::parse_rfc3339(v)?
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    };
    Some(d.clamp(Duration::from_secs(1), Duration::from_secs(24 * 3600)))
}
