//! Runs: starting one, resuming a step Inngest finished, retrying, ending one with the
//! lifecycle events the server emits (protocol.md 7.3), and reading them back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use inngest_protocol::event::{
    FailureError, FinishedMeta, FunctionFinishedData, FUNCTION_CANCELLED_EVENT,
    FUNCTION_FAILED_EVENT, FUNCTION_FINISHED_EVENT, FUNCTION_INVOKED_EVENT, SCHEDULED_TIMER_EVENT,
};
use inngest_protocol::time::{from_unix_millis, rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::events::PauseKind;
use super::flow::{RunFlow, ScheduleRequest};
use super::queue::{Gate, QueueItem};
use super::registry::CancelUntil;
use super::timers::Timer;
use super::types::{Happening, RunStatus, RunView, StepRecord};
use super::Core;

/// A run and its state.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Run {
    pub id: String,
    /// The function's slug.
    pub function_id: String,
    /// The first triggering event.
    pub event: Value,
    /// Every triggering event (a batch has many).
    pub events: Vec<Value>,
    /// The internal ids of the triggering events.
    pub event_ids: Vec<String>,
    /// Memos by hashed step id.
    pub steps: BTreeMap<String, Value>,
    /// Hashed ids of memoized steps in the order they finished.
    pub stack: Vec<String>,
    pub status: RunStatus,
    pub output: Option<Value>,
    /// When it was scheduled (ms since the epoch): its queue score.
    pub created_at: u64,
    /// When its first call went out.
    pub started: Option<u64>,
    pub ended_at: Option<u64>,
    /// Steps Inngest is still doing (planned steps, sleeps, waits, invokes): request version
    /// 2 coalesces discovery until none are.
    pub pending: BTreeSet<String>,
    /// Race branches still out: one that ends discovers at once (`parallelMode: "race"`).
    pub racing: BTreeSet<String>,
    pub disable_immediate: bool,
    /// The request version the SDK answered with first (`-1` until then).
    pub version: i64,
    /// For an invoked run, the invoker's correlation id.
    pub correlation_id: Option<String>,
    /// Triggered by `inngest/function.finished` or `.failed`: its end emits no lifecycle
    /// event, so failure handlers cannot recurse.
    pub internal: bool,
    /// Every step as it happened.
    pub history: Vec<StepRecord>,
    /// The pauses the run owns.
    pub pauses: Vec<u64>,
    /// What flow control holds it to.
    pub flow: RunFlow,
    /// How many steps it saved (the server's step count).
    pub step_count: usize,
    /// The bytes of its memoized outputs (the server's state size).
    pub state_bytes: usize,
    /// How many call requests it took so far (counted as they are answered).
    #[serde(default)]
    pub calls: u32,
    /// The trace context of the event that started it, passed on to its calls.
    pub trace: Option<super::types::TraceContext>,
}

impl Core {
    /// Creates a run from a schedule request that passed flow control: queued to start at
    /// `at` (ms since the epoch), or, with `at` of `None`, a skipped run that never starts.
    pub(crate) fn create_run(
        &mut self,
        request: ScheduleRequest,
        flow: RunFlow,
        at: Option<u64>,
    ) -> Option<String> {
        let (cancel, start_timeout) = {
            let f = self.registry.functions.get(&request.function)?;
            (f.cancel.clone(), f.flow.start_timeout_ms)
        };
        let event = request.events.first()?.clone();
        let run_id = self.new_id();
        let function_id = request.function.clone();
        let name = event["name"].as_str().unwrap_or_default().to_owned();
        let internal = matches!(
            name.as_str(),
            FUNCTION_FAILED_EVENT | FUNCTION_FINISHED_EVENT
        );
        let correlation_id = (name == FUNCTION_INVOKED_EVENT)
            .then(|| {
                event["data"]["_inngest"]["correlation_id"]
                    .as_str()
                    .map(str::to_owned)
            })
            .flatten();
        for event_id in &request.event_ids {
            self.event_runs
                .entry(event_id.clone())
                .or_default()
                .push(run_id.clone());
        }
        let batch = request.batch_id.is_some();
        self.runs.insert(
            run_id.clone(),
            Run {
                id: run_id.clone(),
                function_id: function_id.clone(),
                event: event.clone(),
                events: request.events,
                event_ids: request.event_ids,
                steps: BTreeMap::new(),
                stack: Vec::new(),
                status: RunStatus::Queued,
                output: None,
                created_at: self.now,
                started: None,
                ended_at: None,
                pending: BTreeSet::new(),
                racing: BTreeSet::new(),
                disable_immediate: false,
                version: -1,
                correlation_id,
                internal,
                history: Vec::new(),
                pauses: Vec::new(),
                flow,
                step_count: 0,
                state_bytes: 0,
                calls: 0,
                trace: self.receiving_trace.clone(),
            },
        );
        let Some(at) = at else {
            return Some(run_id); // skipped: it never starts
        };
        if !batch {
            // The server creates cancellation pauses and the start timeout for runs that are
            // not batches.
            for (cancel_event, expression, until) in cancel {
                let expires = match until {
                    CancelUntil::For(d) => self.now.saturating_add(millis(d)),
                    CancelUntil::At(at) => at,
                };
                let pause = self
                    .pauses
                    .add(&run_id, cancel_event, expression, PauseKind::Cancel);
                if let Some(run) = self.runs.get_mut(&run_id) {
                    run.pauses.push(pause);
                }
                self.timers.add(
                    expires,
                    Timer::ExpirePause {
                        run_id: run_id.clone(),
                        pause,
                    },
                );
            }
            if let Some(timeout) = start_timeout {
                self.timers.add(
                    self.now.saturating_add(timeout),
                    Timer::StartTimeout {
                        run_id: run_id.clone(),
                    },
                );
            }
        }
        self.tell(Happening::RunStarted {
            run_id: run_id.clone(),
            function_id,
            event: name,
        });
        if at > self.now {
            self.timers
                .add(at, Timer::Enqueue(QueueItem::discovery(&run_id)));
        } else {
            self.enqueue(QueueItem::discovery(&run_id));
        }
        Some(run_id)
    }

