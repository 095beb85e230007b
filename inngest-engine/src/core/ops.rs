//! Acting on the ops of a 206 answer (server `HandleGeneratorResponse`): memoize what ran,
//! queue planned steps, pause for sleeps, waits and invokes, retry failed steps, end the run.

use std::time::Duration;

use inngest_protocol::event::{InvokeMeta, FUNCTION_FINISHED_EVENT, FUNCTION_INVOKED_EVENT};
use inngest_protocol::op::{
    InvokeFunctionOpts, Op, Opcode, SleepOpts, WaitForEventOpts, PARALLEL_MODE_RACE,
};
use inngest_protocol::time::{from_unix_millis, parse_http_date, parse_rfc3339, unix_millis};
use serde_json::{json, Value};

use super::events::PauseKind;
use super::gateway::OpOutcome;
use super::limits;
use super::queue::QueueItem;
use super::runs::millis;
use super::timers::Timer;
use super::types::{Happening, RunStatus, StepRecord};
use super::Core;

impl Core {
    /// Applies the ops an SDK answered a call with.
    pub(crate) fn apply_ops(
        &mut self,
        item: QueueItem,
        ops: Vec<Op>,
        no_retry: bool,
        retry_after: Option<Duration>,
    ) {
        let last_attempt = no_retry || item.attempt + 1 >= self.max_attempts(&item.run_id);
        let real = ops.iter().filter(|op| op.op != Opcode::None).count();
        if real > 1 {
            if let Some(run) = self.runs.get_mut(&item.run_id) {
                run.disable_immediate = true;
            }
        }
        let mut discover = real == 0; // `[]`: call again (server `restartDiscovery`)
        let mut raced = false;
        let mut done: Option<Value> = None;
        let mut failed_step: Option<Value> = None;
        let run_id = item.run_id.clone();
        // What the ops the server handles itself asked for (the first that asked wins).
        let mut outcome = OpOutcome::Ok;
        for op in ops {
            if op.op == Opcode::None {
                continue;
            }
            // The end of the run (a checkpointing SDK's `RunComplete`) is no step of it.
            if !matches!(op.op, Opcode::RunComplete | Opcode::SyncRunComplete) {
                self.record(&item, &op);
            }
            let id = op.id.clone();
            if is_race(&op) {
                if let Some(run) = self.runs.get_mut(&run_id) {
                    run.racing.insert(id.clone());
                }
            }
            let memo = match op.op {
                Opcode::StepRun => Some(json!({ "data": op.data.unwrap_or(Value::Null) })),
                Opcode::Step => Some(op.data.unwrap_or(Value::Null)),
                Opcode::StepFailed => Some(json!({ "error": op.error.unwrap_or(Value::Null) })),
                Opcode::StepError if last_attempt => {
                    Some(json!({ "error": op.error.unwrap_or(Value::Null) }))
                }
                Opcode::StepError => {
                    failed_step = Some(op.error.unwrap_or(Value::Null));
                    None
                }
                Opcode::StepPlanned => {
                    self.set_pending(&run_id, &id);
                    self.enqueue(QueueItem::step(&run_id, &id));
                    None
                }
                Opcode::Sleep | Opcode::WaitForEvent => {
                    let paused = if op.op == Opcode::Sleep {
                        self.sleep(&run_id, &op)
                    } else {
                        self.wait_for_event(&run_id, &op)
                    };
                    match paused {
                        Ok(()) => None,
                        Err(OpFailure::FailEarly(error)) => {
                            return self.finish(&run_id, RunStatus::Failed, error);
                        }
                        Err(OpFailure::Retry(error)) => {
                            return self.retry_or_fail(item, error, retry_after, no_retry);
                        }
                    }
                }
                Opcode::InvokeFunction => {
                    self.invoke(&run_id, &op);
                    None
                }
                Opcode::RunComplete | Opcode::SyncRunComplete => {
                    done = Some(op.data.unwrap_or(Value::Null));
                    None
                }
                Opcode::DiscoveryRequest => {
                    discover = true;
                    None
                }
                Opcode::Gateway => {
                    outcome = outcome.or(self.gateway(&item, &op));
                    None
                }
                Opcode::AIGateway => {
                    outcome = outcome.or(self.ai_gateway(&item, &op));
                    None
                }
                Opcode::WaitForSignal => {
                    outcome = outcome.or(self.wait_for_signal(&run_id, &op));
                    None
                }
                other => {
                    // Not spoken by this engine yet: the step fails (the SDK raises a step
                    // error) rather than the run hanging.
                    let message = format!("the local engine does not support the {other} op yet");
                    Some(json!({"error": {"name": "UnsupportedOpcode", "message": message}}))
                }
            };
            if let Some(memo) = memo {
                if !self.account_step(&run_id, &memo) {
                    return; // over the state limit: the run failed
                }
                raced |= self.memoize(&run_id, &id, memo);
                discover = true;
            }
        }
        match outcome {
            OpOutcome::Ok => {}
            OpOutcome::FailRun(error) => {
                return self.finish(&item.run_id, RunStatus::Failed, error);
            }
            OpOutcome::Retry(error) => {
                return self.retry_or_fail(item, error, retry_after, no_retry);
            }
        }
        if let Some(output) = done {
            return self.finish(&run_id, RunStatus::Completed, output);
        }
        if let Some(error) = failed_step {
            return self.retry(item, &error, retry_after);
        }
        let Some(run) = self.runs.get_mut(&run_id) else {
            return;
        };
        if !run.status.is_active() {
            return;
        }
        if discover && (run.pending.is_empty() || raced) {
            // Request version 2: one discovery once every parallel branch is done, or as soon
            // as a race branch is (server `shouldEnqueueDiscovery`).
            if run.pending.is_empty() {
                run.disable_immediate = false;
            }
            self.enqueue(QueueItem::discovery(&run_id));
        }
    }

