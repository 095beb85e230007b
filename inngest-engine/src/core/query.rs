//! Reading the core for the API and the page (runs with their events and steps, events,
//! functions with their configurations), and the inputs the API adds: invoking a function,
//! re-running a run, cancelling the runs a bulk cancellation matches.

use std::time::SystemTime;

use inngest_protocol::event::{InvokeMeta, FUNCTION_INVOKED_EVENT};
use inngest_protocol::register::FunctionConfig;
use inngest_protocol::time::{from_unix_millis, unix_millis};
use serde_json::{json, Value};

use super::event_log::EventRecord;
use super::runs::Run;
use super::types::{RunStatus, StepRecord};
use super::Core;

/// A run, borrowed from the core (read it under the engine's lock, copy what you need).
#[derive(Debug, Clone, Copy)]
pub struct RunRef<'a> {
    run: &'a Run,
    app_id: Option<&'a str>,
}

impl<'a> RunRef<'a> {
    /// The run's id.
    pub fn id(&self) -> &'a str {
        &self.run.id
    }
    /// Its function's slug.
    pub fn function_id(&self) -> &'a str {
        &self.run.function_id
    }
    /// The app serving its function, while the function is registered.
    pub fn app_id(&self) -> Option<&'a str> {
        self.app_id
    }
    /// Its status.
    pub fn status(&self) -> RunStatus {
        self.run.status
    }
    /// Its output, or its error once failed.
    pub fn output(&self) -> Option<&'a Value> {
        self.run.output.as_ref()
    }
    /// The first triggering event.
    pub fn event(&self) -> &'a Value {
        &self.run.event
    }
    /// Every triggering event.
    pub fn events(&self) -> &'a [Value] {
        &self.run.events
    }
    /// The triggering event's name.
    pub fn event_name(&self) -> &'a str {
        self.run.event["name"].as_str().unwrap_or_default()
    }
    /// The triggering event's id.
    pub fn event_id(&self) -> &'a str {
        self.run.event["id"].as_str().unwrap_or_default()
    }
    /// When it started.
    pub fn started_at(&self) -> SystemTime {
        from_unix_millis(self.run.started.unwrap_or(self.run.created_at))
    }
    /// When it ended.
    pub fn ended_at(&self) -> Option<SystemTime> {
        self.run.ended_at.map(from_unix_millis)
    }
    /// Its steps as they happened (an op an SDK reported per entry; retries are entries).
    pub fn history(&self) -> &'a [StepRecord] {
        &self.run.history
    }
    /// The memoized steps, by hashed step id (what the SDK reads with `use_api`).
    pub fn memos(&self) -> &'a std::collections::BTreeMap<String, Value> {
        &self.run.steps
    }
    /// The cron schedule that started it, if a cron did.
    pub fn cron(&self) -> Option<&'a str> {
        (self.event_name() == inngest_protocol::event::SCHEDULED_TIMER_EVENT)
            .then(|| self.run.event["data"]["cron"].as_str())
            .flatten()
    }
    /// For a run started by `inngest/function.failed`, `.cancelled` or `.invoked`: the run it
    /// is about (the failed, cancelled or invoking run).
    pub fn source_run_id(&self) -> Option<&'a str> {
        let data = &self.run.event["data"];
        match self.event_name() {
            inngest_protocol::event::FUNCTION_FAILED_EVENT
            | inngest_protocol::event::FUNCTION_CANCELLED_EVENT
            | inngest_protocol::event::FUNCTION_FINISHED_EVENT => data["run_id"].as_str(),
            FUNCTION_INVOKED_EVENT => data["_inngest"]["gid"].as_str(),
            _ => None,
        }
    }
}

/// A registered function, borrowed from the core.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct FunctionRef<'a> {
    /// Its slug.
    pub slug: &'a str,
    /// The app that serves it.
    pub app_id: &'a str,
    /// Its configuration as synced.
    pub config: &'a FunctionConfig,
}

/// A queue item of a run (`GET /v1/runs/{id}/jobs`): a call in flight or due, or a timer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobView {
    /// When it is due (now for a call in flight or ready).
    pub at: SystemTime,
    /// `"start"` (the first call), `"edge"` (a later call), `"edge-error"` (a retry),
    /// `"sleep"` (a sleep), `"pause"` (a wait or invoke's timeout).
    pub kind: &'static str,
    /// The 0-based attempt.
    pub attempt: u32,
    /// The step (`"step"` for discovery), hashed.
    pub step_id: String,
}