    /// Puts a queue item in its run's backlog.
    pub(crate) fn enqueue(&mut self, item: QueueItem) {
        let Some(run) = self.runs.get(&item.run_id) else {
            return;
        };
        let gate = Gate {
            limits: run.flow.limits.clone(),
            throttle: run
                .started
                .is_none()
                .then(|| run.flow.throttle_rate())
                .flatten()
                .map(|(k, r)| (k.to_owned(), r)),
        };
        let base = if item.attempt == 0 {
            run.created_at
        } else {
            self.now
        };
        let score = i64::try_from(base).unwrap_or(i64::MAX) - run.flow.priority * 1000;
        self.ready.push(item, gate, score);
    }

    /// A run's first call goes out: it is running, and its finish timeout starts.
    pub(crate) fn mark_started(&mut self, run_id: &str) {
        let now = self.now;
        let finish_timeout = self
            .runs
            .get(run_id)
            .and_then(|r| self.registry.functions.get(&r.function_id))
            .and_then(|f| f.flow.finish_timeout_ms);
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        if run.started.is_some() {
            return;
        }
        run.started = Some(now);
        if run.status == RunStatus::Queued {
            run.status = RunStatus::Running;
        }
        if let Some(timeout) = finish_timeout {
            self.timers.add(
                now.saturating_add(timeout),
                Timer::FinishTimeout {
                    run_id: run_id.to_owned(),
                },
            );
        }
    }

    /// A cron tick due at `scheduled_at` (ms since the epoch; it may fire later, after a
    /// restart): a run with `inngest/scheduled.timer`, keyed by the tick's time so that a
    /// tick starts one run, and the next tick after now (ticks missed while the engine was
    /// stopped are not made up, but the first one due fires).
    pub(crate) fn cron_tick(
        &mut self,
        function_id: &str,
        generation: u64,
        schedule: String,
        scheduled_at: u64,
    ) {
        let Some((next, jitter)) = self
            .registry
            .functions
            .get(function_id)
            .filter(|f| f.generation == generation)
            .and_then(|f| f.crons.iter().find(|c| c.spec == schedule))
            .map(|c| (c.schedule.next_after(self.now), c.jitter_ms))
        else {
            return;
        };
        // As the server: `fireAt` is the tick's time plus its jitter; a tick that is overdue
        // (after a restart) starts its run at once.
        let fire_at =
            scheduled_at + super::cron::jitter(function_id, &schedule, scheduled_at, jitter);
        let key = rfc3339(from_unix_millis(scheduled_at));
        let event = json!({
            "id": key, "name": SCHEDULED_TIMER_EVENT,
            "data": {
                "cron": schedule,
                "scheduledAt": key,
                "fireAt": rfc3339(from_unix_millis(fire_at)),
            },
            "user": {}, "ts": fire_at,
        });
        let internal_id = self.new_id();
        self.tell(Happening::Event {
            id: internal_id.clone(),
            name: SCHEDULED_TIMER_EVENT.to_owned(),
        });
        self.schedule(ScheduleRequest {
            idempotency_key: Some(key),
            at: Some(fire_at),
            ..ScheduleRequest::new(function_id, event, internal_id)
        });
        if let Some(at) = next {
            self.timers.add(
                at,
                Timer::Cron {
                    function: function_id.to_owned(),
                    generation,
                    schedule,
                },
            );
        }
    }

