//! One served connection: its deadline for a request head and its part in a graceful
//! shutdown, kept at a cost per connection rather than per request.
//!
//! hyper's own header-read timeout sets a timer for every request head (a clock read and the
//! timer wheel's lock, and one more turn of the connection's loop to start it), and
//! hyper-util's graceful shutdown polls a notification every time the connection is polled:
//! together about a twentieth of a replayed call request's instructions. Here a connection
//! has one timer that ticks every quarter of the timeout, and counts the requests that its
//! service starts and finishes; a connection that has started no request and had none in
//! flight across a whole timeout (between one and one and a half timeouts, by the ticks) is
//! closed, as hyper closes one whose head does not arrive in time: a client that sends
//! nothing, or a head a byte at a time, is cut off; one whose handler or response takes long
//! is not. Shutdown is a flag read on each poll and a notification that wakes every
//! connection once.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use http::{Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use crate::serving::handler::InngestService;
use crate::serving::response::Body;

/// How many ticks a timeout is: the tick's period is the timeout over this.
const TICKS_PER_TIMEOUT: u32 = 4;

/// The requests a connection's service has started and finished (a streamed answer finishes
/// when its body ends). The connection waits for a request head when the two are equal.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    started: AtomicU64,
    finished: AtomicU64,
}

impl Requests {
    fn start(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }

    /// The started and finished counts.
    fn counts(&self) -> (u64, u64) {
        (
            self.started.load(Ordering::Relaxed),
            self.finished.load(Ordering::Relaxed),
        )
    }
}

/// The endpoint as one connection's hyper service: it counts the requests it answers.
///
/// A closure, not a type of ours: its future (the request's, about 1 kB) has a type no one
/// can name, so a service type would box it for every request; hyper keeps it in the slot it
/// holds per connection instead.
fn counted(
    service: InngestService,
    requests: Arc<Requests>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Body>, Infallible>> + Send + 'static,
> + Send
       + 'static {
    hyper::service::service_fn(move |req: Request<Incoming>| {
        requests.start();
        let requests = requests.clone();
        let (parts, body) = req.into_parts();
        service
            .clone()
            .respond(parts, body)
            .map(move |res| Ok(finishing(res, requests)))
    })
}

/// `res`, counted as finished now if its body is whole, or when its streamed body ends.
fn finishing(res: Response<Body>, requests: Arc<Requests>) -> Response<Body> {
    if !res.body().is_streamed() {
        requests.finish();
        return res;
    }
    res.map(|body| Body::streamed(Finishing { body, requests }))
}

/// A streamed body that counts its request as finished when it is dropped (hyper drops a
/// body once it has sent it, or when the connection ends).
struct Finishing {
    body: Body,
    requests: Arc<Requests>,
}

impl Drop for Finishing {
    fn drop(&mut self) {
        self.requests.finish();
    }
}

