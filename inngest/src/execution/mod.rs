//! Running one call request: the suspension model of design.md section 4.
//!
//! The function's future is polled. A memoized step resolves at once; a new step registers
//! itself in the call's [`CallState`] and stays `Pending` (it never resolves with an
//! "interrupted" error a user could swallow). When the function is `Pending` with new steps
//! found, the executor ([`Driver`]) decides: run exactly one new step now (when immediate
//! execution is allowed), or report the steps as planned ops. Then the future is dropped.
//! Before it decides it lets the runtime have a turn, so that a branch whose wake-up the
//! runtime deferred (`tokio::task::yield_now`) reaches its step first, as the TypeScript SDK
//! lets pending microtasks settle.

pub(crate) mod checkpoint;
mod driven;
pub(crate) mod memo;
pub(crate) mod replay;
mod step_name;

pub(crate) use driven::{Driver, Driving};
pub(crate) use step_name::StepName;

/// A claimed step's id: the user's, its index among the uses of it, its hashed id.
pub(crate) type StepId = inngest_protocol::step_id::StepId<StepName>;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use futures::task::AtomicWaker;
use inngest_protocol::error::SerializedError;
use inngest_protocol::op::{
    AiGatewayOpts, GatewayOpts, InvokeFunctionOpts, Opcode, RunOpts, SleepOpts, WaitForEventOpts,
    WaitForSignalOpts, PARALLEL_MODE_RACE,
};
use inngest_protocol::step_id::{HashedId, IdCounter};

use crate::error::Error;
use crate::execution::checkpoint::Checkpoint;
use crate::execution::memo::{Memo, MemoKey, Memos, Stack};
use crate::json::RawJson;
use crate::middleware::RunHooks;

/// An op as this SDK reports it, with its own serialized errors.
pub(crate) type Op = inngest_protocol::op::Op<SerializedError>;

/// A new step found in a call: its op, and its options typed by its kind until it is reported.
#[derive(Debug, Clone)]
pub(crate) struct NewStep {
    pub op: Op,
    pub opts: StepOpts,
}

/// The options of a new step's op.
#[derive(Debug, Clone)]
pub(crate) enum StepOpts {
    /// `step.run`, `step.sendEvent`: `StepPlanned`, then `StepRun`/`StepError`/`StepFailed`.
    Run(RunOpts),
    /// `Sleep`.
    Sleep(SleepOpts),
    /// `WaitForEvent`.
    WaitForEvent(WaitForEventOpts),
    /// `InvokeFunction`.
    InvokeFunction(InvokeFunctionOpts),
    /// `WaitForSignal`.
    WaitForSignal(WaitForSignalOpts),
    /// `Gateway` (`step.fetch`).
    Gateway(GatewayOpts),
    /// `AIGateway` (`step.ai.infer`).
    AiGateway(AiGatewayOpts),
}

impl StepOpts {
    /// The options as JSON (what middleware's `transform_step_input` sees).
    pub(crate) fn to_value(&self) -> serde_json::Value {
        match self {
            StepOpts::Run(o) => serde_json::to_value(o),
            StepOpts::Sleep(o) => serde_json::to_value(o),
            StepOpts::WaitForEvent(o) => serde_json::to_value(o),
            StepOpts::InvokeFunction(o) => serde_json::to_value(o),
            StepOpts::WaitForSignal(o) => serde_json::to_value(o),
            StepOpts::Gateway(o) => serde_json::to_value(o),
            StepOpts::AiGateway(o) => serde_json::to_value(o),
        }
        // Plain structs of strings and JSON values: they always serialize.
        .unwrap_or_default()
    }

