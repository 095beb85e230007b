//! Driving a function's future for one call: [`Driver::drive`] puts the function and the
//! executor that polls it into the call's one box.
//!
//! A call that does not checkpoint (every call but the discovery calls of a run that
//! checkpoints) is a [`Driven`]: the function's future and the little the executor keeps,
//! side by side, polled through `dyn` so that the executor is compiled once and not once per
//! function. A call that checkpoints awaits saves and a timer as well; it boxes the function
//! on its own and is driven by [`checkpoint::drive`](super::checkpoint::drive).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures::FutureExt;
use tracing::Instrument;

use super::checkpoint::{self, Checkpointer};
use super::{panic_message, poll_once, CallOutcome, SharedCall, Stop};
use crate::error::Error;
use crate::json::RawJson;

/// A call's function, driven: the future the serving layer awaits for the call's answer.
pub(crate) type Driving<'a> = Pin<Box<dyn Future<Output = CallOutcome> + Send + 'a>>;

/// What driving a call's function needs beside the function: the call's state, where its
/// checkpoints go, and its span.
pub(crate) struct Driver<'a> {
    /// The call's state, shared with the step tools.
    pub state: Arc<SharedCall>,
    /// Where the call's checkpoints are saved: given only to a call whose state checkpoints
    /// (`CallState::checkpoint`).
    pub checkpointer: Option<Box<dyn Checkpointer + 'a>>,
    /// How long steps may wait in the checkpoint buffer.
    pub max_interval: Option<Duration>,
    /// The call's span: the function runs in it.
    pub span: tracing::Span,
}

impl<'a> Driver<'a> {
    /// `future`, the function's, and its executor, in one box.
    ///
    /// A panic in user code is reported as [`CallOutcome::Panicked`], including one raised
    /// by a destructor when the suspended function is dropped at the end of the call.
    #[inline]
    pub(crate) fn drive<F>(self, future: F) -> Driving<'a>
    where
        F: Future<Output = Result<RawJson, Error>> + Send + 'a,
    {
        let Driver {
            state,
            checkpointer,
            max_interval,
            span,
        } = self;
        if let Some(checkpointer) = checkpointer {
            return checkpointing(Box::pin(future), state, checkpointer, max_interval, span);
        }
        // Built in one expression, in place: the function's future is moved as few times as
        // can be.
        let replaying = state.lock().is_replaying();
        Box::pin(Driven {
            future: Some(future),
            state,
            span,
            replaying,
        })
    }

    /// A call whose function panicked before it could be driven.
    pub(crate) fn panicked(self, message: String) -> Driving<'a> {
        Box::pin(std::future::ready(CallOutcome::Panicked(message)))
    }
}

/// A call that checkpoints (its function boxed on its own: the timer and the saves take room
/// that no other call needs).
fn checkpointing<'a>(
    future: Pin<Box<dyn Future<Output = Result<RawJson, Error>> + Send + 'a>>,
    state: Arc<SharedCall>,
    checkpointer: Box<dyn Checkpointer + 'a>,
    max_interval: Option<Duration>,
    span: tracing::Span,
) -> Driving<'a> {
    debug_assert!(
        state.lock().checkpoint.is_some(),
        "a checkpointer for a call that does not checkpoint"
    );
    // The function's future is dropped inside the last poll of the block, so in here.
    let block = async move {
        let future = AssertUnwindSafe(future.instrument(span)).catch_unwind();
        let mut future = std::pin::pin!(future);
        let mut replaying = state.lock().is_replaying();
        checkpoint::drive(
            future.as_mut(),
            &state,
            &mut replaying,
            &*checkpointer,
            max_interval,
        )
        .await
    };
    Box::pin(AssertUnwindSafe(block).catch_unwind().map(|polled| {
        polled.unwrap_or_else(|panic| CallOutcome::Panicked(panic_message(panic.as_ref())))
    }))
}

pin_project_lite::pin_project! {
    /// A function driven by the executor in a call that does not checkpoint.
    struct Driven<F> {
        // The function: its span entered and its panics caught at each poll (not wrapped in
        // `Instrumented` and `CatchUnwind`, which would each move it once more as the call
        // begins). `None` once the call has its outcome: it is dropped inside the last poll,
        // where a panicking destructor is caught too.
        #[pin]
        future: Option<F>,
        state: Arc<SharedCall>,
        span: tracing::Span,
        // Whether the function replays memoized steps, as the thread's flag tells it while
        // it is polled (claims clear it the moment new work begins).
        replaying: bool,
    }
}

impl<F> Future for Driven<F>
where
    F: Future<Output = Result<RawJson, Error>> + Send,
{
    type Output = CallOutcome;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<CallOutcome> {
        let mut this = self.project();
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let Some(future) = this.future.as_mut().as_pin_mut() else {
                // Polled again after its outcome (the serving layer never does).
                return Poll::Pending;
            };
            let mut guarded = Guarded {
                future,
                span: this.span,
            };
            let guarded: Pin<&mut Guarded<'_, F>> = Pin::new(&mut guarded);
            let polled = poll_plain(guarded, this.state, this.replaying, cx);
            if polled.is_ready() {
                let _entered = this.span.enter();
                this.future.set(None);
            }
            polled
        }));
        polled.unwrap_or_else(|panic| Poll::Ready(CallOutcome::Panicked(panic_message(&*panic))))
    }
}

/// A function's future as the executor polls it: in the call's span, a panic caught.
struct Guarded<'p, F> {
    future: Pin<&'p mut F>,
    span: &'p tracing::Span,
}

impl<F> Future for Guarded<'_, F>
where
    F: Future<Output = Result<RawJson, Error>>,
{
    type Output = std::thread::Result<Result<RawJson, Error>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let _entered = this.span.enter();
        match std::panic::catch_unwind(AssertUnwindSafe(|| this.future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// One poll of a call that does not checkpoint.
fn poll_plain(
    future: Pin<&mut super::Function<'_>>,
    state: &Arc<SharedCall>,
    replaying: &mut bool,
    cx: &mut TaskContext<'_>,
) -> Poll<CallOutcome> {
    poll_once(future, state, replaying, cx).map(|stop| match stop {
        Stop::Done(outcome) => outcome,
        // Only a checkpointing call buffers steps.
        Stop::Flush => CallOutcome::Planned(state.lock().take_buffer()),
    })
}
