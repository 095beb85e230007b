//! [`Engine`]: the core on real time. A driver task fires timers when they are due, makes the
//! calls the core asks for (each through its app's transport), hands the answers back, and
//! publishes the timeline.
//!
//! With a store ([`EngineConfig::persist`]), every input's changes are written before what
//! it caused is released: an API input (an event, a sync, a cancellation) writes its own
//! before it answers; the driver applies the answers of calls in batches, one transaction a
//! turn, before it makes the calls and publishes the timeline they led to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use inngest_protocol::register::RegisterRequest;
use serde_json::Value;
use tokio::sync::{broadcast, watch, Notify};

use super::durable::Durable;
use super::timeline::Recent;

use super::fetch::{Fetcher, HttpFetcher};
use super::realtime::Realtime;
use super::transport::{HttpTransport, Transport};
use crate::core::{
    Call, CallId, CallResponse, Core, CoreConfig, EventError, Fetch, FetchId, FetchResponse,
    Happening, Output, RegisterError, RunView, SignalError, StepRecord, Synced, TraceContext,
    TransportError,
};

/// How the engine behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// The core's settings (retries, how many finished runs are kept).
    pub core: CoreConfig,
    /// How long a call over HTTP may take before it is cut and retried (2 h by default, as
    /// the server).
    pub call_timeout: Duration,
    /// Signs calls to apps synced over HTTP with this key, as Inngest Cloud does.
    pub signing_key: Option<String>,
    /// Logs the timeline of runs through `tracing` (target `inngest::engine`).
    pub log_timeline: bool,
    /// The event keys `POST /e/{key}` accepts (any key when empty), as the dev server's
    /// `--event-key`.
    pub event_keys: Vec<String>,
    /// Makes the HTTP requests of `step.fetch` and `step.ai.infer` (over the network by
    /// default).
    pub fetcher: Option<SharedFetcher>,
    /// Keeps the state in SQLite in this directory, across restarts (`--persist
    /// --sqlite-dir`); in memory only when `None`.
    #[cfg(feature = "persist")]
    pub persist: Option<std::path::PathBuf>,
}

/// A [`Fetcher`] shared by the engine's calls.
#[derive(Clone)]
pub struct SharedFetcher(pub Arc<dyn Fetcher>);

impl std::fmt::Debug for SharedFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").finish_non_exhaustive()
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            core: CoreConfig::default(),
            call_timeout: inngest_protocol::limits::CALL_TIMEOUT,
            signing_key: None,
            log_timeline: true,
            event_keys: Vec::new(),
            fetcher: None,
            #[cfg(feature = "persist")]
            persist: None,
        }
    }
}

impl EngineConfig {
    /// Retries after a constant `interval` instead of the server's backoff table.
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.core = self.core.with_retry_interval(Some(interval));
        self
    }

    /// Keeps at most `n` finished runs.
    pub fn max_finished_runs(mut self, n: usize) -> Self {
        self.core = self.core.with_max_finished_runs(n);
        self
    }

    /// Cuts calls over HTTP after `timeout`.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Signs calls to apps synced over HTTP with `key`.
    pub fn signing_key(mut self, key: impl Into<String>) -> Self {
        self.signing_key = Some(key.into());
        self
    }

    /// Turns the timeline log on or off.
    pub fn log_timeline(mut self, on: bool) -> Self {
        self.log_timeline = on;
        self
    }

    /// Accepts events on `POST /e/{key}` only with one of these keys.
    pub fn event_keys(mut self, keys: impl IntoIterator<Item = String>) -> Self {
        self.event_keys = keys.into_iter().collect();
        self
    }

    /// Makes the HTTP requests of `step.fetch` and `step.ai.infer` with `fetcher` instead of
    /// over the network.
    pub fn fetcher(mut self, fetcher: Arc<dyn Fetcher>) -> Self {
        self.fetcher = Some(SharedFetcher(fetcher));
        self
    }

    /// Keeps the state in a SQLite database in `dir` (created if missing): what the engine
    /// acknowledged survives a restart, even a `kill -9`, and the runs go on where they were.
    #[cfg(feature = "persist")]
    pub fn persist(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.persist = Some(dir.into());
        self
    }
}