    /// Options of the same kind as `self`, read from `value`.
    pub(crate) fn same_kind_from(
        &self,
        value: serde_json::Value,
    ) -> Result<StepOpts, serde_json::Error> {
        Ok(match self {
            StepOpts::Run(_) => StepOpts::Run(serde_json::from_value(value)?),
            StepOpts::Sleep(_) => StepOpts::Sleep(serde_json::from_value(value)?),
            StepOpts::WaitForEvent(_) => StepOpts::WaitForEvent(serde_json::from_value(value)?),
            StepOpts::InvokeFunction(_) => StepOpts::InvokeFunction(serde_json::from_value(value)?),
            StepOpts::WaitForSignal(_) => StepOpts::WaitForSignal(serde_json::from_value(value)?),
            StepOpts::Gateway(_) => StepOpts::Gateway(serde_json::from_value(value)?),
            StepOpts::AiGateway(_) => StepOpts::AiGateway(serde_json::from_value(value)?),
        })
    }
}

impl NewStep {
    /// The step `id` reported with `opcode` and these options. Boxed: a step's future holds
    /// it across its suspension, and every step future (one per step of a `join_all`) has
    /// room for it, replayed or not.
    pub(crate) fn new(opcode: Opcode, id: &StepId, opts: StepOpts) -> Box<NewStep> {
        Box::new(NewStep {
            op: Op::for_step(opcode, id),
            opts,
        })
    }

    /// The op as it is reported, with its options; a branch of a race is marked as one.
    pub(crate) fn to_op(&self, in_race: bool) -> Op {
        let mut opts = self.opts.clone();
        if in_race {
            let mode = match &mut opts {
                StepOpts::Run(o) => &mut o.parallel_mode,
                StepOpts::Sleep(o) => &mut o.parallel_mode,
                StepOpts::WaitForEvent(o) => &mut o.parallel_mode,
                StepOpts::InvokeFunction(o) => &mut o.parallel_mode,
                StepOpts::WaitForSignal(o) => &mut o.parallel_mode,
                StepOpts::Gateway(o) => &mut o.parallel_mode,
                StepOpts::AiGateway(o) => &mut o.parallel_mode,
            };
            *mode = Some(PARALLEL_MODE_RACE.to_owned());
        }
        let opts = match &opts {
            StepOpts::Run(o) => serde_json::to_value(o),
            StepOpts::Sleep(o) => serde_json::to_value(o),
            StepOpts::WaitForEvent(o) => serde_json::to_value(o),
            StepOpts::InvokeFunction(o) => serde_json::to_value(o),
            StepOpts::WaitForSignal(o) => serde_json::to_value(o),
            StepOpts::Gateway(o) => serde_json::to_value(o),
            StepOpts::AiGateway(o) => serde_json::to_value(o),
        };
        let mut op = self.op.clone();
        // Plain structs of strings and JSON values: they always serialize.
        op.opts = opts.ok();
        op
    }
}

/// What a call is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `stepId=step`: replay, then discover new steps.
    Discovery {
        /// Whether one new `run` step may be executed in this call.
        immediate: bool,
    },
    /// `stepId=<hash>`: replay, then run exactly this step.
    Step(String),
}

/// The state shared between a call's step futures and its executor.
#[derive(Debug)]
pub(crate) struct CallState {
    /// The request's memos by their hashed ids' text, taken as they are claimed.
    memos: Memos,
    ids: IdCounter,
    target: Target,
    last_attempt: bool,
    /// New steps found in this call, in the order they were found.
    found: Vec<Op>,
    /// How many turns the runtime has had since a step was last found (see [`settle`]).
    settle_turns: u8,
    wakers: HashMap<String, Waker>,
    /// The new step the executor has told to run.
    authorized: Option<String>,
    /// A step's code is running.
    running: bool,
    /// The result of the step that ran in this call (boxed as the call's outcome will be:
    /// most calls replay, and a small state is cheaper to build and move).
    outcome: Option<Box<StepOutcome>>,
    /// `ctx.stack.stack`: the memoized steps' hashed ids in the order they finished.
    stack: Stack,
    /// Where each memoized step stands in `stack`, by key; built when a race first needs it.
    stack_pos: Option<HashMap<MemoKey, usize>>,
    /// The latest stack position among memos claimed since the last reset (for races).
    claimed_pos: Option<usize>,
    /// How many races the step being polled is inside.
    race_depth: u32,
    /// The 0-based attempt of the call.
    attempt: u32,
    /// The call's middleware, when the function has any (handed to each step as it claims
    /// its id).
    hooks: Option<Arc<RunHooks>>,
    /// How many finished memos no step has claimed yet.
    unclaimed: usize,
    /// Whether the call is still replaying memoized steps: until every memo is claimed or a
    /// new step is found.
    replaying: bool,
    /// Checkpointing, when the call does it (boxed: most calls do not).
    checkpoint: Option<Box<Checkpoint>>,
}

