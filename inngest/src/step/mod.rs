//! The step tools a function reaches through `ctx.step`.
//!
//! Every step is memoized by its id: once it has finished, later calls of the same run
//! replay its result instead of doing it again. A step that has not finished suspends the
//! function: its future stays pending (it never resolves with an "interrupted" error), the
//! SDK reports it to Inngest, and Inngest calls again when it is done.

pub mod ai;
mod fetch;
mod invoke;
mod race;
mod realtime;
mod send;
mod signal;
mod sleep;
mod wait;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, NonRetriableError, StepError};
use crate::execution::memo::Memo;
use crate::execution::{lock, CallState, Claim, NewStep, Op, StepOpts, StepOutcome};
use inngest_protocol::op::{Opcode, RunOpts};
use inngest_protocol::step_id::StepId;

pub use ai::{Ai, Model};
pub use fetch::{FetchRequest, FetchResponse};
pub use invoke::{Invocable, Invoke};
pub use race::Either;
pub use signal::{OnConflict, Signal};
pub use sleep::{SleepFor, SleepUntil};
pub use wait::WaitForEvent;

/// What steps need from the app.
#[derive(Debug)]
pub(crate) struct StepEnv {
    /// The app id, for composite function ids.
    pub app_id: String,
    /// Sends events for `send_event`.
    pub client: Client,
}

/// The step tools of one call: `ctx.step.run(...)`, `ctx.step.sleep(...)`, ...
///
/// A step takes its id when its future is first polled; repeated ids are numbered in that
/// order (`id`, `id:1`, ...), which for plain `.await`s and `join!` is the order in the code.
#[derive(Clone)]
pub struct Step {
    state: Arc<Mutex<CallState>>,
    env: Arc<StepEnv>,
    /// The run this call is for.
    run_id: Arc<str>,
    /// The name shown for the steps made through this value ([`Step::named`]).
    display_name: Option<Arc<str>>,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Step").finish_non_exhaustive()
    }
}

impl Step {
    pub(crate) fn new(state: Arc<Mutex<CallState>>, env: Arc<StepEnv>) -> Self {
        Step {
            state,
            env,
            run_id: Arc::from(""),
            display_name: None,
        }
    }

    /// The step tools of a call of the run `run_id`.
    pub(crate) fn for_run(mut self, run_id: &str) -> Self {
        self.run_id = Arc::from(run_id);
        self
    }

    /// The step tools with a display name for the step made next: Inngest shows the step
    /// under `name` while its id stays what memoizes it (the official SDKs'
    /// `{ id, name }`).
    ///
    /// ```no_run
    /// # async fn f(ctx: inngest::Context) -> Result<(), inngest::Error> {
    /// let user: String = ctx
    ///     .step
    ///     .named("Load the user")
    ///     .run("load-user", || async { Ok("ann".to_owned()) })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn named(&self, name: impl Into<String>) -> Step {
        Step {
            display_name: Some(Arc::from(name.into())),
            ..self.clone()
        }
    }

    /// Shows `step` under the display name, if one was given.
    fn display(&self, step: &mut NewStep) {
        if let Some(name) = &self.display_name {
            step.op.display_name = name.to_string();
        }
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
        self.run_kind(id, run_opts("step.run"), None, f)
    }

    /// A run step with its options (a type tag for the UI: `step.run`, `step.sendEvent`, ...)
    /// and, optionally, the deprecated `name` field set to something other than the id.
    fn run_kind<T, F, Fut>(
        &self,
        id: &str,
        opts: RunOpts,
        name: Option<&'static str>,
        f: F,
    ) -> impl Future<Output = Result<T, Error>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let state = self.state.clone();
        let id = id.to_owned();
        let display_name = self.display_name.clone();
        async move {
            // Ids are claimed on first poll, like every step kind, so a race can tell which
            // branch used which memo.
            let claim = lock(&state).claim(id);
            if let Some(memo) = claim.memo {
                return replay_data(memo, &claim.id);
            }
            let mut step = NewStep::new(Opcode::StepPlanned, &claim.id, StepOpts::Run(opts));
            if let Some(name) = name {
                step.op.name = name.to_owned();
            }
            if let Some(name) = display_name {
                step.op.display_name = name.to_string();
            }
            Gate {
                state: &state,
                step: &step,
            }
            .await;
            let result = f().await;
            let outcome = ran(&state, step.to_op(false), result);
            lock(&state).finish(outcome);
            std::future::pending().await
        }
    }

    /// Claims the next id for `id`; a step that finished returns its memo.
    fn claim(&self, id: &str) -> Claim {
        lock(&self.state).claim(id)
    }

    /// Reports `step` and stays suspended: Inngest does the step and resumes with a memo.
    async fn suspend<T>(&self, mut step: Box<NewStep>) -> T {
        self.display(&mut step);
        Gate {
            state: &self.state,
            step: &step,
        }
        .await;
        unreachable!("only run steps are let through the gate")
    }
}

/// The options of a run step of this kind (`step.run`, `step.sendEvent`, ...).
fn run_opts(kind: &str) -> RunOpts {
    RunOpts {
        kind: Some(kind.to_owned()),
        ..RunOpts::default()
    }
}

/// A memoized result of a run step: `{"data": v}` or a raw legacy value.
fn replay_data<T: DeserializeOwned>(memo: Memo, id: &StepId) -> Result<T, Error> {
    match memo {
        Memo::Data(value) | Memo::Raw(value) => decode(value, id),
        Memo::Error(error) => Err(StepError::from_memo(&error).into()),
        Memo::Input(_) => unreachable!("unfinished steps are not claimed as memos"),
    }
}

/// Deserializes a memoized value, saying which step and which type when it no longer fits
/// (the function's code changed since the step ran).
fn decode<T: DeserializeOwned>(value: Value, id: &StepId) -> Result<T, Error> {
    serde_json::from_value(value).map_err(|e| {
        NonRetriableError::new(format!(
            "the memoized result of step `{}` does not deserialize into `{}`: {e}",
            id.user,
            std::any::type_name::<T>()
        ))
        .into()
    })
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
                op.userland.as_ref().map_or("", |u| u.id.as_str())
            ))
            .into()
        })
    });
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
    step: &'a NewStep,
}

/// A step future dropped before it ran (the loser of a race, a `select!` branch) withdraws
/// its op: only steps the function still waits for are reported.
impl Drop for Gate<'_> {
    fn drop(&mut self) {
        lock(self.state).withdraw(&self.step.op.id);
    }
}

impl Future for Gate<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if lock(self.state).gate(self.step, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