/// Why the engine refused something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A sync was refused.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// Events were refused.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The engine's database could not be opened, read or written.
    #[error("{0}")]
    Store(String),
}

/// The engine. Cheap to clone; the engine stops when the last clone is dropped.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

/// A reference to an engine that does not keep it running.
#[derive(Clone)]
pub struct WeakEngine {
    shared: Weak<Shared>,
}

impl std::fmt::Debug for WeakEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakEngine").finish_non_exhaustive()
    }
}

impl WeakEngine {
    /// The engine, if it still runs.
    pub fn upgrade(&self) -> Option<Engine> {
        self.shared.upgrade().map(|shared| Engine { shared })
    }
}

struct Shared {
    core: Mutex<Core>,
    clock: Clock,
    wake: Arc<Notify>,
    transports: Mutex<HashMap<String, Arc<dyn Transport>>>,
    http: HttpTransport,
    happenings: broadcast::Sender<Happening>,
    log_timeline: bool,
    /// The latest timeline lines, for the page.
    recent: Mutex<Recent>,
    /// The number of the latest timeline line (the page waits on it).
    seq: watch::Sender<u64>,
    signing_key: Option<String>,
    event_keys: Vec<String>,
    /// Whether the driver task runs (it starts on the first Tokio runtime the engine sees).
    driving: std::sync::atomic::AtomicBool,
    /// Makes the HTTP requests of `step.fetch` and `step.ai.infer`.
    fetcher: Arc<dyn Fetcher>,
    /// Realtime messages and their subscribers.
    realtime: Realtime,
    /// The answers of calls and requests, for the driver's next turn.
    answers: Mutex<Vec<Answer>>,
    /// Where the state is kept.
    durable: Durable,
}

/// An answer for the driver to hand to the core.
enum Answer {
    Call(CallId, Result<CallResponse, TransportError>),
    Fetch(FetchId, Result<FetchResponse, TransportError>),
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The driver holds only a weak reference: wake it so it sees the engine is gone.
        self.wake.notify_one();
        self.durable.checkpoint();
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("core", &*self.core())
            .finish()
    }
}

impl Engine {
    /// Starts an engine with no apps. Its driver runs on the Tokio runtime it is started on,
    /// or, started outside one, on the first runtime it is used from.
    pub fn start(config: EngineConfig) -> Result<Engine, EngineError> {
        let (happenings, _) = broadcast::channel(4096);
        let clock = Clock::start();
        #[cfg(feature = "persist")]
        let (core, durable) = match &config.persist {
            Some(dir) => {
                let (durable, snapshot) = Durable::open(dir).map_err(EngineError::Store)?;
                let restored = Core::restore(config.core, snapshot, fastrand::u64(..), clock.now())
                    .map_err(|e| {
                        EngineError::Store(format!(
                            "the engine's database in {} cannot be restored: {e}",
                            dir.display()
                        ))
                    })?;
                for warning in &restored.warnings {
                    tracing::warn!(target: "inngest::engine", "{warning}");
                }
                (restored.core, durable)
            }
            None => (
                Core::new(config.core, fastrand::u64(..)),
                Durable::default(),
            ),
        };
        #[cfg(not(feature = "persist"))]
        let (core, durable) = (
            Core::new(config.core, fastrand::u64(..)),
            Durable::default(),
        );
        let http = HttpTransport::new(config.call_timeout, config.signing_key.clone());
        // Apps restored from the store are called over HTTP until they sync again.
        let transports: HashMap<String, Arc<dyn Transport>> = core
            .apps()
            .into_iter()
            .map(|app| (app.id, Arc::new(http.clone()) as Arc<dyn Transport>))
            .collect();
        let shared = Arc::new(Shared {
            core: Mutex::new(core),
            clock,
            wake: Arc::new(Notify::new()),
            transports: Mutex::new(transports),
            http,
            happenings,
            log_timeline: config.log_timeline,
            recent: Mutex::new(Recent::default()),
            seq: watch::channel(0).0,
            signing_key: config.signing_key,
            event_keys: config.event_keys,
            driving: std::sync::atomic::AtomicBool::new(false),
            fetcher: config.fetcher.map_or_else(
                || Arc::new(HttpFetcher::new(config.call_timeout)) as Arc<dyn Fetcher>,
                |f| f.0,
            ),
            realtime: Realtime::default(),
            answers: Mutex::new(Vec::new()),
            durable,
        });
        let engine = Engine { shared };
        engine.ensure_driver();
        Ok(engine)
    }

