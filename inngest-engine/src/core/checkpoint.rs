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
use super::types::CallId;
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

/// The `ctx.qi_id` of the call `id`: opaque to SDKs, which send it back.
pub(crate) fn queue_item_ref(id: CallId) -> String {
    format!("{}::local", id.0)
}

/// The call a `qi_id` names, if it is one of this engine's.
fn call_of(qi_id: &str) -> Option<CallId> {
    let (n, shard) = qi_id.split_once("::")?;
    (shard == "local").then_some(())?;
    n.parse().ok().map(CallId)
}

impl Core {
    /// Saves the steps an SDK ran inside a call (`POST /v1/checkpoint/{runId}/async`), as
    /// the server does: every op must be one the server calls sync, else nothing is saved
    /// ("cannot checkpoint async steps"); the run's state with the new outputs must stay
    /// within 32 MiB and each output within 4 MiB (413); `StepRun` and `Step` outputs are
    /// memoized (a step saved before is left as it was), `StepPlanned` and the lazy defer
    /// ops are accepted and change nothing, any other op is refused from there on. Then the
    /// attempts of the call's queue item (`qi_id`) start over.
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
        let call = call_of(&checkpoint.qi_id);
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
}
