//! The step tools a function reaches through `ctx.step`.
//!
//! Every step is memoized by its id: once it has finished, later calls of the same run
//! replay its result instead of doing it again. A step that has not finished suspends the
//! function: its future stays pending (it never resolves with an "interrupted" error), the
//! SDK reports it to Inngest, and Inngest calls again when it is done.

pub mod ai;
mod fetch;
mod hooks;
mod invoke;
mod race;
mod realtime;
mod send;
mod signal;
mod sleep;
mod wait;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use tracing::Instrument;

use crate::client::Client;
use crate::error::{Error, NonRetriableError, StepError};
use crate::execution::memo::Memo;
use crate::execution::{Claim, NewStep, Op, SharedCall, StepOpts, StepOutcome};
use crate::execution::{StateLock, StepId, StepName};
use crate::json::Text;
use crate::middleware::{RunHooks, StepKind};
use inngest_protocol::op::{Opcode, RunOpts};
use inngest_protocol::step_id::hashed_cached;

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
    state: Arc<SharedCall>,
    env: Arc<StepEnv>,
    /// The call's middleware, when the function has any.
    hooks: Option<Arc<RunHooks>>,
    /// The run this call is for.
    run_id: Option<Text>,
    /// The name shown for the steps made through this value ([`Step::named`]).
    display_name: Option<Arc<str>>,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Step").finish_non_exhaustive()
    }
}

impl Step {
    pub(crate) fn new(state: Arc<SharedCall>, env: Arc<StepEnv>) -> Self {
        Step {
            state,
            env,
            hooks: None,
            run_id: None,
            display_name: None,
        }
    }

    /// The step tools of a call whose function has middleware.
    pub(crate) fn with_hooks(mut self, hooks: Arc<RunHooks>) -> Self {
        self.hooks = Some(hooks);
        self
    }

    /// The step tools of a call of the run `run_id`.
    pub(crate) fn for_run(mut self, run_id: Text) -> Self {
        self.run_id = Some(run_id);
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
    ///
    /// The step's future borrows these step tools (a replayed step then touches no reference
    /// count): await it, or join it with others, within the function.
    #[inline]
    pub fn run<'s, T, F, Fut>(
        &'s self,
        id: &str,
        f: F,
    ) -> impl Future<Output = Result<T, Error>> + use<'s, T, F, Fut>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<T, Error>> + Send,
    {
        self.run_kind(id, RunSpec::plain(StepKind::Run), f)
    }

    /// A run-like step of `spec`'s kind (its type tag for the UI: `step.run`,
    /// `step.sendEvent`, ...), named for display if [`Step::named`] was used.
    #[inline]
    fn run_kind<'s, T, F, Fut>(
        &'s self,
        id: &str,
        mut spec: RunSpec,
        f: F,
    ) -> impl Future<Output = Result<T, Error>> + use<'s, T, F, Fut>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<T, Error>> + Send,
    {
        // Borrowed, not cloned: a replayed step (most steps) touches no reference count.
        let state = &self.state;
        let first = hashed_cached(id);
        let id = StepName::new(id);
        if let Some(name) = &self.display_name {
            spec.more_mut().display_name = Some(name.clone());
        }
        async move {
            // Ids are claimed on first poll, like every step kind, so a race can tell which
            // branch used which memo. Only a box is kept across the await: the future of
            // every step (most of them replayed, never awaiting) stays as small as what it
            // captures, and is moved cheaply.
            let work = {
                let mut call = state.lock();
                // The common case, a memo replayed: nothing more to build than its value.
                if let Some(memo) = call.replay(&first) {
                    drop(call);
                    return replay_data(memo, &id);
                }
                let mut claim = call.claim(id, first);
                drop(call);
                match claim.hooks.take() {
                    Some(hooks) => futures::future::Either::Left(hooks::run_boxed(
                        state.clone(),
                        hooks,
                        claim,
                        spec,
                        f,
                    )),
                    None => match claim.memo.take() {
                        Some(memo) => return replay_data(memo, &claim.id.user),
                        // New work, at most once per call: kept out of line.
                        None => futures::future::Either::Right(Box::pin(run_new(
                            state.clone(),
                            claim.id,
                            spec,
                            f,
                        ))),
                    },
                }
            };
            work.await
        }
    }

    /// Claims the next id for `id`; a step that finished returns its memo.
    fn claim(&self, id: &str) -> Claim {
        self.state
            .lock()
            .claim(StepName::new(id), hashed_cached(id))
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

/// A new run-like step: reported until the executor lets it run, then run (in its span)
/// and its outcome recorded; it then stays pending (the call ends).
async fn run_new<T, F, Fut>(
    state: Arc<SharedCall>,
    id: StepId,
    spec: RunSpec,
    f: F,
) -> Result<T, Error>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let (state, id) = (&*state, &id);
    let kind = spec.kind;
    let step = run_step(id, spec);
    Gate { state, step: &step }.await;
    let attempt = state.lock().attempt();
    let result = f().instrument(step_span(id, kind, attempt)).await;
    let outcome = ran(state, step.to_op(false), to_json(result, id));
    let resumed = {
        let mut st = state.lock();
        if outcome.error.is_none() && st.continues_after_step() {
            // Checkpointing: the function goes on with the value as a replay would read it.
            let value = decode_ref(outcome.op.data.as_ref(), id);
            st.checkpointed(outcome.op);
            Some(value)
        } else {
            st.finish(outcome);
            None
        }
    };
    match resumed {
        Some(value) => value,
        None => std::future::pending().await,
    }
}