/// A step that ran in this call, as it is reported.
#[derive(Debug)]
pub(crate) struct StepOutcome {
    /// `StepRun`, `StepError` or `StepFailed`.
    pub op: Op,
    /// The error, for `StepError`/`StepFailed`, to choose the response headers.
    pub error: Option<Error>,
}

/// A step id claimed by a step call, with its memo if it has one.
pub(crate) struct Claim {
    pub id: StepId,
    pub memo: Option<Memo>,
    /// This claim ended the replay of memoized steps (it took the last memo, or found a new
    /// step): what follows is new work.
    pub ended_replay: bool,
    /// The call's middleware, when the function has any.
    pub hooks: Option<Arc<RunHooks>>,
}

impl CallState {
    /// The state of a call from the request's memos as JSON values (the fuzz targets'
    /// entry; the handler classifies memos as it parses them, see [`CallState::from_memos`]).
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn new(
        steps: impl IntoIterator<Item = (String, serde_json::Value)>,
        stack: Vec<String>,
        target: Target,
        last_attempt: bool,
    ) -> Self {
        let memos = Memos::from_values(steps);
        Self::from_memos(
            memos,
            Stack::from_ids(&stack),
            target,
            last_attempt,
            0,
            None,
        )
    }

    /// The state of a call of the 0-based `attempt` whose memos are already classified; a
    /// call that checkpoints (a discovery call that allows it) has its `checkpoint`.
    ///
    /// Every part is given here, not set afterwards: the state is some 400 bytes, and each
    /// builder step would copy it whole.
    pub(crate) fn from_memos(
        steps: Memos,
        stack: Stack,
        target: Target,
        last_attempt: bool,
        attempt: u32,
        checkpoint: Option<Checkpoint>,
    ) -> Self {
        let unclaimed = steps.finished();
        CallState {
            unclaimed,
            replaying: unclaimed > 0,
            attempt,
            hooks: None,
            stack,
            stack_pos: None,
            claimed_pos: None,
            race_depth: 0,
            memos: steps,
            ids: IdCounter::default(),
            target,
            last_attempt,
            found: Vec::new(),
            settle_turns: 0,
            wakers: HashMap::new(),
            authorized: None,
            running: false,
            outcome: None,
            checkpoint: checkpoint.map(Box::new),
        }
    }

    /// Whether a step that succeeded joins the checkpoint buffer and lets the function go
    /// on (rather than ending the call).
    pub(crate) fn continues_after_step(&self) -> bool {
        self.checkpoint.as_ref().is_some_and(|c| c.continues)
    }

    /// Buffers the `StepRun` of a step that ran: the function goes on with its value.
    pub(crate) fn checkpointed(&mut self, op: Op) {
        self.running = false;
        // It was reported as found until it ran; it is done now.
        self.found.retain(|found| found.id != op.id);
        self.wakers.remove(&op.id);
        if let Some(checkpoint) = &mut self.checkpoint {
            checkpoint.buffer.push(op);
        }
    }

    /// The buffered steps, taken (to save them or to report them).
    pub(super) fn take_buffer(&mut self) -> Vec<Op> {
        self.checkpoint
            .as_mut()
            .map(|c| std::mem::take(&mut c.buffer))
            .unwrap_or_default()
    }