    /// Starts the driver on the current Tokio runtime, once.
    fn ensure_driver(&self) {
        use std::sync::atomic::Ordering;
        if self.shared.driving.load(Ordering::Acquire) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !self.shared.driving.swap(true, Ordering::AcqRel) {
            handle.spawn(drive(
                Arc::downgrade(&self.shared),
                self.shared.wake.clone(),
            ));
        }
    }

    /// A reference that does not keep the engine running.
    pub fn downgrade(&self) -> WeakEngine {
        WeakEngine {
            shared: Arc::downgrade(&self.shared),
        }
    }

    fn core(&self) -> MutexGuard<'_, Core> {
        self.shared.core.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the core (to read it), under the engine's lock.
    pub fn inspect<R>(&self, f: impl FnOnce(&Core) -> R) -> R {
        f(&self.core())
    }

    fn changed(&self) {
        self.ensure_driver();
        self.shared.wake.notify_one();
    }

    /// Writes what an input changed (with a store), before its answer goes out.
    fn commit(&self, core: MutexGuard<'_, Core>) -> Result<(), EngineError> {
        self.shared.durable.commit(core).map_err(EngineError::Store)
    }

    /// Why the engine's database could not be written, if it could not: from then on the
    /// engine acknowledges nothing more (restart it).
    pub fn store_failure(&self) -> Option<String> {
        self.shared.durable.failure()
    }

    /// Syncs an app whose functions are called through `transport` (its functions become
    /// exactly the ones in `request`).
    pub fn register(
        &self,
        request: &RegisterRequest,
        transport: Arc<dyn Transport>,
    ) -> Result<Synced, EngineError> {
        let mut core = self.core();
        let synced = core.register(request, self.shared.clock.now())?;
        self.commit(core)?;
        self.shared
            .transports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(synced.app_id.clone(), transport);
        self.changed();
        Ok(synced)
    }

    /// Syncs an app that is called over HTTP at its functions' URLs (`POST /fn/register`).
    pub fn register_http(&self, request: &RegisterRequest) -> Result<Synced, EngineError> {
        self.register(request, Arc::new(self.shared.http.clone()))
    }

    /// Receives events (as `POST /e/{key}` does); returns their ids in order.
    pub fn send(&self, events: Vec<Value>) -> Result<Vec<String>, EngineError> {
        self.send_traced(events, None)
    }

    /// Receives events sent under a W3C trace context (the `traceparent` and `tracestate`
    /// headers of `POST /e/{key}`), which the calls of the runs they start carry.
    pub fn send_traced(
        &self,
        events: Vec<Value>,
        trace: Option<TraceContext>,
    ) -> Result<Vec<String>, EngineError> {
        let mut core = self.core();
        let ids = core.send_traced(events, trace, self.shared.clock.now());
        let stored = self.commit(core);
        self.changed();
        let ids = ids?;
        stored?;
        Ok(ids)
    }

    /// Runs an input on the core at the engine's time (an API's own inputs: invoking a
    /// function, re-running a run, a bulk cancellation), then lets the driver act on it.
    pub fn act<R>(&self, input: impl FnOnce(&mut Core, SystemTime) -> R) -> R {
        let mut core = self.core();
        let result = input(&mut core, self.shared.clock.now());
        let _ = self.commit(core); // a failed store refuses everything from now on
        self.changed();
        result
    }

    /// Receives events as `POST /e/{key}` does: in order, up to the first one refused.
    /// Returns the internal ids of the events received, and the error.
    pub fn send_partial(&self, events: Vec<Value>) -> (Vec<String>, Option<EventError>) {
        self.send_seeded(events, None, None)
    }