    /// Notes an op in the run's history and the timeline.
    pub(crate) fn record(&mut self, item: &QueueItem, op: &Op) {
        let at = from_unix_millis(self.now);
        let name = op.label().to_owned();
        if let Some(run) = self.runs.get_mut(&item.run_id) {
            run.history.push(StepRecord {
                id: op.id.clone(),
                name: name.clone(),
                op: op.op,
                attempt: item.attempt,
                opts: op.opts.clone(),
                at,
                resumed_at: None,
                output: op.data.clone(),
                error: op.error.clone(),
            });
        }
        self.tell(Happening::Step {
            run_id: item.run_id.clone(),
            step: name,
            op: op.op,
            attempt: item.attempt,
        });
    }

    /// Stores a step's memo; `true` when the step was a race branch (the run discovers at
    /// once).
    pub(crate) fn memoize(&mut self, run_id: &str, step: &str, memo: Value) -> bool {
        let Some(run) = self.runs.get_mut(run_id) else {
            return false;
        };
        run.steps.insert(step.to_owned(), memo);
        run.stack.push(step.to_owned());
        run.pending.remove(step);
        run.racing.remove(step)
    }

    fn set_pending(&mut self, run_id: &str, step: &str) {
        if let Some(run) = self.runs.get_mut(run_id) {
            run.pending.insert(step.to_owned());
        }
    }

    /// A sleep: until its duration passes or its time comes (server `SleepDuration`).
    fn sleep(&mut self, run_id: &str, op: &Op) -> Result<(), OpFailure> {
        let opts: SleepOpts = op.opts_as().unwrap_or_default();
        let spec = opts.duration.as_deref().unwrap_or(&op.name);
        let until = if spec.is_empty() {
            self.now
        } else {
            self.until(spec).ok_or_else(|| {
                let message = format!("the sleep {spec:?} is neither a time string nor a time");
                OpFailure::Retry(json!({"name": "Error", "message": message, "error": message}))
            })?
        };
        if until.saturating_sub(self.now) > limits::max_sleep_ms() {
            return Err(OpFailure::FailEarly(limits::timeout_too_long(true, spec)));
        }
        self.set_pending(run_id, &op.id);
        self.timers.add(
            until,
            Timer::Resume {
                run_id: run_id.to_owned(),
                step: op.id.clone(),
                memo: Value::Null,
            },
        );
        Ok(())
    }

