//! The engine's pure core: a state machine over apps, functions, runs, queue items, pauses and
//! timers (style.md 16, "sans-I/O"). No sockets, no async runtime, no clock of its own.
//!
//! - **In**: syncs ([`Core::register`]), events ([`Core::send`]), signals
//!   ([`Core::signal`]), the answers to the calls it asked for ([`Core::call_finished`]) and
//!   to the HTTP requests it asked for ([`Core::fetch_finished`]), cancellations
//!   ([`Core::cancel`]), and the passing of time ([`Core::tick`]). Every input carries the
//!   current time.
//! - **Out**: [`Core::poll_output`] yields the calls to make, the HTTP requests to make for
//!   runs (`step.fetch`, `step.ai.infer`) and the timeline entries; [`Core::next_deadline`]
//!   says when the next timer is due.
//!
//! The async shell ([`crate::Engine`]) drives it on real time; [`crate::Simulation`] drives it
//! on virtual time (what `inngest::testing::TestEngine` uses), so a test's day-long sleep takes
//! no time.

mod answers;
mod cron;
mod event_log;
mod events;
mod expr;
mod gateway;
mod ops;
mod query;
mod queue;
mod registry;
mod runs;
mod signals;
mod timers;
mod types;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime};

use inngest_protocol::register::RegisterRequest;
use inngest_protocol::time::{from_unix_millis, unix_millis};
use serde_json::Value;

use event_log::EventLog;
use events::Pauses;
use expr::Expressions;
use gateway::Gateways;
use queue::{QueueItem, Ready};
use registry::Registry;
use runs::Run;
use signals::Signals;
use timers::{Timer, Timers};

pub use event_log::EventRecord;
pub use gateway::{Fetch, FetchId, FetchRequest, FetchResponse};
pub use query::{CancelError, FunctionRef, JobView, RunRef};
pub use registry::Synced;
pub use signals::SignalError;
pub use types::{
    AppView, Call, CallId, CallResponse, EventError, Happening, Output, RegisterError, RunStatus,
    RunView, StepRecord, TransportError,
};

/// How the core behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CoreConfig {
    /// Retry after this constant interval instead of the server's backoff table (the dev
    /// server's `--retry-interval`).
    pub retry_interval: Option<Duration>,
    /// How many finished runs are kept for the API (older ones are forgotten).
    pub max_finished_runs: usize,
    /// Whether retries get the server's 0-30 s of jitter (on by default).
    pub jitter: bool,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            retry_interval: None,
            max_finished_runs: 10_000,
            jitter: true,
        }
    }
}

impl CoreConfig {
    /// Retries after a constant `interval` (no jitter).
    pub fn with_retry_interval(mut self, interval: Option<Duration>) -> Self {
        self.retry_interval = interval;
        self
    }

    /// Keeps at most `n` finished runs.
    pub fn with_max_finished_runs(mut self, n: usize) -> Self {
        self.max_finished_runs = n;
        self
    }

    /// Turns the retry jitter on or off.
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }
}

/// The engine's state machine.
pub struct Core {
    config: CoreConfig,
    /// The latest time an input carried, in ms since the epoch (never goes back).
    now: u64,
    rng: fastrand::Rng,
    registry: Registry,
    runs: HashMap<String, Run>,
    /// Runs by the id of the event that started them.
    event_runs: HashMap<String, Vec<String>>,
    /// Finished runs, oldest first, for eviction.
    finished: VecDeque<String>,
    pauses: Pauses,
    timers: Timers,
    ready: Ready,
    in_flight: HashMap<CallId, QueueItem>,
    next_call: u64,
    /// Events the core emitted itself (lifecycle, invocations), processed in order after the
    /// input that caused them: nothing recurses.
    inbox: VecDeque<Value>,
    outputs: VecDeque<Output>,
    expressions: Expressions,
    /// The events received, for the API and the page.
    event_log: EventLog,
    /// Runs waiting for signals, by signal.
    signals: Signals,
    /// HTTP calls out for `step.fetch` and `step.ai.infer`.
    gateways: Gateways,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("functions", &self.registry.functions.len())
            .field("runs", &self.runs.len())
            .field("pauses", &self.pauses.len())
            .field("timers", &self.timers.len())
            .field("ready", &self.ready.len())
            .field("in_flight", &self.in_flight.len())
            .field("signals", &self.signals.len())
            .field("fetches", &self.gateways.len())
            .finish_non_exhaustive()
    }
}

impl Core {
    /// A core with no apps. `seed` seeds its randomness (ids, jitter), so a test can replay a
    /// run exactly.
    pub fn new(config: CoreConfig, seed: u64) -> Core {
        Core {
            config,
            now: 0,
            rng: fastrand::Rng::with_seed(seed),
            registry: Registry::default(),
            runs: HashMap::new(),
            event_runs: HashMap::new(),
            finished: VecDeque::new(),
            pauses: Pauses::default(),
            timers: Timers::default(),
            ready: Ready::default(),
            in_flight: HashMap::new(),
            next_call: 0,
            inbox: VecDeque::new(),
            outputs: VecDeque::new(),
            expressions: Expressions::default(),
            event_log: EventLog::default(),
            signals: Signals::default(),
            gateways: Gateways::default(),
        }
    }

