//! The engine's pure core: a state machine over apps, functions, runs, queue items, pauses and
//! timers (style.md 16, "sans-I/O"). No sockets, no async runtime, no clock of its own.
//!
//! - **In**: syncs ([`Core::register`]), events ([`Core::send`]), signals
//!   ([`Core::signal`]), the steps an SDK ran inside a call ([`Core::checkpoint`]), the answers to the calls it asked for ([`Core::call_finished`]) and
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
mod checkpoint;
mod cron;
mod event_log;
mod events;
mod expr;
mod flow;
mod gateway;
mod limits;
mod ops;
mod persist;
mod query;
mod queue;
mod registry;
mod runs;
mod signals;
mod timers;
mod tracked;
mod types;
mod validate;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime};
use tracked::TrackedMap;

use inngest_protocol::register::RegisterRequest;
use inngest_protocol::time::{from_unix_millis, unix_millis};
use serde_json::Value;

use event_log::EventLog;
pub(crate) use events::seeded_id;
use events::Pauses;
use expr::Expressions;
use flow::concurrency::Limit;
use flow::FlowState;
use gateway::Gateways;
use queue::{QueueItem, Ready};
use registry::Registry;
use runs::Run;
use signals::Signals;
use timers::{Timer, Timers};

pub use checkpoint::CheckpointError;
pub use event_log::EventRecord;
pub use gateway::{Fetch, FetchId, FetchRequest, FetchResponse};
pub use persist::{ChangeSet, RestoreError, Restored, Row, Snapshot, STATE_VERSION};
pub use query::{CancelError, FunctionRef, JobView, RunRef};
pub use registry::Synced;
pub use signals::SignalError;
pub use types::{
    AppView, Call, CallId, CallResponse, EventError, Happening, Output, RegisterError, RunStatus,
    RunView, StepRecord, TraceContext, TransportError,
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
    runs: TrackedMap<String, Run>,
    /// Runs by the id of the event that started them.
    event_runs: HashMap<String, Vec<String>>,
    /// Finished runs, oldest first, for eviction.
    finished: VecDeque<String>,
    pauses: Pauses,
    timers: Timers,
    ready: Ready,
    /// Calls out, with the concurrency limits they hold.
    in_flight: TrackedMap<CallId, (QueueItem, Vec<Limit>)>,
    /// The call out for each queue item out, by its job id (not stored: nothing is out after
    /// a restore).
    calls_by_job: HashMap<u64, CallId>,
    /// Flow-control state: plain data.
    flow: FlowState,
    /// When wake-ups for throttled backlogs are due (one timer per time).
    wakes: std::collections::BTreeSet<u64>,
    next_call: u64,
    /// Events the core emitted itself (lifecycle, invocations), processed in order after the
    /// input that caused them: nothing recurses.
    inbox: VecDeque<Value>,
    outputs: VecDeque<Output>,
    expressions: Expressions,
    /// The events received, for the API and the page.
    event_log: EventLog,
    /// The trace context of the events being received, for the runs they start.
    receiving_trace: Option<TraceContext>,
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
            .field("debounces", &self.flow.debounces.len())
            .field("batches", &self.flow.batches.len())
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
            runs: TrackedMap::default(),
            event_runs: HashMap::new(),
            finished: VecDeque::new(),
            pauses: Pauses::default(),
            timers: Timers::default(),
            ready: Ready::default(),
            in_flight: TrackedMap::default(),
            calls_by_job: HashMap::new(),
            flow: FlowState::default(),
            wakes: std::collections::BTreeSet::new(),
            next_call: 0,
            inbox: VecDeque::new(),
            outputs: VecDeque::new(),
            expressions: Expressions::default(),
            event_log: EventLog::default(),
            receiving_trace: None,
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
        let (app_id, app, functions) =
            self.registry
                .prepare(request, self.now, &mut self.expressions)?;
        let crons: Vec<(String, u64, String, Option<u64>)> = functions
            .iter()
            .flat_map(|f| {
                f.crons.iter().map(|c| {
                    (
                        f.config.id.clone(),
                        f.generation,
                        c.spec.clone(),
                        c.schedule.next_after(self.now),
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

    /// Receives events (`POST /e/{key}`, `inngest::send`): each is checked as the server's
    /// event API checks it, then starts the runs it triggers, resumes the waits it matches and
    /// cancels the runs it cancels. Returns their internal ids (the server's, not the events'
    /// own `id`s). A refused event is an error; the events before it were received, as on
    /// the server ([`Core::send_partial`] tells which).
    pub fn send(&mut self, events: Vec<Value>, now: SystemTime) -> Result<Vec<String>, EventError> {
        match self.send_partial(events, now) {
            (_, Some(e)) => Err(e),
            (ids, None) => Ok(ids),
        }
    }

    /// Receives events as the server's event API does: in order, up to the first one refused
    /// (the ones before it are received). Returns the internal ids received and the error.
    pub fn send_partial(
        &mut self,
        events: Vec<Value>,
        now: SystemTime,
    ) -> (Vec<String>, Option<EventError>) {
        self.send_seeded(events, None, None, now)
    }

    /// Receives events as Inngest itself sends them (a test standing in for Inngest): the
    /// event API's checks but for the reserved `inngest/` names, so that a test can send
    /// `inngest/function.failed` to a failure handler.
    pub fn inject(
        &mut self,
        events: Vec<Value>,
        now: SystemTime,
    ) -> Result<Vec<String>, EventError> {
        self.advance_clock(now);
        let mut ids = Vec::with_capacity(events.len());
        for (index, mut event) in events.into_iter().enumerate() {
            events::check_event(index, &mut event, false)?;
            ids.push(self.receive(event));
        }
        self.settle();
        Ok(ids)
    }

    /// [`Core::send_partial`] with the client's event-id seed (`X-Inngest-Event-Id-Seed`):
    /// the internal ids come from it, so a request sent again is not received twice. The
    /// events were sent under the W3C trace context `trace` (the `traceparent` and
    /// `tracestate` headers of `POST /e/{key}`): the calls of the runs they start carry it.
    pub fn send_seeded(
        &mut self,
        events: Vec<Value>,
        seed: Option<&str>,
        trace: Option<TraceContext>,
        now: SystemTime,
    ) -> (Vec<String>, Option<EventError>) {
        self.advance_clock(now);
        let max = inngest_protocol::limits::MAX_EVENTS_PER_REQUEST;
        if events.len() > max {
            return (Vec::new(), Some(EventError::TooMany { max }));
        }
        self.receiving_trace = trace;
        let mut ids = Vec::with_capacity(events.len());
        let mut error = None;
        for (index, mut event) in events.into_iter().enumerate() {
            if let Err(e) = events::check_inbound(index, &mut event) {
                error = Some(e);
                break;
            }
            let seeded = seed.and_then(|s| events::seeded_id(s, index));
            let internal = seeded.unwrap_or_else(|| self.new_id());
            ids.push(self.receive_as(event, internal));
        }
        self.receiving_trace = None;
        self.settle();
        (ids, error)
    }

    /// Receives events as [`send`](Core::send) does, sent under the W3C trace context
    /// `trace`: the calls of the runs they start carry it.
    pub fn send_traced(
        &mut self,
        events: Vec<Value>,
        trace: Option<TraceContext>,
        now: SystemTime,
    ) -> Result<Vec<String>, EventError> {
        match self.send_seeded(events, None, trace, now) {
            (_, Some(e)) => Err(e),
            (ids, None) => Ok(ids),
        }
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
        if let Some((item, limits)) = self.in_flight.remove(&id) {
            self.calls_by_job.remove(&item.job);
            // Counted once answered: a call made again after a restart counts once.
            if let Some(run) = self.runs.get_mut(&item.run_id) {
                run.calls += 1;
            }
            self.flow.concurrency.release(&limits);
            self.answer(item, answer);
        }
        self.settle();
    }

    /// Lets time pass: fires every timer due by `now`.
    pub fn tick(&mut self, now: SystemTime) {
        self.advance_clock(now);
        while let Some((at, timer)) = self.timers.pop_due(self.now) {
            self.fire(at, timer);
        }
        let now = self.now;
        self.wakes.retain(|at| *at > now);
        self.settle();
    }

    /// Cancels a running run (`DELETE /v1/runs/{id}`); `false` if it is not running.
    pub fn cancel(&mut self, run_id: &str, now: SystemTime) -> bool {
        self.advance_clock(now);
        let running = self.is_active(run_id);
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
        self.expressions.now_ms = self.now;
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

    fn fire(&mut self, at: u64, timer: Timer) {
        match timer {
            Timer::Enqueue(item) => {
                if self.is_active(&item.run_id) {
                    self.enqueue(item);
                }
            }
            Timer::StartTimeout { run_id } => {
                let waiting = self.runs.get(&run_id).is_some_and(|r| r.started.is_none());
                if waiting {
                    self.finish(&run_id, RunStatus::Cancelled, Value::Null);
                }
            }
            Timer::FinishTimeout { run_id } => {
                self.finish(&run_id, RunStatus::Cancelled, Value::Null);
            }
            Timer::Wake => {} // the dispatch after every input tries the backlogs again
            Timer::Debounce { key } => self.debounce_due(&key),
            Timer::Batch { key, id } => self.flush_batch(&key, Some(&id)),
            Timer::Resume { run_id, step, memo } => self.resume(&run_id, &step, memo),
            Timer::ExpirePause { pause, .. } => self.pauses.remove(pause),
            Timer::Cron {
                function,
                generation,
                schedule,
            } => self.cron_tick(&function, generation, schedule, at),
        }
    }

    fn is_active(&self, run_id: &str) -> bool {
        self.runs.get(run_id).is_some_and(|r| r.status.is_active())
    }

    fn tell(&mut self, happening: Happening) {
        self.outputs.push_back(Output::Happening(happening));
    }
}
