//! Async checkpoints (`POST /v1/checkpoint/{runId}/async`, protocol-2.md section 1.3): an SDK
//! that runs steps inside a call saves them as it goes, and the call's queue item starts its
//! attempts over (server `checkpointAsyncSteps`).

use std::time::SystemTime;

use inngest_protocol::checkpoint::{is_sync, AsyncCheckpoint};
use inngest_protocol::limits::{MAX_STATE_BYTES, MAX_STEP_OUTPUT_BYTES};
use inngest_protocol::op::Opcode;
use serde_json::{json, Value};

use super::limits::json_size;
use super::queue::QueueItem;
use super::timers::Timer;
use super::Core;

/// Why a checkpoint was refused: the status the API answers with and the server's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CheckpointError {
    /// `400` (not found, an op that cannot be checkpointed), `413` (a step or the run's
    /// state over its limit), `409` (a stale call), or `500` (the engine's store failed).
    pub status: u16,
    /// The server's message.
    pub message: String,
}

impl CheckpointError {
    fn bad(message: impl Into<String>) -> CheckpointError {
        CheckpointError {
            status: 400,
            message: message.into(),
        }
    }

    fn too_large(message: impl Into<String>) -> CheckpointError {
        CheckpointError {
            status: 413,
            message: message.into(),
        }
    }
}

/// How long after the SDK received its call a checkpoint is taken on trust (server
/// `dispatchValidationSkipDuration`).
const DISPATCH_VALIDATION_SKIP_MS: i64 = 10_000;

/// The `ctx.qi_id` of the queue item `job` (as the server's `<jobID>::<shardID>`): opaque to
/// SDKs, which send it back.
pub(crate) fn queue_item_ref(job: u64) -> String {
    format!("{job}::local")
}

/// The queue item a `qi_id` names, if it is one of this engine's.
fn job_of(qi_id: &str) -> Option<u64> {
    let (n, shard) = qi_id.split_once("::")?;
    (shard == "local").then_some(())?;
    n.parse().ok()
}

/// A checkpoint from a call superseded since: 409 (server `ErrStaleDispatch`).
fn stale(detail: String) -> CheckpointError {
    CheckpointError {
        status: 409,
        message: format!("stale dispatch: {detail}"),
    }
}

impl Core {
    /// Saves the steps an SDK ran inside a call (`POST /v1/checkpoint/{runId}/async`), as
    /// the server does: every op must be one the server calls sync, else nothing is saved
    /// ("cannot checkpoint async steps"); the run's state with the new outputs must stay
    /// within 32 MiB and each output within 4 MiB (413); `StepRun` and `Step` outputs are
    /// memoized (a step saved before is left as it was), `StepPlanned` and the lazy defer
    /// ops are accepted and change nothing, any other op is refused from there on. Then the
    /// attempts of the call's queue item (`qi_id`) start over.
    ///
    /// A checkpoint with a `generation_id` sent 10 s or more after its call began
    /// (`request_started_at`) is checked against its queue item first, as the server's
    /// stale-dispatch fence does: when the item is gone (its call was answered, or the run
    /// moved on) or was queued again since (a retry, a restart: another generation), nothing
    /// is saved and the answer is 409 `stale dispatch: ...`.
    pub fn checkpoint(
        &mut self,
        checkpoint: &AsyncCheckpoint,
        now: SystemTime,
    ) -> Result<(), CheckpointError> {
        self.advance_clock(now);
        let result = self.save_checkpoint(checkpoint);
        self.settle();
        result
    }