    /// The memo of a step's first use of its id, taken, when that is all a claim would do:
    /// the memo finished, the function has no middleware (which sees every step), and no
    /// race tracks what its branches claim. Else `None`, and the step claims its id
    /// ([`CallState::claim`]). A replay ends here as it does there.
    ///
    /// A replayed step builds no [`StepId`] and no [`Claim`] (ten memoized steps: about 950
    /// instructions fewer, as `bench-calls` counts them).
    #[inline]
    pub(crate) fn replay(&mut self, first: &HashedId) -> Option<Memo> {
        if self.hooks.is_some() || self.race_depth > 0 {
            return None;
        }
        let slot = self.memos.slot(first)?;
        if !slot.as_ref().is_some_and(Memo::is_final) {
            return None;
        }
        let memo = slot.take();
        self.replayed(true);
        memo
    }

    /// Counts a claim against the replay: one memo fewer to replay if it `took` one, else
    /// new work; the replay ends with new work or the last memo. `true` if it ended here.
    #[inline]
    fn replayed(&mut self, took: bool) -> bool {
        if !self.replaying {
            return false;
        }
        if took {
            self.unclaimed -= 1;
        }
        if !took || self.unclaimed == 0 {
            return self.end_replay();
        }
        false
    }

    /// Claims the next id for `user_id` and takes its memo, if it finished.
    /// `first` is the hashed id of the id's first use (`hashed_cached(user_id)`).
    ///
    /// `#[inline]`, as what it calls per step (`StepName::new`, `Memos::slot`): the
    /// step tools' futures are generic, compiled in the user's crate, and a function of this
    /// crate is inlined there only if marked so (a ten-step replay: about 550 instructions
    /// fewer, as `bench-calls` counts them).
    #[inline]
    pub(crate) fn claim(&mut self, user_id: StepName, first: HashedId) -> Claim {
        // The first use of an id whose memo no step took has index 0 (every id handed out
        // takes its memo, so no use took this hashed id), and the counter is not asked: the
        // memo, now taken, tells it the hashed id is in use.
        let (id, memo) = match self.memos.slot(&first).and_then(Option::take) {
            Some(memo) => {
                let id = StepId {
                    user: user_id,
                    index: 0,
                    hashed_id: first,
                };
                (id, Some(memo))
            }
            None => {
                let memos = &self.memos;
                let id = self
                    .ids
                    .next_with_first_unless(user_id, first, |h| memos.is_taken(h));
                let memo = self.memos.take(&id.hashed_id);
                (id, memo)
            }
        };
        let memo = memo.filter(Memo::is_final);
        let ended_replay = self.replayed(memo.is_some());
        // Only a race branch reads the stack position of what it claimed
        // (`enter_race_branch` forgets the positions claimed before it).
        if memo.is_some() && self.race_depth > 0 {
            let stack = &self.stack;
            let stack_pos = self.stack_pos.get_or_insert_with(|| {
                stack
                    .keys()
                    .into_iter()
                    .enumerate()
                    .map(|(i, key)| (key, i))
                    .collect()
            });
            // Memos missing from the stack sort after every listed one.
            let pos = stack_pos
                .get(id.hashed_id.as_bytes())
                .copied()
                .unwrap_or(usize::MAX);
            self.claimed_pos = Some(self.claimed_pos.map_or(pos, |p| p.max(pos)));
        }
        Claim {
            id,
            memo,
            ended_replay,
            hooks: self.hooks.clone(),
        }
    }

    /// The call's middleware, for the steps to run through.
    pub(crate) fn set_hooks(&mut self, hooks: Arc<RunHooks>) {
        self.hooks = Some(hooks);
    }

    /// Whether the call is still replaying memoized steps.
    pub(crate) fn is_replaying(&self) -> bool {
        self.replaying
    }

    /// Ends the replay (new work begins); `true` if it was still on.
    pub(crate) fn end_replay(&mut self) -> bool {
        let was = std::mem::replace(&mut self.replaying, false);
        // Claims run inside the executor's poll, on its thread.
        replay::set(false);
        was
    }

    /// Starts tracking which memos a race branch claims.
    pub(crate) fn enter_race_branch(&mut self) {
        self.race_depth += 1;
        self.claimed_pos = None;
    }

