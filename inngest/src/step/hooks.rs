//! Steps through the call's middleware (`transform_step_input`, `wrap_step`, and for the
//! steps the SDK runs, `on_step_start`, `wrap_step_handler`, `on_step_complete` and
//! `on_step_error`). Only functions with middleware come here: the others take the plain path.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use super::{ran, run_step, step_span, to_json, Gate, RunSpec, Step};
use crate::error::{Error, NonRetriableError, StepError};
use crate::execution::memo::Memo;
use crate::execution::{Claim, NewStep, StepOpts};
use crate::execution::{SharedCall, StateLock, StepId};
use crate::middleware::{RunHooks, StepInfo, StepKind};

/// What a step is told about itself.
fn info(state: &StateLock, id: &StepId, kind: StepKind, memoized: bool) -> StepInfo {
    StepInfo {
        id: id.user.to_string(),
        hashed_id: id.hashed(),
        kind,
        memoized,
        attempt: state.lock().attempt(),
    }
}

/// [`run`], boxed (and kept out of the plain path's code), with its value read into `T`.
#[inline(never)]
pub(super) fn run_boxed<'a, T, F, Fut>(
    state: Arc<SharedCall>,
    hooks: Arc<RunHooks>,
    claim: Claim,
    spec: RunSpec,
    f: F,
) -> Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>
where
    T: Serialize + DeserializeOwned + 'a,
    F: FnOnce() -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, Error>> + Send + 'a,
{
    Box::pin(async move {
        let Claim {
            id,
            memo,
            ended_replay,
            ..
        } = claim;
        let value = run(&state, &hooks, &id, memo, ended_replay, spec, f).await?;
        super::decode(value, &id.user)
    })
}

/// A `step.run` or `step.send_event`: its memo, or its handler run as new work (then the
/// step reports its outcome and stays pending).
#[allow(clippy::too_many_arguments)]
pub(super) async fn run<T, F, Fut>(
    state: &StateLock,
    hooks: &RunHooks,
    id: &StepId,
    memo: Option<Memo>,
    ended_replay: bool,
    spec: RunSpec,
    f: F,
) -> Result<Value, Error>
where
    T: Serialize,
    F: FnOnce() -> Fut + Send,
    Fut: Future<Output = Result<T, Error>> + Send,
{
    let (stack, run) = (&hooks.stack, &hooks.run);
    let kind = spec.kind();
    let step = info(state, id, kind, memo.is_some());
    stack
        .transform_step_input(run, &step, &mut Value::Null)
        .await?;
    if ended_replay {
        hooks.memoization_end().await;
    }
    let inner: futures::future::BoxFuture<'_, Result<Value, Error>> = match memo {
        Some(memo) => Box::pin(std::future::ready(memo_result(memo, id))),
        None => Box::pin(async {
            let new = run_step(id, spec);
            Gate { state, step: &new }.await;
            hooks.memoization_end().await;
            stack.on_step_start(run, &step).await;
            let handler = async { to_json(f().await, id) };
            let span = step_span(id, kind, step.attempt);
            let result = stack
                .wrap_step_handler(run, &step, Box::pin(handler.instrument(span)))
                .await;
            match &result {
                Ok(output) => stack.on_step_complete(run, &step, output).await,
                Err(error) => {
                    let last = super::is_final(state, error);
                    stack.on_step_error(run, &step, error, last).await;
                }
            }
            let outcome = ran(state, new.to_op(false), result);
            let resumed = {
                let mut st = state.lock();
                if outcome.error.is_none() && st.continues_after_step() {
                    // Checkpointing: the function goes on with the output, which `wrap_step`
                    // reads as it reads a memo.
                    let output = outcome.op.data.clone().unwrap_or(Value::Null);
                    st.checkpointed(outcome.op);
                    Some(output)
                } else {
                    st.finish(outcome);
                    None
                }
            };
            match resumed {
                Some(output) => Ok(output),
                None => std::future::pending().await,
            }
        }),
    };
    stack.wrap_step(run, &step, inner).await
}

/// A memoized `step.run` result: `{"data": v}` or a raw legacy value, or its error.
fn memo_result(memo: Memo, id: &StepId) -> Result<Value, Error> {
    match memo {
        Memo::Data(value) | Memo::Raw(value) => Ok(value),
        Memo::Error(error) => Err(StepError::from_memo(&error, &id.user).into()),
        Memo::Input(_) => unreachable!("unfinished steps are not claimed as memos"),
    }
}

impl Step {
    /// A step Inngest does (a sleep, a wait, an invoke) through the call's middleware:
    /// `memo` is what its memo means (`None` for a new step), `new` builds its op (its
    /// options go through `transform_step_input`). Returns what the step gives the function;
    /// a new step stays pending.
    pub(super) async fn through_hooks(
        &self,
        hooks: &RunHooks,
        id: &StepId,
        ended_replay: bool,
        kind: StepKind,
        memo: Option<Result<Value, Error>>,
        new: impl FnOnce() -> Result<Box<NewStep>, Error>,
    ) -> Result<Value, Error> {
        let (stack, run) = (&hooks.stack, &hooks.run);
        let step = info(&self.state, id, kind, memo.is_some());
        let inner: futures::future::BoxFuture<'_, Result<Value, Error>> = match memo {
            Some(result) => {
                stack
                    .transform_step_input(run, &step, &mut Value::Null)
                    .await?;
                if ended_replay {
                    hooks.memoization_end().await;
                }
                Box::pin(std::future::ready(result))
            }
            None => {
                let mut new = new()?;
                let mut input = new.opts.to_value();
                stack.transform_step_input(run, &step, &mut input).await?;
                new.opts = new.opts.same_kind_from(input).map_err(|e| {
                    NonRetriableError::new(format!(
                        "step `{}`: the input `transform_step_input` gave is not valid: {e}",
                        id.user
                    ))
                })?;
                if let StepOpts::Sleep(opts) = &new.opts {
                    // The sleep's op name is its duration.
                    if let Some(duration) = &opts.duration {
                        new.op.name = duration.clone();
                    }
                }
                hooks.memoization_end().await;
                Box::pin(self.suspend(new))
            }
        };
        stack.wrap_step(run, &step, inner).await
    }
}