    /// [`Engine::send_partial`] with the client's event-id seed (`X-Inngest-Event-Id-Seed`):
    /// a request sent again gets the same ids and starts no run twice. With a store, check
    /// [`Engine::store_failure`] before acknowledging.
    pub fn send_seeded(
        &self,
        events: Vec<Value>,
        seed: Option<&str>,
        trace: Option<TraceContext>,
    ) -> (Vec<String>, Option<EventError>) {
        let mut core = self.core();
        let result = core.send_seeded(events, seed, trace, self.shared.clock.now());
        let _ = self.commit(core); // a failed store refuses everything from now on
        self.changed();
        result
    }

    /// The key calls to apps are signed with, which the API requires (`Authorization:
    /// Bearer`), as the dev server's `--signing-key`.
    pub fn signing_key(&self) -> Option<&str> {
        self.shared.signing_key.as_deref()
    }

    /// The event keys `POST /e/{key}` accepts (any key when empty).
    pub fn event_keys(&self) -> &[String] {
        &self.shared.event_keys
    }

    /// The timeline lines numbered above `after` that are still kept (the latest 500), and
    /// the number of the latest line.
    pub fn timeline_since(&self, after: u64) -> (u64, Vec<(u64, String)>) {
        let recent = self.shared.recent.lock().unwrap_or_else(|p| p.into_inner());
        (recent.seq(), recent.since(after))
    }

    /// Waits until the timeline has a line numbered above `after`, or `timeout` passes.
    pub async fn timeline_changed(&self, after: u64, timeout: Duration) {
        let mut seq = self.shared.seq.subscribe();
        let _ = tokio::time::timeout(timeout, seq.wait_for(|s| *s > after)).await;
    }

    /// Cancels a running run (as `DELETE /v1/runs/{id}` does); `false` if it is not running.
    pub fn cancel(&self, run_id: &str) -> bool {
        let mut core = self.core();
        let cancelled = core.cancel(run_id, self.shared.clock.now());
        let _ = self.commit(core); // a failed store refuses everything from now on
        self.changed();
        cancelled
    }

    /// Sends a signal (as `POST /v1/signals` does): resumes the run waiting for it, and
    /// returns its id (`None` when no run waits for the signal).
    pub fn signal(&self, signal: &str, data: Value) -> Result<Option<String>, SignalError> {
        let mut core = self.core();
        let resumed = core.signal(signal, data, self.shared.clock.now());
        let _ = self.commit(core); // a failed store refuses everything from now on
        self.changed();
        resumed
    }

    /// Saves the steps an SDK ran inside a call (as `POST /v1/checkpoint/{runId}/async`
    /// does; see [`Core::checkpoint`](crate::core::Core::checkpoint)).
    pub fn checkpoint(
        &self,
        checkpoint: &inngest_protocol::checkpoint::AsyncCheckpoint,
    ) -> Result<(), crate::core::CheckpointError> {
        let mut core = self.core();
        let saved = core.checkpoint(checkpoint, self.shared.clock.now());
        // Saved steps are stored before the SDK is told so.
        let stored = self.commit(core);
        self.changed();
        saved?;
        stored.map_err(|e| crate::core::CheckpointError {
            status: 500,
            message: format!("failed to save the steps: {e}"),
        })
    }

    /// Realtime: publish messages and subscribe to them (what `POST /v1/realtime/publish` and
    /// `GET /v1/realtime/sse` use).
    pub fn realtime(&self) -> &Realtime {
        &self.shared.realtime
    }

