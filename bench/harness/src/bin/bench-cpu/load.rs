//! The load generator: `connections` HTTP/1.1 keep-alive connections on one thread (a
//! current-thread tokio runtime, as `wrk -t1`), sending the same call request until a fixed
//! number of requests has been answered, each answer checked (200 and the exact body).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;

/// How long one request may take before the run fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What a run of the load measured.
pub struct Measured {
    /// From the first request sent to the last answer read.
    pub wall: Duration,
    /// Every request's latency (request written to answer read), in nanoseconds, sorted.
    pub latencies: Vec<u64>,
}

impl Measured {
    /// The latency at quantile `q` (0 to 1), in microseconds.
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 * q).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[i - 1] as f64 / 1e3
    }
}

/// The request and the answer it must get.
#[derive(Clone)]
pub struct Exchange {
    pub path: &'static str,
    pub body: Bytes,
    pub answer: Bytes,
}

/// Open connections to one server.
pub struct Connections {
    port: u16,
    senders: Vec<SendRequest<Full<Bytes>>>,
}

impl Connections {
    /// Opens `n` connections to `127.0.0.1:port` (their connection tasks run on the current
    /// runtime).
    pub async fn open(port: u16, n: usize) -> Result<Connections, String> {
        let mut senders = Vec::with_capacity(n);
        for _ in 0..n {
            let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .map_err(|e| format!("connect: {e}"))?;
            stream
                .set_nodelay(true)
                .map_err(|e| format!("nodelay: {e}"))?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(conn);
            senders.push(sender);
        }
        Ok(Connections { port, senders })
    }

    /// Sends `requests` requests over the connections (each connection sends its next one
    /// as soon as it has its answer) and checks every answer.
    pub async fn run(&mut self, exchange: &Exchange, requests: u64) -> Result<Measured, String> {
        let next = Arc::new(AtomicU64::new(0));
        let host = HeaderValue::from_str(&format!("127.0.0.1:{}", self.port))
            .map_err(|e| e.to_string())?;
        let per_connection = (requests as usize / self.senders.len()) + 1;
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(self.senders.len());
        for mut sender in std::mem::take(&mut self.senders) {
            let next = next.clone();
            let exchange = exchange.clone();
            let host = host.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_connection);
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let req = hyper::Request::post(exchange.path)
                        .header(HOST, host.clone())
                        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                        .body(Full::new(exchange.body.clone()))
                        .map_err(|e| e.to_string())?;
                    let sent = Instant::now();
                    let answer = tokio::time::timeout(REQUEST_TIMEOUT, async {
                        sender.ready().await.map_err(|e| format!("ready: {e}"))?;
                        let res = sender
                            .send_request(req)
                            .await
                            .map_err(|e| format!("request: {e}"))?;
                        let status = res.status();
                        let body = res
                            .into_body()
                            .collect()
                            .await
                            .map_err(|e| format!("body: {e}"))?
                            .to_bytes();
                        Ok::<_, String>((status, body))
                    })
                    .await
                    .map_err(|_| format!("no answer within {REQUEST_TIMEOUT:?}"))??;
                    latencies.push(sent.elapsed().as_nanos() as u64);
                    if answer.0 != 200 || answer.1 != exchange.answer {
                        return Err(format!(
                            "answered {} {}, expected 200 {}",
                            answer.0,
                            String::from_utf8_lossy(&answer.1),
                            String::from_utf8_lossy(&exchange.answer)
                        ));
                    }
                }
                Ok::<_, String>((sender, latencies))
            }));
        }
        let mut latencies = Vec::with_capacity(requests as usize);
        let mut failure = None;
        for task in tasks {
            match task.await.map_err(|e| e.to_string()) {
                Ok(Ok((sender, l))) => {
                    self.senders.push(sender);
                    latencies.extend(l);
                }
                Ok(Err(e)) | Err(e) => failure = Some(e),
            }
        }
        let wall = started.elapsed();
        if let Some(e) = failure {
            return Err(e);
        }
        latencies.sort_unstable();
        Ok(Measured { wall, latencies })
    }
}
