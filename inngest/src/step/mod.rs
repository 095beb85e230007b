//! The step tools a function reaches through `ctx.step`.

pub mod id;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, NonRetriableError, StepError};
use crate::execution::{lock, CallState, StepOutcome};
use crate::memo::Memo;
use crate::wire::{Op, Opcode};
use id::StepId;

/// The step tools of one call: `ctx.step.run(...)`.
///
/// Each step is memoized by its id: once it has run, later calls of the same run replay its
/// result instead of running it again.
#[derive(Clone)]
pub struct Step {
    state: Arc<Mutex<CallState>>,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Step").finish_non_exhaustive()
    }
}

impl Step {
    pub(crate) fn new(state: Arc<Mutex<CallState>>) -> Self {
        Step { state }
    }

    /// Runs `f` as a durable step named `id`, at most once per run: its JSON result is
    /// memoized and replayed on later calls.
    ///
    /// If `f` fails, Inngest retries the step; once the step has failed for good, this
    /// returns a [`StepError`] (which, if not handled, fails the run without more retries).
    /// A [`NonRetriableError`] from `f` fails the step at once; a
    /// [`RetryAfterError`](crate::RetryAfterError) sets when it is retried.
    ///
    /// Using the same `id` again in one run (in a loop) is fine: repeats are counted.
    pub fn run<T, F, Fut>(&self, id: &str, f: F) -> impl Future<Output = Result<T, Error>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let state = self.state.clone();
        let claim = lock(&state).claim(id);
        async move {
            if let Some(memo) = claim.memo {
                return replay(memo, &claim.id);
            }
            let op = planned(&claim.id, "step.run");
            Gate {
                state: &state,
                op: &op,
            }
            .await;
            let result = f().await;
            let outcome = ran(&state, op, result);
            lock(&state).finish(outcome);
            std::future::pending().await
        }
    }
}

/// A memoized result, returned where the step is awaited.
fn replay<T: DeserializeOwned>(memo: Memo, id: &StepId) -> Result<T, Error> {
    match memo {
        Memo::Data(value) => serde_json::from_value(value).map_err(|e| {
            NonRetriableError::new(format!(
                "the memoized result of step `{}` does not deserialize into `{}`: {e}",
                id.user,
                std::any::type_name::<T>()
            ))
            .into()
        }),
        Memo::Error(error) => Err(StepError::from_memo(&error).into()),
        Memo::Input(_) => unreachable!("unfinished steps are not claimed as memos"),
    }
}

/// The op of a new step, as reported before it runs.
fn planned(id: &StepId, kind: &str) -> Op {
    let mut op = Op::new(Opcode::StepPlanned, id);
    op.opts = Some(serde_json::json!({ "type": kind }));
    op
}

/// The op reporting a step that ran: `StepRun`, or `StepError` while attempts remain, or
/// `StepFailed` on the last attempt or for an error that must not be retried.
fn ran<T: Serialize>(
    state: &Mutex<CallState>,
    mut op: Op,
    result: Result<T, Error>,
) -> StepOutcome {
    let result = result.and_then(|value| {
        serde_json::to_value(value).map_err(|e| {
            NonRetriableError::new(format!(
                "the result of step `{}` does not serialize to JSON: {e}",
                op.name
            ))
            .into()
        })
    });
    op.opts = None;
    match result {
        Ok(data) => {
            op.op = Opcode::StepRun;
            op.data = Some(data);
            StepOutcome { op, error: None }
        }
        Err(error) => {
            let last = lock(state).is_last_attempt();
            op.op = if !error.is_retriable() || last {
                Opcode::StepFailed
            } else {
                Opcode::StepError
            };
            op.error = Some(error.to_serialized());
            StepOutcome {
                op,
                error: Some(error),
            }
        }
    }
}

/// Waits until the executor lets a new step run; until then the step is reported as found.
struct Gate<'a> {
    state: &'a Mutex<CallState>,
    op: &'a Op,
}

impl Future for Gate<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if lock(self.state).gate(self.op, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