/// [`decode`] of a value that stays where it is (a checkpointed step's output).
fn decode_ref<T: DeserializeOwned>(value: Option<&Value>, id: &StepId) -> Result<T, Error> {
    T::deserialize(value.unwrap_or(&Value::Null)).map_err(|e| {
        NonRetriableError::new(format!(
            "the result of step `{}` does not deserialize into `{}`: {e}",
            id.user,
            std::any::type_name::<T>()
        ))
        .into()
    })
}

/// A memoized result of a run step: `{"data": v}` or a raw legacy value.
#[inline]
fn replay_data<T: DeserializeOwned>(memo: Memo, id: &StepName) -> Result<T, Error> {
    match memo {
        Memo::Data(value) | Memo::Raw(value) => decode(value, id),
        Memo::Error(error) => Err(StepError::from_memo(&error, id).into()),
        Memo::Input(_) => unreachable!("unfinished steps are not claimed as memos"),
    }
}

/// Deserializes a memoized value, saying which step and which type when it no longer fits
/// (the function's code changed since the step ran); `id` is the step's id as the user
/// wrote it (read only for the message: a `StepName`'s text is checked when it is read).
#[inline]
fn decode<T: DeserializeOwned>(value: Value, id: &StepName) -> Result<T, Error> {
    serde_json::from_value(value).map_err(|e| {
        NonRetriableError::new(format!(
            "the memoized result of step `{}` does not deserialize into `{}`: {e}",
            id,
            std::any::type_name::<T>()
        ))
        .into()
    })
}

/// What a run-like step reports besides its id: its kind, the deprecated `name` field when
/// it differs from the id, and (rarely, so boxed) a signal and a display name.
pub(super) struct RunSpec {
    kind: StepKind,
    name: Option<&'static str>,
    more: Option<Box<RunMore>>,
}

/// The rarer parts of a [`RunSpec`].
#[derive(Default)]
struct RunMore {
    signal: Option<String>,
    display_name: Option<Arc<str>>,
}

impl RunSpec {
    /// A step of `kind`, nothing more.
    fn plain(kind: StepKind) -> RunSpec {
        RunSpec {
            kind,
            name: None,
            more: None,
        }
    }

    /// A step of `kind` reported with the legacy `name` field.
    fn named(kind: StepKind, name: &'static str) -> RunSpec {
        RunSpec {
            name: Some(name),
            ..RunSpec::plain(kind)
        }
    }

    /// With the signal it sends (`step.sendSignal`).
    fn with_signal(mut self, signal: &str) -> RunSpec {
        self.more_mut().signal = Some(signal.to_owned());
        self
    }

    fn more_mut(&mut self) -> &mut RunMore {
        self.more.get_or_insert_with(Box::default)
    }

    /// The kind, for middleware and spans.
    pub(super) fn kind(&self) -> StepKind {
        self.kind
    }
}

/// The op of a new run-like step, reported as `StepPlanned`.
fn run_step(id: &StepId, spec: RunSpec) -> Box<NewStep> {
    let kind = match spec.kind {
        StepKind::SendEvent => "step.sendEvent",
        StepKind::SendSignal => "step.sendSignal",
        StepKind::AiWrap => "step.ai.wrap",
        StepKind::RealtimePublish => "step.realtime.publish",
        _ => "step.run",
    };
    let more = spec.more.map(|more| *more).unwrap_or_default();
    let opts = RunOpts {
        kind: Some(kind.to_owned()),
        signal: more.signal,
        ..RunOpts::default()
    };
    let mut step = NewStep::new(Opcode::StepPlanned, id, StepOpts::Run(opts));
    if let Some(name) = spec.name {
        step.op.name = name.to_owned();
    }
    if let Some(name) = more.display_name {
        step.op.display_name = name.to_string();
    }
    step
}

/// The span of a step's code as it runs: a child of the call's span.
fn step_span(id: &StepId, kind: StepKind, attempt: u32) -> tracing::Span {
    tracing::info_span!("inngest.step", id = %id.user, kind = %kind, attempt)
}

/// A step's result as JSON.
fn to_json<T: Serialize>(result: Result<T, Error>, id: &StepId) -> Result<Value, Error> {
    result.and_then(|value| {
        serde_json::to_value(value).map_err(|e| {
            NonRetriableError::new(format!(
                "the result of step `{}` does not serialize to JSON: {e}",
                id.user
            ))
            .into()
        })
    })
}

/// Whether a step's failure is its last: the call's last attempt, or an error that must not
/// be retried.
fn is_final(state: &StateLock, error: &Error) -> bool {
    !error.is_retriable() || state.lock().is_last_attempt()
}

/// The op reporting a step that ran: `StepRun`, or `StepError` while attempts remain, or
/// `StepFailed` on the last attempt or for an error that must not be retried.
fn ran(state: &StateLock, mut op: Op, result: Result<Value, Error>) -> StepOutcome {
    match result {
        Ok(data) => {
            op.op = Opcode::StepRun;
            op.data = Some(data);
            StepOutcome { op, error: None }
        }
        Err(error) => {
            op.op = if is_final(state, &error) {
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
    state: &'a StateLock,
    step: &'a NewStep,
}

/// A step future dropped before it ran (the loser of a race, a `select!` branch) withdraws
/// its op: only steps the function still waits for are reported.
impl Drop for Gate<'_> {
    fn drop(&mut self) {
        self.state.lock().withdraw(&self.step.op.id);
    }
}

impl Future for Gate<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.state.lock().gate(self.step, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
