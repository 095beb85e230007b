//! The load driver: one `wrk` run against a server (`bench/wrk.lua` reports it), with the
//! server's resident memory sampled meanwhile.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::servers::Running;
use crate::system::proc_status_kib;
use crate::Res;

/// Safety bound on the requests of one wrk run (never reached at the speeds seen here: wrk
/// stops each run at `-d` first; a run that reaches it is flagged).
const MAX_REQUESTS_PER_SECOND: u64 = 400_000;
/// wrk's per-request timeout.
const WRK_TIMEOUT_S: u64 = 5;

/// One wrk run, as `bench/wrk.lua` reports it (latencies in microseconds).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WrkRun {
    pub requests: u64,
    pub duration_us: u64,
    pub status_errors: u64,
    pub connect_errors: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    pub timeouts: u64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    #[serde(default)]
    pub max_requests: u64,
    #[serde(default)]
    pub peak_rss_kib: u64,
}

impl WrkRun {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }
    pub fn errors(&self) -> u64 {
        self.status_errors
            + self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.timeouts
    }
}

/// Runs wrk against `server` for `seconds` with `connections`, sampling the server's memory.
pub fn wrk(server: &Running, body: &Path, connections: u32, seconds: u64) -> Res<WrkRun> {
    let threads = 1;
    let max_requests = MAX_REQUESTS_PER_SECOND * seconds;
    let url = format!(
        "http://127.0.0.1:{}{}",
        server.port,
        inngest_bench::CALL_PATH
    );
    let mut child = Command::new("wrk")
        .args([
            &format!("-t{threads}"),
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            &format!("--timeout={WRK_TIMEOUT_S}s"),
            "-s",
            "bench/wrk.lua",
            &url,
        ])
        .env("BENCH_BODY", body)
        .env("BENCH_MAX_REQUESTS", max_requests.to_string())
        .env("BENCH_THREADS", threads.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run wrk: {e} (install it: apt-get install -y wrk)"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        let pid = server.pid();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !stop.load(Ordering::Relaxed) {
                peak = peak.max(proc_status_kib(pid, "VmRSS:").unwrap_or(0));
                std::thread::sleep(Duration::from_millis(50));
            }
            peak
        })
    };
    // wrk stops by itself at -d; this is the outer bound.
    let deadline = Instant::now() + Duration::from_secs(seconds + 30);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                stop.store(true, Ordering::Relaxed);
                return Err(format!("wrk against {} did not stop in time", server.name));
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap_or(0);
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut out)
        .ok();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut err)
        .ok();
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("BENCH "))
        .ok_or_else(|| {
            format!(
                "wrk against {} printed no BENCH line:\n{out}{err}",
                server.name
            )
        })?;
    let mut run: WrkRun =
        serde_json::from_str(line).map_err(|e| format!("bad BENCH line `{line}`: {e}"))?;
    run.max_requests = max_requests;
    run.peak_rss_kib = peak;
    Ok(run)
}
