//! The load test's generator: sends call requests to `load-server` over a fixed set of
//! HTTP/1.1 keep-alive connections and checks every answer exactly (status,
//! `X-Inngest-No-Retry`, SDK headers, JSON body).
//!
//! ```text
//! load-gen --addr 127.0.0.1:PORT [--requests 50000] [--connections 64] [--warmup 10000]
//!          [--server-pid PID] [--time-limit 300]
//! ```
//!
//! A warm-up of `--warmup` requests runs first (checked too, not timed); the server's resident
//! memory (`VmRSS` of `/proc/PID/status`) is read after it and after the timed run, which
//! must stay within 10% of it. Exits non-zero on any transport error, wrong answer, memory
//! growth, or when the time limit is reached.

use std::net::SocketAddr;
use std::ops::Range;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;
use inngest_load::{body, expected, path, Kind};
use serde_json::Value;

/// How long one request may take before it counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How much the server's resident memory may change over the run.
const RSS_TOLERANCE: f64 = 0.10;
/// How many wrong answers are printed in full.
const SHOWN_WRONG: usize = 5;

struct Args {
    addr: SocketAddr,
    requests: u64,
    connections: usize,
    warmup: u64,
    server_pid: Option<u32>,
    time_limit: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        requests: 50_000,
        connections: 64,
        warmup: 10_000,
        server_pid: None,
        time_limit: Duration::from_secs(300),
    };
    let mut addr = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("bad value `{value}` for `{flag}`: {e}");
        match flag.as_str() {
            "--addr" => addr = Some(value.parse().map_err(|e| bad(&e))?),
            "--requests" => args.requests = value.parse().map_err(|e| bad(&e))?,
            "--connections" => args.connections = value.parse().map_err(|e| bad(&e))?,
            "--warmup" => args.warmup = value.parse().map_err(|e| bad(&e))?,
            "--server-pid" => args.server_pid = Some(value.parse().map_err(|e| bad(&e))?),
            "--time-limit" => {
                args.time_limit = Duration::from_secs(value.parse().map_err(|e| bad(&e))?)
            }
            _ => return Err(format!("unknown argument `{flag}`")),
        }
    }
    args.addr = addr.ok_or("--addr is required")?;
    if args.connections == 0 {
        return Err("--connections must be at least 1".to_owned());
    }
    if !args.addr.ip().is_loopback() {
        return Err(format!("{} is not a loopback address", args.addr));
    }
    Ok(args)
}

/// One keep-alive connection, opened again only after a transport error.
struct Conn {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
    opened: u64,
}

/// An answer, read whole.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            sender: None,
            opened: 0,
        }
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        if self.sender.as_ref().is_none_or(SendRequest::is_closed) {
            let stream = tokio::net::TcpStream::connect(self.addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            stream
                .set_nodelay(true)
                .map_err(|e| format!("nodelay: {e}"))?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(conn);
            self.opened += 1;
            self.sender = Some(sender);
        }
        Ok(self.sender.as_mut().expect("set just above"))
    }

    async fn call(&mut self, i: u64) -> Result<Answer, String> {
        let host = self.addr.to_string();
        let sender = self.sender().await?;
        sender.ready().await.map_err(|e| format!("ready: {e}"))?;
        let payload = serde_json::to_vec(&body(i)).map_err(|e| e.to_string())?;
        let req = hyper::Request::post(path(i))
            .header(HOST, host)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(payload)))
            .map_err(|e| e.to_string())?;
        let res = sender
            .send_request(req)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let (parts, body) = res.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok(Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }
}

/// Checks an answer against the one request `i` must get.
fn check(i: u64, a: &Answer) -> Result<(), String> {
    let want = expected(i);
    let header = |name: &str| a.headers.get(name).and_then(|v| v.to_str().ok());
    let body: Result<Value, _> = serde_json::from_slice(&a.body);
    let sdk = format!("inngest-rs:v{}", inngest::VERSION);
    let right = a.status == want.status
        && header("x-inngest-no-retry") == want.no_retry
        && header("x-inngest-sdk") == Some(sdk.as_str())
        && header("x-inngest-req-version") == Some("2")
        && header("content-type") == Some("application/json")
        && body.as_ref().ok() == Some(&want.body);
    if right {
        return Ok(());
    }
    Err(format!(
        "request {i} ({:?}): got {} no-retry={:?} {}; want {} no-retry={:?} {}",
        Kind::of(i),
        a.status,
        header("x-inngest-no-retry"),
        String::from_utf8_lossy(&a.body),
        want.status,
        want.no_retry,
        want.body,
    ))
}

#[derive(Default)]
struct Stats {
    answered: u64,
    wrong: u64,
    transport_errors: u64,
    /// Latency of each right or wrong answer, in microseconds.
    latencies: Vec<u32>,
    examples: Vec<String>,
    timed_out: bool,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.answered += other.answered;
        self.wrong += other.wrong;
        self.transport_errors += other.transport_errors;
        self.latencies.extend(other.latencies);
        for e in other.examples {
            if self.examples.len() < SHOWN_WRONG {
                self.examples.push(e);
            }
        }
        self.timed_out |= other.timed_out;
    }

    fn note(&mut self, example: String) {
        if self.examples.len() < SHOWN_WRONG {
            self.examples.push(example);
        }
    }
}