    /// Everything that happens from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Happening> {
        self.shared.happenings.subscribe()
    }

    /// A run, as the REST API shows it.
    pub fn run(&self, run_id: &str) -> Option<RunView> {
        self.core().run(run_id)
    }

    /// How many call requests a run took so far (fewer when its SDK checkpoints).
    pub fn run_calls(&self, run_id: &str) -> Option<u32> {
        self.core().run_calls(run_id)
    }

    /// The steps of a run, in the order they happened.
    pub fn run_history(&self, run_id: &str) -> Option<Vec<StepRecord>> {
        self.core().run_history(run_id)
    }

    /// The runs an event started.
    pub fn runs_for_event(&self, event_id: &str) -> Vec<RunView> {
        self.core().runs_for_event(event_id)
    }

    /// How many runs are kept (running and finished).
    pub fn runs_kept(&self) -> usize {
        self.core().runs_kept()
    }

    /// The slugs of the registered functions, sorted.
    pub fn function_ids(&self) -> Vec<String> {
        self.core().function_ids()
    }
}

/// The engine's clock: the wall-clock time at start plus Tokio's monotonic time since, so it
/// never goes back, and a test on Tokio's paused time moves it too.
#[derive(Debug, Clone, Copy)]
struct Clock {
    wall: SystemTime,
    base: tokio::time::Instant,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: SystemTime::now(),
            base: tokio::time::Instant::now(),
        }
    }

    fn now(&self) -> SystemTime {
        self.wall + self.base.elapsed()
    }
}

/// The driver: fires timers, makes calls, publishes the timeline; ends once the engine is
/// dropped.
async fn drive(shared: Weak<Shared>, wake: Arc<Notify>) {
    loop {
        let deadline = {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let (outputs, deadline) = {
                let answers =
                    std::mem::take(&mut *shared.answers.lock().unwrap_or_else(|p| p.into_inner()));
                let mut core = shared.core.lock().unwrap_or_else(|p| p.into_inner());
                let now = shared.clock.now();
                for answer in answers {
                    match answer {
                        Answer::Call(id, answer) => core.call_finished(id, answer, now),
                        Answer::Fetch(id, result) => core.fetch_finished(id, result, now),
                    }
                }
                core.tick(now);
                let outputs: Vec<Output> = std::iter::from_fn(|| core.poll_output()).collect();
                let deadline = core.next_deadline();
                // What this turn changed is stored before anything it caused goes out.
                if shared.durable.commit(core).is_err() {
                    return;
                }
                (outputs, deadline)
            };
            for output in outputs {
                match output {
                    Output::Call(call) => spawn_call(&shared, call),
                    Output::Fetch(fetch) => spawn_fetch(&shared, fetch),
                    Output::Happening(h) => {
                        let line = super::timeline::line(&h);
                        if shared.log_timeline {
                            super::timeline::log(&line);
                        }
                        let seq = shared
                            .recent
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(line);
                        shared.seq.send_replace(seq);
                        let _ = shared.happenings.send(h);
                    }
                }
            }
            deadline
        };
        match deadline {
            Some(at) => {
                let wait = match shared.upgrade() {
                    Some(shared) => at.duration_since(shared.clock.now()).unwrap_or_default(),
                    None => return,
                };
                let _ = tokio::time::timeout(wait, wake.notified()).await;
            }
            None => wake.notified().await,
        }
    }
}

/// Makes one call through its app's transport and hands the answer back to the core.
fn spawn_call(shared: &Arc<Shared>, call: Call) {
    let transport = shared
        .transports
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&call.app_id)
        .cloned();
    let weak = Arc::downgrade(shared);
    tokio::spawn(async move {
        let answer = match transport {
            Some(t) => t.call(&call).await,
            None => Err(TransportError::new(format!(
                "no transport for the app `{}`",
                call.app_id
            ))),
        };
        if let Some(shared) = weak.upgrade() {
            shared
                .answers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Answer::Call(call.id, answer));
            shared.wake.notify_one();
        }
    });
}

/// Makes one HTTP request for a run and hands its result back to the core.
fn spawn_fetch(shared: &Arc<Shared>, fetch: Fetch) {
    let answer = shared.fetcher.fetch(&fetch.request);
    let weak = Arc::downgrade(shared);
    tokio::spawn(async move {
        let result = answer.await;
        if let Some(shared) = weak.upgrade() {
            shared
                .answers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Answer::Fetch(fetch.id, result));
            shared.wake.notify_one();
        }
    });
}