impl http_body::Body for Finishing {
    type Data = bytes::Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<bytes::Bytes>, Infallible>>> {
        std::pin::Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Whether a connection has waited for a request head too long, judged at its ticks.
#[derive(Debug, Default)]
pub(crate) struct HeadWait {
    /// Requests started as of the last tick.
    started: u64,
    /// Ticks in a row at which the connection waited for a head and had started no request
    /// since the tick before.
    idle_ticks: u32,
}

impl HeadWait {
    /// A tick, with the connection's counts: whether it has waited for a head for a whole
    /// timeout. At the `n`th idle tick in a row it has waited at least `n - 1` periods (it
    /// may have begun to wait just before the first), so it is cut off at the
    /// `TICKS_PER_TIMEOUT + 1`th: after one to one and a half timeouts.
    pub(crate) fn tick(&mut self, (started, finished): (u64, u64)) -> bool {
        let idle = started == finished && started == self.started;
        self.started = started;
        self.idle_ticks = if idle { self.idle_ticks + 1 } else { 0 };
        self.idle_ticks > TICKS_PER_TIMEOUT
    }
}

/// The server's shutdown, as its connections see it.
#[derive(Debug, Default)]
pub(crate) struct Shutdown {
    begun: AtomicBool,
    notify: Arc<Notify>,
}

impl Shutdown {
    /// Tells every connection to finish what it is answering and close.
    pub(crate) fn begin(&self) {
        self.begun.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }
}

/// Serves connections for a server; see the module's docs.
pub(crate) struct Connections {
    builder: auto::Builder<TokioExecutor>,
    service: InngestService,
    header_timeout: Duration,
    shutdown: Arc<Shutdown>,
    /// One receiver per connection, so that the server can wait for every one to end.
    alive: watch::Sender<()>,
}

impl Connections {
    pub(crate) fn new(service: InngestService, header_timeout: Duration) -> Connections {
        Connections {
            builder: auto::Builder::new(TokioExecutor::new()),
            service,
            header_timeout,
            shutdown: Arc::new(Shutdown::default()),
            alive: watch::channel(()).0,
        }
    }

    /// Serves `stream` on a task of its own.
    pub(crate) fn spawn(&self, stream: TcpStream) {
        let requests = Arc::new(Requests::default());
        let service = counted(self.service.clone(), requests.clone());
        let conn = self
            .builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        // Made before the task runs: it sees a shutdown begun before its first poll.
        let stop = self.shutdown.notify.clone().notified_owned();
        let watch = Watch {
            requests,
            shutdown: self.shutdown.clone(),
            header_timeout: self.header_timeout,
            _alive: self.alive.subscribe(),
        };
        tokio::spawn(watch.serve(conn, stop));
    }

    /// Stops every connection once it has answered the requests it has begun, and returns
    /// when they have all ended.
    pub(crate) async fn shutdown(self) {
        self.shutdown.begin();
        self.alive.closed().await;
    }
}

/// What a connection's task keeps beside the connection.
struct Watch {
    requests: Arc<Requests>,
    shutdown: Arc<Shutdown>,
    header_timeout: Duration,
    /// Dropped when the connection ends.
    _alive: watch::Receiver<()>,
}

impl Watch {
    async fn serve<S>(
        self,
        conn: auto::Connection<'static, TokioIo<TcpStream>, S, TokioExecutor>,
        stop: tokio::sync::futures::OwnedNotified,
    ) where
        S: hyper::service::Service<
            Request<Incoming>,
            Response = Response<Body>,
            Error = Infallible,
        >,
        S::Future: 'static,
        TokioExecutor: auto::HttpServerConnExec<S::Future, Body>,
    {
        let period = (self.header_timeout / TICKS_PER_TIMEOUT).max(Duration::from_millis(1));
        let mut conn = pin!(conn);
        let mut stop = pin!(stop);
        let mut tick = pin!(tokio::time::sleep(period));
        let mut wait = HeadWait::default();
        // Whether `stop` and `tick` have been polled (so hold this task's waker).
        let mut registered = false;
        let mut stopping = false;
        let ended = std::future::poll_fn(|cx| {
            let first = !std::mem::replace(&mut registered, true);
            if first {
                // Registers for the wake-up; the flag below says whether a shutdown began.
                let _ = stop.as_mut().poll(cx);
            }
            if !stopping && self.shutdown.begun.load(Ordering::Acquire) {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            if let Poll::Ready(ended) = conn.as_mut().poll(cx) {
                return Poll::Ready(ended);
            }
            if !first && !tick.is_elapsed() {
                return Poll::Pending;
            }
            while tick.as_mut().poll(cx).is_ready() {
                if wait.tick(self.requests.counts()) {
                    return Poll::Ready(Err(format!(
                        "no request head within {}",
                        crate::timestr::format(self.header_timeout)
                    )
                    .into()));
                }
                tick.as_mut().reset(Instant::now() + period);
            }
            Poll::Pending
        })
        .await;
        if let Err(e) = ended {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_cut_off_after_a_whole_timeout_without_a_request() {
        // Never a request: cut off at the fifth tick (four periods after the first tick, at
        // which it may have just begun to wait).
        let mut wait = HeadWait::default();
        let cut: Vec<bool> = (0..5).map(|_| wait.tick((0, 0))).collect();
        assert_eq!(cut, [false, false, false, false, true]);
    }

    #[test]
    fn a_request_started_or_in_flight_restarts_the_wait() {
        let mut wait = HeadWait::default();
        for _ in 0..4 {
            assert!(!wait.tick((0, 0)));
        }
        // A request started since the last tick: the wait starts over.
        assert!(!wait.tick((1, 1)));
        for _ in 0..4 {
            assert!(!wait.tick((1, 1)));
        }
        assert!(wait.tick((1, 1)));

        // A request in flight (a long handler, a long streamed answer) is never cut off.
        let mut wait = HeadWait::default();
        for _ in 0..20 {
            assert!(!wait.tick((1, 0)));
        }
        // It finishes before the next tick: the wait for the next head may begin just then.
        let cut: Vec<bool> = (0..5).map(|_| wait.tick((1, 1))).collect();
        assert_eq!(cut, [false, false, false, false, true]);
    }

    #[tokio::test]
    async fn a_whole_answer_finishes_at_once_and_a_streamed_one_when_its_body_ends() {
        use http_body_util::BodyExt;
        let requests = Arc::new(Requests::default());
        requests.start();
        let whole = finishing(
            Response::new(Body::whole(bytes::Bytes::from_static(b"{}"))),
            requests.clone(),
        );
        assert_eq!(requests.counts(), (1, 1));
        drop(whole);
        assert_eq!(requests.counts(), (1, 1));

        requests.start();
        let stream = Body::streamed(http_body_util::Full::new(bytes::Bytes::from_static(b" {}")));
        let streamed = finishing(Response::new(stream), requests.clone());
        assert_eq!(requests.counts(), (2, 1), "in flight until its body ends");
        let read = streamed.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&read[..], b" {}");
        assert_eq!(requests.counts(), (2, 2));
    }
}