    /// A wait for an event: a pause, and its timeout. An `if` that does not compile fails
    /// the run, as does a timeout past a year.
    fn wait_for_event(&mut self, run_id: &str, op: &Op) -> Result<(), OpFailure> {
        let opts: WaitForEventOpts = op.opts_as().unwrap_or_default();
        let event = opts.event.unwrap_or_else(|| op.name.clone());
        if let Some(expression) = &opts.if_expression {
            if let Err(e) = self.expressions.check(expression) {
                let message = "Wait for event If expression failed to compile";
                let mut error = limits::fail_early("InvalidExpression", message.to_owned());
                error["stack"] = Value::from(e);
                return Err(OpFailure::FailEarly(error));
            }
        }
        let until = match opts.timeout.as_deref().filter(|t| !t.is_empty()) {
            None => self.now,
            Some(t) => self.until(t).ok_or_else(|| {
                let message = format!("unable to parse wait for event expires: {t:?}");
                OpFailure::Retry(json!({"name": "Error", "message": message, "error": message}))
            })?,
        };
        if until.saturating_sub(self.now) > limits::max_sleep_ms() {
            let raw = opts.timeout.as_deref().unwrap_or_default();
            return Err(OpFailure::FailEarly(limits::timeout_too_long(false, raw)));
        }
        self.set_pending(run_id, &op.id);
        let pause = self.pauses.add(
            run_id,
            event,
            opts.if_expression,
            PauseKind::Wait {
                step: op.id.clone(),
            },
        );
        if let Some(run) = self.runs.get_mut(run_id) {
            run.pauses.push(pause);
        }
        self.timers.add(
            until,
            Timer::Resume {
                run_id: run_id.to_owned(),
                step: op.id.clone(),
                memo: Value::Null,
            },
        );
        Ok(())
    }

    fn invoke(&mut self, run_id: &str, op: &Op) {
        let opts: InvokeFunctionOpts = op.opts_as().unwrap_or_default();
        self.set_pending(run_id, &op.id);
        if !self.registry.functions.contains_key(&opts.function_id) {
            // The server fails the step at once (`InvokeFailHandler`).
            let message = format!("could not find function with ID: {}", opts.function_id);
            let memo = json!({"error": {"name": "Error", "message": message, "error": message}});
            return self.resume(run_id, &op.id, memo);
        }
        let correlation = format!("{run_id}.{}", op.id);
        let until = match opts.timeout.as_deref().and_then(|t| self.until(t)) {
            Some(t) => t,
            None => self
                .now
                .saturating_add(millis(inngest_protocol::limits::DEFAULT_INVOKE_TIMEOUT)),
        };
        let source = self.runs.get(run_id).map(|r| r.function_id.clone());
        let mut data = match opts.payload.data {
            Value::Object(map) => Value::Object(map),
            _ => json!({}),
        };
        let meta = InvokeMeta {
            fn_id: opts.function_id.clone(),
            correlation_id: correlation.clone(),
            source_fn_id: source,
            gid: Some(run_id.to_owned()),
            name: Some(op.label().to_owned()),
            expire: Some(inngest_protocol::time::rfc3339(from_unix_millis(until))),
            ..InvokeMeta::default()
        };
        data["_inngest"] = serde_json::to_value(meta).unwrap_or(Value::Null);
        let mut invoked = json!({"name": FUNCTION_INVOKED_EVENT, "data": data});
        if let Some(user) = opts.payload.user {
            invoked["user"] = user;
        }
        if let Some(id) = opts.payload.id {
            invoked["id"] = Value::from(id);
        }
        let pause = self.pauses.add(
            run_id,
            FUNCTION_FINISHED_EVENT.to_owned(),
            None,
            PauseKind::Invoke {
                step: op.id.clone(),
                correlation,
            },
        );
        if let Some(run) = self.runs.get_mut(run_id) {
            run.pauses.push(pause);
        }
        let memo = json!({"error": {
            "name": "InngestInvokeTimeoutError",
            "message": "Timed out waiting for invoked function to complete",
            "error": "InngestInvokeTimeoutError: Timed out waiting for invoked function to complete",
        }});
        self.timers.add(
            until,
            Timer::Resume {
                run_id: run_id.to_owned(),
                step: op.id.clone(),
                memo,
            },
        );
        // The pause exists before the invoked run starts.
        self.inbox.push_back(invoked);
    }

    /// When a sleep or timeout ends: a time string from now, or a time (RFC 3339, or an
    /// HTTP date); a past time is now. `None` when it is neither.
    fn until(&self, spec: &str) -> Option<u64> {
        if spec.len() >= 10 {
            if let Some(t) = parse_rfc3339(spec).or_else(|| parse_http_date(spec)) {
                return Some(unix_millis(t).max(self.now));
            }
        }
        inngest_protocol::timestr::parse(spec)
            .ok()
            .map(|d| self.now.saturating_add(millis(d)))
    }
}

/// How an op that cannot be carried out ends the call.
enum OpFailure {
    /// The run fails at once, without retries (the server's "fail early").
    FailEarly(Value),
    /// The call is an error, retried as any.
    Retry(Value),
}

/// Whether an op is a branch of a race (`opts.parallelMode: "race"`).
fn is_race(op: &Op) -> bool {
    op.opts
        .as_ref()
        .and_then(|o| o.get("parallelMode"))
        .and_then(Value::as_str)
        == Some(PARALLEL_MODE_RACE)
}