    /// Stops tracking; returns the latest stack position the branch claimed.
    pub(crate) fn leave_race_branch(&mut self) -> Option<usize> {
        self.race_depth -= 1;
        self.claimed_pos.take()
    }

    /// The 0-based attempt of the call.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt
    }

    pub(crate) fn is_last_attempt(&self) -> bool {
        self.last_attempt
    }

    /// Called by a new step's future on each poll: `true` once it may run its code.
    /// Until then it is reported as found (once) and its waker kept.
    /// Only `run` steps (reported as `StepPlanned`) ever run in the SDK; other kinds stay
    /// suspended until Inngest resumes them with a memo.
    pub(crate) fn gate(&mut self, step: &NewStep, waker: &Waker) -> bool {
        let op = &step.op;
        let runnable = op.op == Opcode::StepPlanned;
        let may_run = runnable
            && match &self.target {
                Target::Step(hash) => *hash == op.id && self.outcome.is_none() && !self.running,
                Target::Discovery { .. } => self.authorized.as_deref() == Some(op.id.as_str()),
            };
        if may_run {
            self.authorized = None;
            self.running = true;
            return true;
        }
        if !self.wakers.contains_key(&op.id) {
            self.found.push(step.to_op(self.race_depth > 0));
            self.settle_turns = 0;
        }
        self.wakers.insert(op.id.clone(), waker.clone());
        false
    }

    /// Forgets a step whose future was dropped while waiting at its gate.
    pub(crate) fn withdraw(&mut self, id: &str) {
        if self.wakers.remove(id).is_some() {
            self.found.retain(|op| op.id != id);
        }
    }

    /// Records the result of the step that ran.
    pub(crate) fn finish(&mut self, outcome: StepOutcome) {
        self.running = false;
        self.outcome = Some(Box::new(outcome));
    }
}

/// The lock of a call's state: a spin lock, as nothing ever waits on it. One task polls a
/// call's function, its steps and its checkpoints, and holds the lock only for a few
/// statements without awaiting; a step future the user moved to another task is the one way
/// two threads meet here, and each then holds it as briefly. Every step takes it (a ten-step
/// replay, ten times): its unlock is a plain store, where the standard mutex's is an atomic
/// exchange. Under it run only the SDK's code and the clone or drop of a step's waker, never
/// the user's function or a step's closure. A panic while it is held leaves no poison (there
/// is nothing to recover from one); the panic is reported by [`drive`].
pub(crate) type StateLock = spin::Mutex<CallState>;

/// How a call ended.
#[derive(Debug)]
pub(crate) enum CallOutcome {
    /// The function returned this value (as JSON text).
    Completed(RawJson),
    /// The function returned an error.
    Failed(Error),
    /// User code panicked.
    Panicked(String),
    /// One step ran.
    StepRan(Box<StepOutcome>),
    /// New steps were found and are reported.
    Planned(Vec<Op>),
    /// Inngest refused a checkpoint as stale (409): the call ends with this error, which
    /// must not be retried.
    Rejected(SerializedError),
    /// The targeted step was never reached.
    TargetNotFound {
        /// The requested hashed id.
        requested: String,
        /// The new steps found instead.
        found: Vec<Op>,
    },
}

/// A call's state, shared by its step futures and its executor, with what the executor's
/// waker needs: the function is polled with a waker made from this same allocation, so a
/// poll allocates nothing. It reads as the state's mutex.
pub(crate) struct SharedCall {
    state: StateLock,
    /// Whether the function woke itself (or a step was authorized) during the current poll.
    woken: AtomicBool,
    /// The task that polls the executor.
    parent: AtomicWaker,
    /// Whether the executor waits for the runtime's turn it asked for (see [`settle`]).
    settling: AtomicBool,
}

impl SharedCall {
    #[inline]
    pub(crate) fn new(state: CallState) -> Arc<SharedCall> {
        Arc::new(SharedCall {
            state: StateLock::new(state),
            woken: AtomicBool::new(false),
            parent: AtomicWaker::new(),
            settling: AtomicBool::new(false),
        })
    }
}