/// Sends requests `range` over `conns`, each connection one request at a time.
async fn phase(conns: Vec<Conn>, range: Range<u64>, deadline: Instant) -> (Vec<Conn>, Stats) {
    let next = Arc::new(AtomicU64::new(range.start));
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let next = next.clone();
            let end = range.end;
            tokio::spawn(async move {
                let mut stats = Stats::default();
                loop {
                    if Instant::now() >= deadline {
                        stats.timed_out = true;
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        break;
                    }
                    let start = Instant::now();
                    match tokio::time::timeout(REQUEST_TIMEOUT, conn.call(i)).await {
                        Ok(Ok(answer)) => {
                            let micros = start.elapsed().as_micros();
                            stats
                                .latencies
                                .push(u32::try_from(micros).unwrap_or(u32::MAX));
                            stats.answered += 1;
                            if let Err(why) = check(i, &answer) {
                                stats.wrong += 1;
                                stats.note(why);
                            }
                        }
                        Ok(Err(e)) => {
                            stats.transport_errors += 1;
                            stats.note(format!("request {i}: transport error: {e}"));
                            conn.sender = None;
                        }
                        Err(_) => {
                            stats.transport_errors += 1;
                            stats
                                .note(format!("request {i}: no answer within {REQUEST_TIMEOUT:?}"));
                            conn.sender = None;
                        }
                    }
                }
                (conn, stats)
            })
        })
        .collect();
    let mut conns = Vec::new();
    let mut total = Stats::default();
    for task in tasks {
        let (conn, stats) = task.await.expect("a load task panicked");
        conns.push(conn);
        total.merge(stats);
    }
    (conns, total)
}

/// The resident memory of `pid` in KiB.
fn rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmRSS in /proc/{pid}/status"))
}

fn percentile(sorted: &[u32], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = (sorted.len() * p / 100).min(sorted.len() - 1);
    f64::from(sorted[at]) / 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("load-gen: {e}");
            return ExitCode::from(2);
        }
    };
    let deadline = Instant::now() + args.time_limit;
    let conns: Vec<Conn> = (0..args.connections)
        .map(|_| Conn::new(args.addr))
        .collect();
    let mut failures = Vec::new();

    let (conns, warmup) = phase(conns, 0..args.warmup, deadline).await;
    let rss_before = args.server_pid.map(rss_kib).transpose();

    let range = args.warmup..args.warmup + args.requests;
    let started = Instant::now();
    let (conns, mut run) = phase(conns, range.clone(), deadline).await;
    let elapsed = started.elapsed();
    let rss_after = args.server_pid.map(rss_kib).transpose();

    let opened: u64 = conns.iter().map(|c| c.opened).sum();
    let panics_sent = (0..range.end)
        .filter(|&i| Kind::of(i) == Kind::Panics)
        .count();
    run.latencies.sort_unstable();

    println!(
        "requests          {} checked ({} more in the warm-up), {} connections (HTTP/1.1 keep-alive, {opened} opened)",
        run.answered, warmup.answered, args.connections
    );
    println!(
        "transport errors  {} ({} in the warm-up)",
        run.transport_errors, warmup.transport_errors
    );
    println!(
        "wrong answers     {} ({} in the warm-up)",
        run.wrong, warmup.wrong
    );
    println!(
        "throughput        {:.0} req/s ({} in {:.2} s)",
        run.answered as f64 / elapsed.as_secs_f64(),
        run.answered,
        elapsed.as_secs_f64()
    );
    println!(
        "latency           p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&run.latencies, 50),
        percentile(&run.latencies, 99),
        run.latencies.last().map_or(0.0, |&m| f64::from(m) / 1000.0),
    );
    println!("panicking calls   {panics_sent}");

    match (rss_before, rss_after) {
        (Ok(Some(before)), Ok(Some(after))) => {
            let change = (after as f64 - before as f64) / before as f64;
            println!(
                "server RSS        {:.1} MiB after the warm-up, {:.1} MiB after the run ({:+.1}%)",
                mib(before),
                mib(after),
                change * 100.0
            );
            if change.abs() > RSS_TOLERANCE {
                failures.push(format!(
                    "the server's RSS changed by {:+.1}%, more than {:.0}%",
                    change * 100.0,
                    RSS_TOLERANCE * 100.0
                ));
            }
        }
        (Ok(None), _) => println!("server RSS        not measured (no --server-pid)"),
        (Err(e), _) | (_, Err(e)) => failures.push(e),
        (Ok(Some(_)), Ok(None)) => unreachable!("both are read when a pid is given"),
    }

    run.merge(warmup);
    if run.transport_errors > 0 {
        failures.push(format!("{} transport errors", run.transport_errors));
    }
    if run.wrong > 0 {
        failures.push(format!("{} wrong answers", run.wrong));
    }
    if run.timed_out {
        failures.push(format!(
            "the time limit of {:?} was reached",
            args.time_limit
        ));
    } else if run.answered + run.transport_errors != args.warmup + args.requests {
        failures.push("not every request was sent".to_owned());
    }
    for e in &run.examples {
        eprintln!("  {e}");
    }
    if failures.is_empty() {
        println!("result            PASS");
        ExitCode::SUCCESS
    } else {
        println!("result            FAIL: {}", failures.join("; "));
        ExitCode::FAILURE
    }
}