/// Why a bulk cancellation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CancelError {
    /// No function has this slug.
    #[error("function not found: {0}")]
    NoFunction(String),
    /// The `if` expression does not compile.
    #[error("invalid expression: {0}")]
    InvalidExpression(String),
}

impl Core {
    fn run_ref<'a>(&'a self, run: &'a Run) -> RunRef<'a> {
        RunRef {
            run,
            app_id: self
                .registry
                .functions
                .get(&run.function_id)
                .map(|f| f.app_id.as_str()),
        }
    }

    /// A run, borrowed.
    pub fn run_info(&self, run_id: &str) -> Option<RunRef<'_>> {
        self.runs.get(run_id).map(|r| self.run_ref(r))
    }

    /// Every kept run (running and finished), in no order.
    pub fn runs_iter(&self) -> impl Iterator<Item = RunRef<'_>> + '_ {
        self.runs.values().map(|r| self.run_ref(r))
    }

    /// The runs an event started, borrowed, in the order they started.
    pub fn event_run_refs(&self, event_id: &str) -> Vec<RunRef<'_>> {
        self.event_runs
            .get(event_id)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| self.runs.get(id))
                    .map(|r| self.run_ref(r))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The runs that handle the end of `run_id`: its failure or cancellation handlers (runs
    /// triggered by `inngest/function.failed` or `.cancelled` about it) and the runs it
    /// invoked.
    pub fn runs_about(&self, run_id: &str) -> Vec<RunRef<'_>> {
        let mut runs: Vec<RunRef<'_>> = self
            .runs_iter()
            .filter(|r| r.source_run_id() == Some(run_id))
            .collect();
        runs.sort_by(|a, b| a.id().cmp(b.id()));
        runs
    }

    /// The queue items of a running run, soonest first: calls in flight, calls ready, then
    /// its timers.
    pub fn run_jobs(&self, run_id: &str) -> Vec<JobView> {
        let now = from_unix_millis(self.now);
        let started = self.runs.get(run_id).is_some_and(|r| !r.history.is_empty());
        let call = |item: &super::queue::QueueItem, at| JobView {
            at,
            kind: if item.attempt > 0 {
                "edge-error"
            } else if started {
                "edge"
            } else {
                "start"
            },
            attempt: item.attempt,
            step_id: item.step_id.clone(),
        };
        let mut in_flight: Vec<&super::queue::QueueItem> = self
            .in_flight
            .values()
            .map(|(item, _)| item)
            .filter(|i| i.run_id == run_id)
            .collect();
        in_flight.sort_by(|a, b| a.step_id.cmp(&b.step_id));
        let mut jobs: Vec<JobView> = in_flight.into_iter().map(|i| call(i, now)).collect();
        jobs.extend(self.ready.of_run(run_id).into_iter().map(|i| call(i, now)));
        for (at, timer) in self.timers.of_run(run_id) {
            let at = from_unix_millis(at);
            jobs.push(match timer {
                super::timers::Timer::Enqueue(item) => call(item, at),
                super::timers::Timer::Resume { step, memo, .. } => JobView {
                    at,
                    kind: if memo.is_null()
                        && self.runs.get(run_id).is_some_and(|r| {
                            r.history
                                .iter()
                                .rev()
                                .find(|h| &h.id == step)
                                .is_some_and(|h| h.op == inngest_protocol::op::Opcode::Sleep)
                        }) {
                        "sleep"
                    } else {
                        "pause"
                    },
                    attempt: 0,
                    step_id: step.clone(),
                },
                // Not calls of the run: a cancellation rule expiring, timeouts, flow control.
                _ => continue,
            });
        }
        jobs
    }

    /// A received event, if it is still kept.
    pub fn event_record(&self, event_id: &str) -> Option<&EventRecord> {
        self.event_log.get(event_id)
    }

    /// The kept events, newest first.
    pub fn events_newest_first(&self) -> impl Iterator<Item = &EventRecord> + '_ {
        self.event_log.newest_first()
    }

    /// How many events are kept.
    pub fn events_kept(&self) -> usize {
        self.event_log.len()
    }

    /// The registered functions, sorted by slug.
    pub fn functions(&self) -> impl Iterator<Item = FunctionRef<'_>> + '_ {
        self.registry.functions.iter().map(|(slug, f)| FunctionRef {
            slug,
            app_id: &f.app_id,
            config: &f.config,
        })
    }

    /// Invokes a function with an `inngest/function.invoked` event carrying `event`'s data
    /// and user (`POST /invoke/{slug}`, the GraphQL `invokeFunction`); returns the event's
    /// id, or `None` when no function has this slug.
    pub fn invoke_function(&mut self, slug: &str, event: Value, now: SystemTime) -> Option<String> {
        self.advance_clock(now);
        if !self.registry.functions.contains_key(slug) {
            return None;
        }
        let mut data = match event.get("data") {
            Some(Value::Object(map)) => Value::Object(map.clone()),
            _ => json!({}),
        };
        let meta = InvokeMeta {
            fn_id: slug.to_owned(),
            ..InvokeMeta::default()
        };
        data["_inngest"] = serde_json::to_value(meta).unwrap_or(Value::Null);
        let mut invoked = json!({"name": FUNCTION_INVOKED_EVENT, "data": data});
        if let Some(user) = event.get("user").filter(|u| u.is_object()) {
            invoked["user"] = user.clone();
        }
        if let Some(id) = event.get("id").and_then(Value::as_str) {
            invoked["id"] = Value::from(id);
        }
        if let Some(ts) = event.get("ts").filter(|t| t.is_u64()) {
            invoked["ts"] = ts.clone();
        }
        let id = self.receive(invoked);
        self.settle();
        Some(id)
    }

    /// Runs a run's function again with the same events (the GraphQL `rerun`); returns the
    /// new run's id, or `None` when the run or its function is gone.
    pub fn rerun(&mut self, run_id: &str, now: SystemTime) -> Option<String> {
        self.advance_clock(now);
        let run = self.runs.get(run_id)?;
        let (function_id, event, events) = (
            run.function_id.clone(),
            run.event.clone(),
            run.events.clone(),
        );
        let _ = event;
        // A new run of the same events: its own idempotency key, past debounce and rate limit.
        let key = self.new_id();
        let event_ids = self
            .runs
            .get(run_id)
            .map(|r| r.event_ids.clone())
            .unwrap_or_default();
        let new = self.schedule(super::flow::ScheduleRequest {
            events,
            event_ids,
            idempotency_key: Some(key),
            prevent_debounce: true,
            prevent_rate_limit: true,
            ..super::flow::ScheduleRequest::empty(&function_id)
        });
        self.settle();
        let new = new?;
        Some(new)
    }

    /// A bulk cancellation (`POST /v1/cancellations`): cancels the running runs of
    /// `function_id` that started in `[started_after, started_before]` and whose triggering
    /// event satisfies `if_expression`. Returns the ids of the runs cancelled.
    pub fn cancel_matching(
        &mut self,
        function_id: &str,
        started_after: Option<SystemTime>,
        started_before: SystemTime,
        if_expression: Option<&str>,
        now: SystemTime,
    ) -> Result<Vec<String>, CancelError> {
        self.advance_clock(now);
        if !self.registry.functions.contains_key(function_id) {
            return Err(CancelError::NoFunction(function_id.to_owned()));
        }
        if let Some(expression) = if_expression {
            self.expressions
                .compile(expression)
                .map_err(CancelError::InvalidExpression)?;
        }
        let after = started_after.map_or(0, unix_millis);
        let before = unix_millis(started_before);
        let candidates: Vec<(String, Value)> = self
            .runs
            .values()
            .filter(|r| {
                r.function_id == function_id
                    && r.status == RunStatus::Running
                    && r.started.unwrap_or(r.created_at) >= after
                    && r.started.unwrap_or(r.created_at) <= before
            })
            .map(|r| (r.id.clone(), r.event.clone()))
            .collect();
        let mut cancelled = Vec::new();
        for (id, event) in candidates {
            let holds =
                if_expression.is_none_or(|x| self.expressions.holds_or_false(x, &event, None));
            if holds {
                self.finish(&id, RunStatus::Cancelled, Value::Null);
                cancelled.push(id);
            }
        }
        cancelled.sort();
        self.settle();
        Ok(cancelled)
    }
}