impl std::ops::Deref for SharedCall {
    type Target = StateLock;

    fn deref(&self) -> &StateLock {
        &self.state
    }
}

impl Wake for SharedCall {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.parent.wake();
    }
}

/// A function's future as the executor polls it: a panic in it comes out as `Err`.
pub(super) type Function<'a> =
    dyn Future<Output = std::thread::Result<Result<RawJson, Error>>> + Send + 'a;

/// Why the executor stopped polling.
pub(super) enum Stop {
    /// The call is answered with this.
    Done(CallOutcome),
    /// The checkpoint buffer is to be saved before anything else runs.
    Flush,
}

/// How many turns in a row the runtime is given while the function keeps being woken without
/// finding a new step (a branch that spins on `yield_now` must not hold the call forever).
const MAX_SETTLE_TURNS: u8 = 16;

/// Has the call's task polled again once the runtime has had a turn: after the wake-ups it
/// defers to the end of a poll, which `tokio::task::yield_now` uses (a branch of a `join!`
/// that yields before it reaches its step is only woken then). The official TypeScript SDK
/// waits the same way for pending microtasks before it reports what a call found.
///
/// Until the turn's wake-up comes, the executor does not poll the function: a wake-up the
/// function gets in that turn stays marked (`woken`) for the executor to see.
fn settle(state: &Arc<SharedCall>) {
    state.settling.store(true, Ordering::Release);
    let waker = Waker::from(Arc::new(TurnTaken(state.clone())));
    // The first poll hands the waker to the runtime (or, outside one, wakes it at once) and
    // is pending; the runtime keeps the waker, so the future may go.
    let _ = std::pin::pin!(tokio::task::yield_now()).poll(&mut TaskContext::from_waker(&waker));
}

/// The wake-up of a runtime's turn that [`settle`] asked for.
struct TurnTaken(Arc<SharedCall>);

impl Wake for TurnTaken {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.settling.store(false, Ordering::Release);
        self.0.parent.wake();
    }
}

/// Polls the function until it must stop: an outcome, or a checkpoint to save first.
///
/// Not generic: the function's future is reached through `dyn`, so the executor is compiled
/// once, not once per function.
pub(super) fn poll_once(
    mut future: Pin<&mut Function<'_>>,
    state: &Arc<SharedCall>,
    replaying: &mut bool,
    cx: &mut TaskContext<'_>,
) -> Poll<Stop> {
    state.parent.register(cx.waker());
    if state.settling.load(Ordering::Acquire) {
        // Polled before the runtime's turn came (by a wrapper that polls twice): the turn's
        // wake-up polls again.
        return Poll::Pending;
    }
    let waker = Waker::from(state.clone());
    let mut inner_cx = TaskContext::from_waker(&waker);
    // Whether the function was woken since the last poll ended (read before the loop clears
    // the flag for this poll).
    let mut woken_between = state.woken.load(Ordering::Acquire);
    loop {
        state.woken.store(false, Ordering::Release);
        let outer = replay::set(*replaying);
        let polled = future.as_mut().poll(&mut inner_cx);
        *replaying = replay::set(outer);
        let done = |outcome| Poll::Ready(Stop::Done(outcome));
        match polled {
            Poll::Ready(Ok(Ok(value))) => return done(CallOutcome::Completed(value)),
            Poll::Ready(Ok(Err(error))) => return done(CallOutcome::Failed(error)),
            Poll::Ready(Err(panic)) => {
                return done(CallOutcome::Panicked(panic_message(panic.as_ref())))
            }
            Poll::Pending => {}
        }
        let mut st = state.lock();
        if let Some(outcome) = st.outcome.take() {
            return done(CallOutcome::StepRan(outcome));
        }
        if st.checkpoint.as_ref().is_some_and(|c| c.due()) {
            // Steps that ran are saved before anything else runs.
            return Poll::Ready(Stop::Flush);
        }
        if st.running || state.woken.load(Ordering::Acquire) {
            // A step's code is awaiting real work, or something woke itself (a large
            // join, a cooperative yield): the runtime polls again before we judge.
            return Poll::Pending;
        }
        if st.found.is_empty() {
            // Waiting on the user's own I/O outside any step.
            return Poll::Pending;
        }
        // A branch may still be on its way to a step, its wake-up deferred by the runtime to
        // after the poll: the runtime has a turn before we judge, and another while the
        // function was woken during the last one (a branch that yields again), up to a bound.
        let turns = st.settle_turns;
        let woken = std::mem::take(&mut woken_between);
        if turns == 0 || (woken && turns < MAX_SETTLE_TURNS) {
            st.settle_turns = turns + 1;
            drop(st);
            settle(state);
            return Poll::Pending;
        }
        match st.target.clone() {
            Target::Step(requested) => {
                let found = std::mem::take(&mut st.found);
                return done(CallOutcome::TargetNotFound { requested, found });
            }
            Target::Discovery { immediate } => {
                let single_run = st.found.len() == 1 && st.found[0].op == Opcode::StepPlanned;
                // Past `max_runtime`, a checkpointing call runs no new step.
                let runtime_passed = st.checkpoint.as_ref().is_some_and(|c| c.runtime_passed());
                if immediate && single_run && st.authorized.is_none() && !runtime_passed {
                    let id = st.found[0].id.clone();
                    st.authorized = Some(id.clone());
                    if let Some(w) = st.wakers.remove(&id) {
                        drop(st);
                        w.wake();
                    }
                    continue;
                }
                return done(CallOutcome::Planned(std::mem::take(&mut st.found)));
            }
        }
    }
}

