//! A limit on how long a future may take, whose timer is set only if the future does not
//! finish when first polled: most call requests are answered in their first poll (a replay
//! of memoized steps; a body that came whole with the headers), and then no clock is read and
//! no timer made.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

/// `future`, or `Err(())` if it takes longer than `limit` after its first poll (a first poll
/// blocks the thread it runs on, so no timer could have cut it short anyway).
///
/// The caller pins the future (on its own stack or in a box): taken by value, it would have a
/// second place in this future's state.
pub(crate) async fn within<F: Future + ?Sized>(
    limit: Duration,
    mut future: Pin<&mut F>,
) -> Result<F::Output, ()> {
    let first = std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(output) => Ok(output),
        // Boxed: the timer is the rare path, and would take room in every future that waits
        // on this one.
        Poll::Pending => Box::pin(tokio::time::timeout(limit, future))
            .await
            .map_err(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;

    #[tokio::test]
    async fn a_ready_future_needs_no_timer_and_a_stuck_one_is_cut_off() {
        // A zero limit does not cut short a future that is ready at once.
        assert_eq!(within(Duration::ZERO, pin!(async { 7 })).await, Ok(7));
        let stuck = pin!(std::future::pending::<()>());
        assert_eq!(within(Duration::from_millis(20), stuck).await, Err(()));
        // Pending at first, then ready well within its limit.
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move { tx.send(8) });
        assert_eq!(within(Duration::from_secs(30), pin!(rx)).await, Ok(Ok(8)));
    }
}