    /// Stores the memo of a step Inngest finished itself (a sleep, a wait, an invoke) and
    /// discovers once no other step is out.
    pub(crate) fn resume(&mut self, run_id: &str, step: &str, memo: Value) {
        let now = self.now;
        let waiting = self
            .runs
            .get(run_id)
            .is_some_and(|r| r.status.is_active() && r.pending.contains(step));
        if !waiting || !self.account_step(run_id, &memo) {
            return;
        }
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        run.pending.remove(step);
        let raced = run.racing.remove(step);
        if let Some(record) = run
            .history
            .iter_mut()
            .rev()
            .find(|r| r.id == step && r.resumed_at.is_none())
        {
            record.resumed_at = Some(from_unix_millis(now));
            record.output = Some(memo.clone());
        }
        run.steps.insert(step.to_owned(), memo);
        run.stack.push(step.to_owned());
        // A race branch that ends discovers at once (server `shouldEnqueueDiscovery`).
        let discover = run.pending.is_empty() || raced;
        if run.pending.is_empty() {
            run.disable_immediate = false;
        }
        let pauses: Vec<u64> = run.pauses.clone();
        for pause in pauses {
            if self.pauses.step_of(pause) == Some(step) {
                self.pauses.remove(pause);
            }
        }
        self.timers.remove_step(run_id, step);
        if discover {
            self.enqueue(QueueItem::discovery(run_id));
        }
    }

    /// After a failed call: retries it after the backoff (or `Retry-After`) while attempts
    /// remain and the error allows it, else fails the run with `error`.
    pub(crate) fn retry_or_fail(
        &mut self,
        item: QueueItem,
        error: Value,
        retry_after: Option<Duration>,
        no_retry: bool,
    ) {
        if !no_retry && item.attempt + 1 < self.max_attempts(&item.run_id) {
            self.retry(item, &error, retry_after);
        } else {
            self.finish(&item.run_id, RunStatus::Failed, error);
        }
    }

    /// Calls `item` again, one attempt later, after the backoff or `retry_after`.
    pub(crate) fn retry(&mut self, item: QueueItem, error: &Value, retry_after: Option<Duration>) {
        let delay = retry_after.unwrap_or_else(|| self.backoff(item.attempt));
        self.tell(Happening::Retrying {
            run_id: item.run_id.clone(),
            attempt: item.attempt,
            delay,
            error: error["message"]
                .as_str()
                .map_or_else(|| error.to_string(), str::to_owned),
        });
        self.timers.add(
            self.now.saturating_add(millis(delay)),
            Timer::Enqueue(item.retry()),
        );
    }

    /// `retries + 1` of the run's function (1 once the function is gone).
    pub(crate) fn max_attempts(&self, run_id: &str) -> u32 {
        self.runs
            .get(run_id)
            .and_then(|r| self.registry.functions.get(&r.function_id))
            .map_or(1, |f| f.retries + 1)
    }

    /// The delay after the 0-based attempt `attempt` failed.
    fn backoff(&mut self, attempt: u32) -> Duration {
        if let Some(interval) = self.config.retry_interval {
            return interval;
        }
        let base = inngest_protocol::retry::backoff(attempt);
        if !self.config.jitter {
            return base;
        }
        let max = millis(inngest_protocol::retry::MAX_JITTER);
        base + Duration::from_millis(self.rng.u64(0..=max))
    }

    /// Ends a run, drops everything it waits for, and emits what the server emits:
    /// `inngest/function.finished`, then `.failed` or `.cancelled` (both with the run's id as
    /// their event id).
    pub(crate) fn finish(&mut self, run_id: &str, status: RunStatus, output: Value) {
        let now = self.now;
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        if !run.status.is_active() {
            return;
        }
        run.status = status;
        run.ended_at = Some(now);
        run.output = Some(output.clone());
        run.pending.clear();
        run.racing.clear();
        let pauses = std::mem::take(&mut run.pauses);
        if let Some(key) = run.flow.singleton.take() {
            self.flow.singletons.release(&key, run_id);
        }
        let data = finished_data(run, status, &output);
        let (function_id, internal) = (run.function_id.clone(), run.internal);
        for pause in pauses {
            self.pauses.remove(pause);
        }
        self.timers.remove_run(run_id);
        self.ready.remove_run(run_id);
        self.tell(Happening::RunEnded {
            run_id: run_id.to_owned(),
            function_id,
            status,
            output,
        });
        if !internal {
            let finished_id = self.new_id();
            let data = serde_json::to_value(&data).unwrap_or(Value::Null);
            self.inbox.push_back(json!({
                "id": finished_id, "name": FUNCTION_FINISHED_EVENT, "data": data,
            }));
            match status {
                RunStatus::Failed => self.inbox.push_back(json!({
                    "id": run_id, "name": FUNCTION_FAILED_EVENT, "data": data,
                })),
                RunStatus::Cancelled => {
                    let mut cancelled = data;
                    if let Some(map) = cancelled.as_object_mut() {
                        map.remove("error");
                        map.remove("result");
                    }
                    self.inbox.push_back(json!({
                        "id": run_id, "name": FUNCTION_CANCELLED_EVENT, "data": cancelled,
                    }));
                }
                _ => {}
            }
        }
        self.remember_finished(run_id);
    }

