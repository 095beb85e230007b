//! Acting on the ops of a 206 answer (server `HandleGeneratorResponse`): memoize what ran,
//! queue planned steps, pause for sleeps, waits and invokes, retry failed steps, end the run.

use std::time::Duration;

use inngest_protocol::event::{InvokeMeta, FUNCTION_FINISHED_EVENT, FUNCTION_INVOKED_EVENT};
use inngest_protocol::op::{InvokeFunctionOpts, Op, Opcode, SleepOpts, WaitForEventOpts};
use inngest_protocol::time::{from_unix_millis, parse_rfc3339, unix_millis};
use serde_json::{json, Value};

use super::events::PauseKind;
use super::gateway::OpOutcome;
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
        let mut done: Option<Value> = None;
        let mut failed_step: Option<Value> = None;
        // What the ops the server handles itself asked for (the first that asked wins).
        let mut outcome = OpOutcome::Ok;
        for op in ops {
            if op.op == Opcode::None {
                continue;
            }
            self.record(&item, &op);
            let id = op.id.clone();
            match op.op {
                Opcode::StepRun => {
                    let memo = json!({ "data": op.data.unwrap_or(Value::Null) });
                    discover |= self.memoize(&item.run_id, &id, memo);
                }
                Opcode::Step => {
                    discover |= self.memoize(&item.run_id, &id, op.data.unwrap_or(Value::Null));
                }
                Opcode::StepFailed => {
                    let memo = json!({ "error": op.error.unwrap_or(Value::Null) });
                    discover |= self.memoize(&item.run_id, &id, memo);
                }
                Opcode::StepError if last_attempt => {
                    let memo = json!({ "error": op.error.unwrap_or(Value::Null) });
                    discover |= self.memoize(&item.run_id, &id, memo);
                }
                Opcode::StepError => failed_step = Some(op.error.unwrap_or(Value::Null)),
                Opcode::StepPlanned => {
                    self.set_pending(&item.run_id, &id);
                    self.ready.push(QueueItem::step(&item.run_id, &id));
                }
                Opcode::Sleep => self.sleep(&item.run_id, &op),
                Opcode::WaitForEvent => self.wait_for_event(&item.run_id, &op),
                Opcode::InvokeFunction => self.invoke(&item.run_id, &op),
                Opcode::RunComplete | Opcode::SyncRunComplete => {
                    done = Some(op.data.unwrap_or(Value::Null));
                }
                Opcode::DiscoveryRequest => discover = true,
                Opcode::Gateway => outcome = outcome.or(self.gateway(&item, &op)),
                Opcode::AIGateway => outcome = outcome.or(self.ai_gateway(&item, &op)),
                Opcode::WaitForSignal => {
                    outcome = outcome.or(self.wait_for_signal(&item.run_id, &op));
                }
                other => {
                    // Not spoken by this engine yet: the step fails (the SDK raises a step
                    // error) rather than the run hanging.
                    let message = format!("the local engine does not support the {other} op yet");
                    let memo = json!({"error": {"name": "UnsupportedOpcode", "message": message}});
                    discover |= self.memoize(&item.run_id, &id, memo);
                }
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
            return self.finish(&item.run_id, RunStatus::Completed, output);
        }
        if let Some(error) = failed_step {
            return self.retry(item, &error, retry_after);
        }
        let Some(run) = self.runs.get_mut(&item.run_id) else {
            return;
        };
        if discover && run.pending.is_empty() {
            // Request version 2: one discovery once every parallel branch is done.
            run.disable_immediate = false;
            self.ready.push(QueueItem::discovery(&item.run_id));
        }
    }

    /// Notes an op in the run's history and the timeline.
    fn record(&mut self, item: &QueueItem, op: &Op) {
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

    /// Stores a step's memo; `true` when the run should be discovered again.
    fn memoize(&mut self, run_id: &str, step: &str, memo: Value) -> bool {
        let Some(run) = self.runs.get_mut(run_id) else {
            return false;
        };
        run.steps.insert(step.to_owned(), memo);
        run.stack.push(step.to_owned());
        run.pending.remove(step);
        true
    }

    fn set_pending(&mut self, run_id: &str, step: &str) {
        if let Some(run) = self.runs.get_mut(run_id) {
            run.pending.insert(step.to_owned());
        }
    }

    fn sleep(&mut self, run_id: &str, op: &Op) {
        let opts: SleepOpts = op.opts_as().unwrap_or_default();
        let spec = opts.duration.as_deref().unwrap_or(&op.name);
        let until = self.until(spec);
        self.set_pending(run_id, &op.id);
        self.timers.add(
            until,
            Timer::Resume {
                run_id: run_id.to_owned(),
                step: op.id.clone(),
                memo: Value::Null,
            },
        );
    }

    fn wait_for_event(&mut self, run_id: &str, op: &Op) {
        let opts: WaitForEventOpts = op.opts_as().unwrap_or_default();
        let event = opts.event.unwrap_or_else(|| op.name.clone());
        let until = opts.timeout.as_deref().map_or(self.now, |t| self.until(t));
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
        let until = match opts.timeout.as_deref() {
            Some(t) => self.until(t),
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

    /// When a sleep or timeout ends: a time string from now, or an RFC 3339 time (a past
    /// time, or one that does not parse, is now).
    fn until(&self, spec: &str) -> u64 {
        if let Ok(d) = inngest_protocol::timestr::parse(spec) {
            return self.now.saturating_add(millis(d));
        }
        parse_rfc3339(spec).map_or(self.now, |t| unix_millis(t).max(self.now))
    }
}