/// A panic's payload as the SDK re-raises it once it knows where it came from (a middleware's
/// hook, named in the message); reported as it is.
#[derive(Debug)]
pub(crate) struct PanicMessage(pub String);

/// The message of a panic's payload.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(PanicMessage(message)) = panic.downcast_ref::<PanicMessage>() {
        message.clone()
    } else if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "the function panicked".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    /// A call's state whose memos are `(id, memo)`, keyed by the ids' hashed ids.
    fn state(memos: &[(&str, Value)]) -> CallState {
        let steps = memos
            .iter()
            .map(|(id, memo)| (HashedId::of(id).as_str().to_owned(), memo.clone()));
        CallState::new(
            steps,
            Vec::new(),
            Target::Discovery { immediate: true },
            false,
        )
    }

    #[test]
    fn a_replay_takes_each_finished_memo_once_and_ends_with_the_last() {
        let mut call = state(&[
            ("a", json!({ "data": 1 })),
            ("b", json!({ "error": { "message": "no" } })),
            ("c", json!({ "input": [3] })),
        ]);
        let (a, b, c) = (HashedId::of("a"), HashedId::of("b"), HashedId::of("c"));
        assert!(call.replay(&c).is_none(), "an unfinished step is claimed");
        assert!(call.replay(&HashedId::of("d")).is_none(), "no memo");
        assert!(matches!(call.replay(&a), Some(Memo::Data(v)) if v == json!(1)));
        assert!(call.replay(&a).is_none(), "a memo is taken once");
        assert!(call.is_replaying(), "b is not replayed yet");
        assert!(matches!(call.replay(&b), Some(Memo::Error(_))));
        assert!(
            !call.is_replaying(),
            "the last finished memo ends the replay"
        );
    }

    #[test]
    fn inside_a_race_the_step_claims_its_id_so_the_race_sees_where_it_stands() {
        let mut call = state(&[("a", json!({ "data": 1 }))]);
        let a = HashedId::of("a");
        call.enter_race_branch();
        assert!(call.replay(&a).is_none());
        let claim = call.claim(StepName::new("a"), a);
        assert!(claim.memo.is_some());
        assert_eq!(
            call.leave_race_branch(),
            Some(usize::MAX),
            "a memo off the stack"
        );
    }
}