    fn save_checkpoint(&mut self, checkpoint: &AsyncCheckpoint) -> Result<(), CheckpointError> {
        let run_id = checkpoint.run_id.as_str();
        let state_bytes = match self.runs.get(run_id) {
            Some(run)
                if run.status.is_active()
                    && (checkpoint.fn_id.is_empty() || checkpoint.fn_id == run.function_id) =>
            {
                run.state_bytes
            }
            _ => return Err(CheckpointError::bad("run not found in state store")),
        };
        if checkpoint.steps.iter().any(|op| !is_sync(op.op)) {
            return Err(CheckpointError::bad("cannot checkpoint async steps"));
        }
        self.validate_dispatch(checkpoint)?;
        let memo = |op: &inngest_protocol::op::Op| match op.op {
            Opcode::StepRun => json!({ "data": op.data.clone().unwrap_or(Value::Null) }),
            _ => op.data.clone().unwrap_or(Value::Null),
        };
        let outputs: usize = checkpoint
            .steps
            .iter()
            .filter(|op| matches!(op.op, Opcode::StepRun | Opcode::Step))
            .map(|op| json_size(&memo(op)))
            .sum();
        if state_bytes + outputs > MAX_STATE_BYTES {
            return Err(CheckpointError::too_large(
                "run state size limit exceeded: state is too large",
            ));
        }
        let call = job_of(&checkpoint.qi_id).and_then(|job| self.calls_by_job.get(&job).copied());
        let item = call
            .and_then(|id| self.in_flight.get(&id))
            .map(|(item, _)| item.clone())
            .filter(|item| item.run_id == run_id)
            .unwrap_or_else(|| QueueItem::discovery(run_id));
        for op in &checkpoint.steps {
            match op.op {
                Opcode::StepRun | Opcode::Step => {
                    let memo = memo(op);
                    if json_size(&memo) > MAX_STEP_OUTPUT_BYTES {
                        return Err(CheckpointError::too_large(format!(
                            "step {} output too large: step output size is greater than the limit",
                            op.id
                        )));
                    }
                    let saved = self
                        .runs
                        .get(run_id)
                        .is_some_and(|run| run.steps.contains_key(&op.id));
                    if saved {
                        continue; // server: a duplicate response is ignored
                    }
                    self.record(&item, op);
                    if !self.account_step(run_id, &memo) {
                        return Err(CheckpointError::too_large(
                            "run state size limit exceeded: state is too large",
                        ));
                    }
                    self.memoize(run_id, &op.id, memo);
                }
                Opcode::StepPlanned | Opcode::DeferAdd | Opcode::DeferAbort => {}
                other => {
                    return Err(CheckpointError::bad(format!(
                        "cannot checkpoint opcode: {other}"
                    )))
                }
            }
        }
        // The call goes on with a fresh count (server `ResetAttemptsByJobID`).
        if let Some((item, _)) = call.and_then(|id| self.in_flight.get_mut(&id)) {
            if item.run_id == run_id {
                item.attempt = 0;
            }
        }
        Ok(())
    }

    /// The server's `validateAsyncDispatch`: skipped without a generation, within 10 s of
    /// the call's start (a start in the future is checked), for a `qi_id` that is not this
    /// engine's, or for an item without a generation; else the item must be queued or out,
    /// at the checkpoint's generation.
    fn validate_dispatch(&self, checkpoint: &AsyncCheckpoint) -> Result<(), CheckpointError> {
        let sent = checkpoint.generation_id.unwrap_or(0);
        if sent == 0 {
            return Ok(());
        }
        if let Some(started) = checkpoint.request_started_at.filter(|at| *at != 0) {
            let elapsed = i64::try_from(self.now)
                .unwrap_or(i64::MAX)
                .saturating_sub(started);
            if (0..DISPATCH_VALIDATION_SKIP_MS).contains(&elapsed) {
                return Ok(());
            }
        }
        let Some(job) = job_of(&checkpoint.qi_id) else {
            return Ok(());
        };
        match self.generation_of(job) {
            None => Err(stale("queue item not found".to_owned())),
            Some(0) => Ok(()),
            Some(current) if i64::from(current) != sent => Err(stale(format!(
                "dispatch generation {sent} does not match queue item generation {current}"
            ))),
            Some(_) => Ok(()),
        }
    }

    /// The generation of the queue item `job` while it is out, waiting to be called, or
    /// waiting for its retry; `None` once it is gone.
    fn generation_of(&self, job: u64) -> Option<u32> {
        if let Some((item, _)) = self
            .calls_by_job
            .get(&job)
            .and_then(|id| self.in_flight.get(id))
        {
            return Some(item.generation);
        }
        let waiting = self.ready.items.values().map(|w| &w.item);
        let retrying = self.timers.iter().filter_map(|(_, timer)| match timer {
            Timer::Enqueue(item) => Some(item),
            _ => None,
        });
        waiting
            .chain(retrying)
            .find(|item| item.job == job)
            .map(|item| item.generation)
    }
}