    /// Syncs an app: its functions become exactly the ones in `request` (functions it no
    /// longer lists are removed). Nothing changes when the request is refused.
    pub fn register(
        &mut self,
        request: &RegisterRequest,
        now: SystemTime,
    ) -> Result<Synced, RegisterError> {
        self.advance_clock(now);
        let (app_id, app, functions) = self.registry.prepare(request, self.now)?;
        let crons: Vec<(String, u64, String, Option<u64>)> = functions
            .iter()
            .flat_map(|f| {
                f.crons.iter().map(|(spec, schedule)| {
                    (
                        f.config.id.clone(),
                        f.generation,
                        spec.clone(),
                        schedule.next_after(self.now),
                    )
                })
            })
            .collect();
        let synced = self.registry.commit(app_id, app, functions);
        for (function, generation, schedule, next) in crons {
            if let Some(at) = next {
                self.timers.add(
                    at,
                    Timer::Cron {
                        function,
                        generation,
                        schedule,
                    },
                );
            }
        }
        Ok(synced)
    }

    /// Removes an app and its functions (`DELETE /fn/remove`); `false` if it is unknown.
    pub fn remove_app(&mut self, app_id: &str) -> bool {
        self.registry.remove_app(app_id)
    }

    /// Receives events (`POST /e/{key}`): each starts the runs it triggers, resumes the waits
    /// it matches and cancels the runs it cancels. Returns their ids in order; nothing is
    /// received when one of them is refused.
    pub fn send(&mut self, events: Vec<Value>, now: SystemTime) -> Result<Vec<String>, EventError> {
        self.advance_clock(now);
        for (index, event) in events.iter().enumerate() {
            let Value::Object(map) = event else {
                return Err(EventError::NotAnObject { index });
            };
            if map
                .get("name")
                .and_then(Value::as_str)
                .is_none_or(|n| n.trim().is_empty())
            {
                return Err(EventError::NoName { index });
            }
        }
        let ids = events.into_iter().map(|e| self.receive(e)).collect();
        self.settle();
        Ok(ids)
    }

    /// Hands back the answer to a call the core asked for. An answer for a run that has
    /// ended since (cancelled, say) is dropped.
    pub fn call_finished(
        &mut self,
        id: CallId,
        answer: Result<CallResponse, TransportError>,
        now: SystemTime,
    ) {
        self.advance_clock(now);
        if let Some(item) = self.in_flight.remove(&id) {
            self.answer(item, answer);
        }
        self.settle();
    }

    /// Lets time pass: fires every timer due by `now`.
    pub fn tick(&mut self, now: SystemTime) {
        self.advance_clock(now);
        while let Some(timer) = self.timers.pop_due(self.now) {
            self.fire(timer);
        }
        self.settle();
    }

    /// Cancels a running run (`DELETE /v1/runs/{id}`); `false` if it is not running.
    pub fn cancel(&mut self, run_id: &str, now: SystemTime) -> bool {
        self.advance_clock(now);
        let running = self.is_running(run_id);
        if running {
            self.finish(run_id, RunStatus::Cancelled, Value::Null);
        }
        self.settle();
        running
    }

    /// The next thing to do: a call to make, an HTTP request to make for a run, or a
    /// timeline entry.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the next timer is due, if any.
    pub fn next_deadline(&self) -> Option<SystemTime> {
        self.timers.next().map(from_unix_millis)
    }

    /// When the next timer other than a cron tick is due: `None` once nothing is under way
    /// but cron schedules (what a simulation runs until).
    pub fn next_work_deadline(&self) -> Option<SystemTime> {
        self.timers.next_work().map(from_unix_millis)
    }

    /// How many calls were asked for and not answered yet.
    pub fn calls_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The slugs of the registered functions, sorted.
    pub fn function_ids(&self) -> Vec<String> {
        self.registry.functions.keys().cloned().collect()
    }

    /// The synced apps, sorted by id.
    pub fn apps(&self) -> Vec<AppView> {
        self.registry
            .apps
            .iter()
            .map(|(id, app)| AppView {
                id: id.clone(),
                url: app.url.clone(),
                sdk: app.sdk.clone(),
                functions: app.functions.clone(),
            })
            .collect()
    }

    fn advance_clock(&mut self, now: SystemTime) {
        self.now = self.now.max(unix_millis(now));
    }

    /// A new ULID at the core's time, from its randomness.
    fn new_id(&mut self) -> String {
        ulid::Ulid::from_parts(self.now, self.rng.u128(..)).to_string()
    }

    /// Processes what the last input caused: the events the core emitted, then the calls
    /// that are ready.
    fn settle(&mut self) {
        while let Some(event) = self.inbox.pop_front() {
            self.receive(event);
        }
        self.dispatch();
    }

    fn fire(&mut self, timer: Timer) {
        match timer {
            Timer::Enqueue(item) => {
                if self.is_running(&item.run_id) {
                    self.ready.push(item);
                }
            }
            Timer::Resume { run_id, step, memo } => self.resume(&run_id, &step, memo),
            Timer::ExpirePause { pause, .. } => self.pauses.remove(pause),
            Timer::Cron {
                function,
                generation,
                schedule,
            } => self.cron_tick(&function, generation, schedule),
        }
    }

    fn is_running(&self, run_id: &str) -> bool {
        self.runs
            .get(run_id)
            .is_some_and(|r| r.status == RunStatus::Running)
    }

    fn tell(&mut self, happening: Happening) {
        self.outputs.push_back(Output::Happening(happening));
    }
}