    /// Keeps an ended run for the API, forgetting the oldest beyond the limit.
    pub(crate) fn remember_finished(&mut self, run_id: &str) {
        self.finished.push_back(run_id.to_owned());
        while self.finished.len() > self.config.max_finished_runs {
            if let Some(old) = self.finished.pop_front() {
                self.forget(&old);
            }
        }
    }

    /// Forgets a finished run and its index entries.
    fn forget(&mut self, run_id: &str) {
        let Some(run) = self.runs.remove(run_id) else {
            return;
        };
        for event_id in &run.event_ids {
            if let Some(ids) = self.event_runs.get_mut(event_id) {
                ids.retain(|id| id != run_id);
                if ids.is_empty() {
                    self.event_runs.remove(event_id);
                }
            }
        }
    }

    /// A run, as the REST API shows it.
    pub fn run(&self, run_id: &str) -> Option<RunView> {
        self.runs.get(run_id).map(view)
    }

    /// The events a run was started with (`ctx.events`: a batch has many).
    pub fn run_events(&self, run_id: &str) -> Option<Vec<Value>> {
        self.runs.get(run_id).map(|r| r.events.clone())
    }

    /// The steps of a run, in the order they happened.
    pub fn run_history(&self, run_id: &str) -> Option<Vec<StepRecord>> {
        self.runs.get(run_id).map(|r| r.history.clone())
    }

    /// How many call requests a run took so far (fewer when its SDK checkpoints).
    pub fn run_calls(&self, run_id: &str) -> Option<u32> {
        self.runs.get(run_id).map(|r| r.calls)
    }

    /// The runs an event started.
    pub fn runs_for_event(&self, event_id: &str) -> Vec<RunView> {
        self.event_runs
            .get(event_id)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| self.runs.get(id))
                    .map(view)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many runs are kept (running and finished).
    pub fn runs_kept(&self) -> usize {
        self.runs.len()
    }

    /// How many runs have not ended (queued, running or waiting).
    pub fn active_runs(&self) -> usize {
        self.runs.values().filter(|r| r.status.is_active()).count()
    }

    /// How many events have an index entry of the runs they started.
    pub fn events_indexed(&self) -> usize {
        self.event_runs.len()
    }
}

/// The data of the lifecycle events for a run that ended (protocol.md 7.3): `result` on
/// success, `error` (`{error, name, message, stack?, cause?}`) and the raw `result` on
/// failure.
fn finished_data(run: &Run, status: RunStatus, output: &Value) -> FunctionFinishedData {
    let (result, error) = match status {
        RunStatus::Completed => (Some(output.clone()), None),
        RunStatus::Failed => {
            let text = |key: &str| output.get(key).and_then(Value::as_str).map(str::to_owned);
            let name = text("name").unwrap_or_else(|| "Error".to_owned());
            let error = FailureError {
                error: text("error").or_else(|| Some(name.clone())),
                message: text("message").unwrap_or_else(|| "Function execution error".to_owned()),
                name,
                stack: text("stack"),
                cause: output.get("cause").filter(|c| !c.is_null()).cloned(),
                step_id: text("stepId"),
            };
            (Some(output.clone()), Some(error))
        }
        _ => (None, None),
    };
    FunctionFinishedData {
        function_id: run.function_id.clone(),
        run_id: run.id.clone(),
        event: run.event.clone(),
        events: run.events.clone(),
        result,
        error,
        correlation_id: run.correlation_id.clone(),
        inngest: FinishedMeta { status },
    }
}

fn view(r: &Run) -> RunView {
    RunView {
        run_id: r.id.clone(),
        function_id: r.function_id.clone(),
        status: r.status,
        output: r.output.clone(),
        event_id: r.event_ids.first().cloned().unwrap_or_default(),
        run_started_at: rfc3339(from_unix_millis(r.started.unwrap_or(r.created_at))),
        ended_at: r.ended_at.map(|t| rfc3339(from_unix_millis(t))),
    }
}

/// A duration in whole milliseconds (saturating).
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
