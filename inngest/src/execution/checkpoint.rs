//! Checkpointing in a call (protocol-2.md section 1.4): on a discovery call that allows it,
//! each new `step.run` runs at once; when it succeeds its `StepRun` op joins a buffer and the
//! function goes on with its value in the same call. The buffer is saved with Inngest (the
//! serving layer's [`Checkpointer`]) once it holds enough steps, every `max_interval`, and
//! always before the call answers with anything but the end of the run, which carries what
//! is still buffered: `206 [...buffer, RunComplete]`.
//!
//! What this module decides and what it leaves to [`drive`](super::drive):
//! - a step that ran on an attempt after the first is answered the classic way
//!   (`206 [StepRun]`), so that Inngest's attempt count starts over for the next step;
//! - once `max_runtime` has passed, the next new step is returned to Inngest as planned;
//! - a checkpoint refused with 409 (a stale call) ends the call with a non-retriable error;
//!   any other failure, after retries, returns the buffered steps the classic way
//!   (`206 [StepRun, ...]`).

use std::pin::Pin;
use std::time::{Duration, Instant};

use inngest_protocol::checkpoint::run_complete;
use inngest_protocol::error::SerializedError;

use super::{poll_once, CallOutcome, Function, Op, SharedCall, StateLock, Stop};
use crate::json::RawJson;
use crate::options::Checkpointing;
use futures::future::BoxFuture;
use std::sync::Arc;

/// Saves buffered steps with Inngest (`POST <api>/v1/checkpoint/{runId}/async`, or the
/// engine in this process), retrying as the official SDK does.
pub(crate) trait Checkpointer: Send + Sync {
    /// Saves `steps` (`StepRun` ops, in the order they ran).
    fn checkpoint(&self, steps: Vec<Op>) -> BoxFuture<'_, Result<(), CheckpointFailure>>;
}

/// Why buffered steps could not be saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CheckpointFailure {
    /// `409`: Inngest has given the call's work to another call; nothing more may run here.
    Stale(String),
    /// Anything else, after retries: the steps go back to Inngest in the answer.
    Failed(String),
}

/// The checkpointing state of a call.
#[derive(Debug)]
pub(crate) struct Checkpoint {
    /// Steps that ran and are not saved yet, in order.
    pub buffer: Vec<Op>,
    /// How many steps are saved at once.
    steps_per_checkpoint: usize,
    /// A step that succeeded lets the function go on (the call is a first attempt).
    pub continues: bool,
    /// No new step runs in the call after this.
    runtime_ends: Option<Instant>,
}

impl Checkpoint {
    /// The state of a call with these settings, started at `started`, of the 0-based
    /// `attempt`.
    pub(crate) fn new(settings: &Checkpointing, started: Instant, attempt: u32) -> Checkpoint {
        Checkpoint {
            buffer: Vec::new(),
            steps_per_checkpoint: settings.steps_per_checkpoint() as usize,
            continues: attempt == 0,
            runtime_ends: settings.runtime().map(|r| started + r),
        }
    }

    /// Whether the buffer is full enough to save.
    pub(crate) fn due(&self) -> bool {
        self.buffer.len() >= self.steps_per_checkpoint
    }

    /// Whether `max_runtime` has passed: new steps go back to Inngest.
    pub(crate) fn runtime_passed(&self) -> bool {
        self.runtime_ends.is_some_and(|end| Instant::now() >= end)
    }
}

/// The end of the run as a checkpointing call reports it: what is still buffered, then
/// `RunComplete` with the function's output.
pub(crate) fn completed(buffer: Vec<Op>, output: &RawJson) -> CallOutcome {
    let data = output.value().unwrap_or(serde_json::Value::Null);
    let mut ops = buffer;
    ops.push(run_complete(data));
    CallOutcome::Planned(ops)
}

/// The error a call ends with when Inngest refused a checkpoint as stale (409), as the
/// official SDK serializes its `StaleDispatchError`.
pub(crate) fn stale(message: String) -> SerializedError {
    SerializedError {
        name: "StaleDispatchError".to_owned(),
        message,
        stack: None,
        cause: None,
        step_id: None,
    }
}

/// Drives a checkpointing call: polls the function, saves the buffer when it is due (and
/// every `max_interval`), and ends the call as section 1.4 says.
pub(super) async fn drive(
    mut future: Pin<&mut Function<'_>>,
    state: &Arc<SharedCall>,
    replaying: &mut bool,
    checkpointer: &dyn Checkpointer,
    max_interval: Option<Duration>,
) -> CallOutcome {
    let mut next_flush = max_interval.map(|i| tokio::time::Instant::now() + i);
    loop {
        let polled = std::future::poll_fn(|cx| poll_once(future.as_mut(), state, replaying, cx));
        let stop = match next_flush {
            Some(at) => tokio::select! {
                stop = polled => stop,
                () = tokio::time::sleep_until(at) => Stop::Flush,
            },
            None => polled.await,
        };
        let outcome = match stop {
            Stop::Flush => {
                next_flush = max_interval.map(|i| tokio::time::Instant::now() + i);
                match flush(state, checkpointer).await {
                    Ok(()) => continue,
                    Err(outcome) => return outcome,
                }
            }
            Stop::Done(outcome) => outcome,
        };
        return match outcome {
            CallOutcome::Completed(output) => {
                // A full buffer is saved as it would have been had the function gone on;
                // what remains ends the run with it.
                let due = state.lock().checkpoint.as_ref().is_some_and(|c| c.due());
                if due {
                    if let Err(fallback) = flush(state, checkpointer).await {
                        return fallback;
                    }
                }
                completed(state.lock().take_buffer(), &output)
            }
            other => match flush(state, checkpointer).await {
                Ok(()) => other,
                Err(fallback) => fallback,
            },
        };
    }
}

/// Saves the buffered steps; on failure, how the call ends instead: a non-retriable error
/// for a stale call (409), else the buffered steps returned to Inngest.
async fn flush(state: &StateLock, checkpointer: &dyn Checkpointer) -> Result<(), CallOutcome> {
    let buffer = state.lock().take_buffer();
    if buffer.is_empty() {
        return Ok(());
    }
    match checkpointer.checkpoint(buffer.clone()).await {
        Ok(()) => Ok(()),
        Err(CheckpointFailure::Stale(message)) => {
            tracing::warn!(%message, "Inngest refused a checkpoint as stale; the call stops");
            Err(CallOutcome::Rejected(stale(message)))
        }
        Err(CheckpointFailure::Failed(message)) => {
            tracing::warn!(%message, "could not checkpoint; the steps go back to Inngest");
            Err(CallOutcome::Planned(buffer))
        }
    }
}
