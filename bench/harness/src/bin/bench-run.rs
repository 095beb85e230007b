//! The benchmark driver: starts the Rust bench server, the bare hyper server and the JS (Node's
//! http and Express) and Python peers on loopback, drives `wrk` against each in turn, and
//! writes the tables of BENCHMARKS.md (`report.md`) and the raw figures (`results.json`).
//!
//! Run it with `bench/bench.sh`, which builds it and installs what it needs. Every load is
//! bounded in time (`wrk -d`) and in requests (`bench/wrk.lua`); every figure is measured
//! against the other servers in the same run, in alternating rounds (the order of the servers
//! rotates each round).
//!
//! ```text
//! bench-run [--rounds 3] [--seconds 5] [--replay-seconds 3] [--startups 5]
//!           [--compile-rounds 2] [--phases throughput,replay,startup,compile]
//!           [--servers rust,hyper,node,express,python] [--out target/bench] [--quick]
//! ```
//!
//! `--quick` is a smoke run (1 round of 1 s, 2 start-ups, no compile phase) that checks the
//! harness works; its figures mean nothing. `BENCH_SDK_SERVER=<path>` measures another build
//! of the Rust bench server; `--servers rust,rust-before,hyper` with
//! `BENCH_SDK_SERVER_BEFORE=<path>` measures two builds side by side (before/after a fix).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

/// Connection counts of the throughput phase.
const CONCURRENCY: [u32; 3] = [1, 16, 64];
/// Memoized steps of the replay phase.
const REPLAY_STEPS: [u64; 3] = [10, 100, 1_000];
/// Safety bound on the requests of one wrk run (never reached at the speeds seen here: wrk
/// stops each run at `-d` first; a run that reaches it is flagged).
const MAX_REQUESTS_PER_SECOND: u64 = 400_000;
/// wrk's per-request timeout.
const WRK_TIMEOUT_S: u64 = 5;

type Res<T> = Result<T, String>;

#[derive(Clone)]
struct Opts {
    rounds: usize,
    seconds: u64,
    replay_seconds: u64,
    startups: usize,
    compile_rounds: usize,
    phases: Vec<String>,
    servers: Vec<String>,
    out: PathBuf,
}

fn parse_opts() -> Res<Opts> {
    let mut o = Opts {
        rounds: 3,
        seconds: 5,
        replay_seconds: 3,
        startups: 5,
        compile_rounds: 2,
        phases: ["throughput", "replay", "startup", "compile"]
            .map(String::from)
            .to_vec(),
        servers: ["rust", "hyper", "node", "express", "python"]
            .map(String::from)
            .to_vec(),
        out: target_dir().join("bench"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--quick" {
            o.rounds = 1;
            o.seconds = 1;
            o.replay_seconds = 1;
            o.startups = 2;
            o.phases.retain(|p| p != "compile");
            continue;
        }
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let num = |v: &str| -> Res<u64> {
            v.parse()
                .map_err(|e| format!("bad value `{v}` for `{flag}`: {e}"))
        };
        match flag.as_str() {
            "--rounds" => o.rounds = num(&value)?.max(1) as usize,
            "--seconds" => o.seconds = num(&value)?.max(1),
            "--replay-seconds" => o.replay_seconds = num(&value)?.max(1),
            "--startups" => o.startups = num(&value)?.max(1) as usize,
            "--compile-rounds" => o.compile_rounds = num(&value)?.max(1) as usize,
            "--phases" => o.phases = value.split(',').map(String::from).collect(),
            "--servers" => o.servers = value.split(',').map(String::from).collect(),
            "--out" => o.out = PathBuf::from(value),
            _ => return Err(format!("unknown argument `{flag}`")),
        }
    }
    for s in &o.servers {
        if !["rust", "rust-before", "hyper", "node", "express", "python"].contains(&s.as_str()) {
            return Err(format!("unknown server `{s}`"));
        }
        if s == "rust-before" && std::env::var_os("BENCH_SDK_SERVER_BEFORE").is_none() {
            return Err("`rust-before` needs BENCH_SDK_SERVER_BEFORE=<path of another build of bench-sdk-server>".into());
        }
    }
    if !o.servers.iter().any(|s| s == "rust") {
        return Err("the servers must include `rust` (every ratio is against it)".into());
    }
    Ok(o)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}

// ---------------------------------------------------------------------------------------------
// Servers

/// How to start one server.
struct Spec {
    name: String,
    label: &'static str,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
}

fn spec(name: &str) -> Spec {
    let release = target_dir().join("release");
    let node = |adapter: &str, label| Spec {
        name: name.to_owned(),
        label,
        program: "node".into(),
        args: vec!["tests/peers/js/bench-server.mjs".into()],
        env: vec![("BENCH_ADAPTER", adapter.to_owned())],
    };
    match name {
        "rust" => Spec {
            name: name.to_owned(),
            label: "Rust SDK (hyper)",
            program: std::env::var_os("BENCH_SDK_SERVER")
                .map(PathBuf::from)
                .unwrap_or_else(|| release.join("bench-sdk-server")),
            args: vec![],
            env: vec![],
        },
        "rust-before" => Spec {
            name: name.to_owned(),
            label: "Rust SDK, before the fix",
            program: std::env::var_os("BENCH_SDK_SERVER_BEFORE")
                .map(PathBuf::from)
                .unwrap_or_default(),
            args: vec![],
            env: vec![],
        },
        "hyper" => Spec {
            name: name.to_owned(),
            label: "bare hyper",
            program: release.join("bench-hyper-server"),
            args: vec![],
            env: vec![],
        },
        "node" => node("node", "JS SDK, node:http"),
        "express" => node("express", "JS SDK, Express"),
        _ => Spec {
            name: name.to_owned(),
            label: "Python SDK, FastAPI/uvicorn",
            program: "tests/peers/py/.venv/bin/python".into(),
            args: vec!["tests/peers/py/bench_server.py".into()],
            env: vec![],
        },
    }
}

/// A running server.
struct Running {
    name: String,
    child: Child,
    port: u16,
}

impl Running {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then SIGKILL after 5 s.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `spec` on `port` (0: a free one) and waits for its `LISTENING <port>` line.
fn start(spec: &Spec, port: u16, logs: &Path) -> Res<Running> {
    let err = std::fs::File::create(logs.join(format!("{}.stderr", spec.name)))
        .map_err(|e| e.to_string())?;
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .env("PORT", port.to_string())
        .env_remove("INNGEST_SIGNING_KEY")
        .env_remove("INNGEST_BASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(err);
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "cannot start {} ({}): {e}",
            spec.name,
            spec.program.display()
        )
    })?;
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        // Keep draining, so the server never blocks on a full pipe.
        for _ in lines {}
    });
    let line = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{} did not print LISTENING within 60 s (see {})",
                spec.name,
                logs.join(format!("{}.stderr", spec.name)).display()
            ));
        }
    };
    let port = line
        .strip_prefix("LISTENING ")
        .and_then(|p| p.trim().parse().ok())
        .ok_or_else(|| format!("{} printed `{line}`, not `LISTENING <port>`", spec.name))?;
    Ok(Running {
        name: spec.name.clone(),
        child,
        port,
    })
}

fn free_port() -> Res<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Resident memory of a process, in KiB (`VmRSS`, or `VmHWM` for the peak).
fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client (one request per connection), for checks and start-up polling.

struct Answer {
    status: u16,
    body: Vec<u8>,
}

fn http(
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<Answer> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut rest = raw[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        rest = dechunk(&rest).ok_or_else(|| bad("bad chunked body"))?;
    }
    Ok(Answer { status, body: rest })
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// Checks that `server` answers every bench request exactly (200 and the expected object).
fn verify(server: &Running, bodies: &BTreeMap<u64, PathBuf>) -> Res<()> {
    for (&n, path) in bodies {
        let body = std::fs::read(path).map_err(|e| e.to_string())?;
        let a = http(
            server.port,
            "POST",
            inngest_bench::CALL_PATH,
            &body,
            Duration::from_secs(30),
        )
        .map_err(|e| format!("{}: the {n}-step call request failed: {e}", server.name))?;
        let got: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        let want = if server.name == "hyper" {
            serde_json::from_slice(inngest_bench::FIXED_ANSWER).expect("JSON")
        } else {
            inngest_bench::expected(n)
        };
        if a.status != 200 || got != want {
            return Err(format!(
                "{}: the {n}-step call request got {} {}, expected 200 {want}",
                server.name,
                a.status,
                String::from_utf8_lossy(&a.body)
            ));
        }
    }
    let a = http(
        server.port,
        "GET",
        inngest_bench::SERVE_PATH,
        b"",
        Duration::from_secs(10),
    )
    .map_err(|e| format!("{}: GET failed: {e}", server.name))?;
    if a.status != 200 {
        return Err(format!("{}: GET answered {}", server.name, a.status));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// wrk

/// One wrk run, as `bench/wrk.lua` reports it (latencies in microseconds).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct WrkRun {
    requests: u64,
    duration_us: u64,
    status_errors: u64,
    connect_errors: u64,
    read_errors: u64,
    write_errors: u64,
    timeouts: u64,
    mean_us: f64,
    p50_us: f64,
    p90_us: f64,
    p99_us: f64,
    max_us: f64,
    #[serde(default)]
    max_requests: u64,
    #[serde(default)]
    peak_rss_kib: u64,
}

impl WrkRun {
    fn rps(&self) -> f64 {
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }
    fn errors(&self) -> u64 {
        self.status_errors
            + self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.timeouts
    }
}

/// Runs wrk against `server` for `seconds` with `connections`, sampling the server's memory.
fn wrk(server: &Running, body: &Path, connections: u32, seconds: u64) -> Res<WrkRun> {
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

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn fmt_int(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let s = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration given in microseconds, in µs or ms.
fn fmt_us(us: f64) -> String {
    if !us.is_finite() {
        "–".into()
    } else if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 100_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.0} ms", us / 1e3)
    }
}

fn fmt_ratio(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x >= 100.0 {
        format!("{x:.0}×")
    } else if x >= 10.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

fn fmt_mb(kib: f64) -> String {
    if !kib.is_finite() || kib == 0.0 {
        "–".into()
    } else {
        format!("{:.1} MB", kib * 1024.0 / 1e6)
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|e| format!("({program}: {e})"))
}

fn machine() -> Vec<(String, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or("?".into(), |kib| {
            format!("{:.0} GiB", kib / 1024.0 / 1024.0)
        });
    vec![
        ("CPU".into(), format!("{cores} cores, {model}")),
        ("memory".into(), mem),
        ("kernel".into(), command_line("uname", &["-sr"])),
        ("rustc".into(), command_line("rustc", &["-V"])),
        ("node".into(), command_line("node", &["--version"])),
        (
            "python".into(),
            command_line("tests/peers/py/.venv/bin/python", &["--version"]),
        ),
        ("wrk".into(), command_line("wrk", &["-v"])),
    ]
}

// ---------------------------------------------------------------------------------------------
// Phases

struct Bench {
    opts: Opts,
    specs: Vec<Spec>,
    bodies: BTreeMap<u64, PathBuf>,
    logs: PathBuf,
    results: serde_json::Map<String, Value>,
    report: String,
}

impl Bench {
    fn say(&self, line: &str) {
        eprintln!("bench-run: {line}");
    }

    /// The servers in the order of round `r` (rotated by one each round).
    fn order(&self, r: usize) -> Vec<&Spec> {
        let n = self.specs.len();
        (0..n).map(|i| &self.specs[(i + r) % n]).collect()
    }

    fn start_all(&self) -> Res<Vec<Running>> {
        let mut running = Vec::new();
        for s in &self.specs {
            let r = start(s, 0, &self.logs)?;
            verify(&r, &self.bodies)?;
            running.push(r);
        }
        Ok(running)
    }

    fn throughput_and_replay(&mut self) -> Res<()> {
        let do_tp = self.opts.phases.iter().any(|p| p == "throughput");
        let do_replay = self.opts.phases.iter().any(|p| p == "replay");
        if !do_tp && !do_replay {
            return Ok(());
        }
        let load_before = loadavg();
        self.say(&format!(
            "starting {} servers (load {load_before})",
            self.specs.len()
        ));
        let running = self.start_all()?;
        let find = |name: &str| running.iter().find(|r| r.name == name).expect("started");
        let body10 = self.bodies[&10].clone();
        // Warm-up: JIT compilers, allocator pools, connection set-up.
        for s in &self.specs {
            wrk(find(&s.name), &body10, 16, 2)?;
        }
        // tp[c][server] = one run per round
        let mut tp: BTreeMap<u32, BTreeMap<String, Vec<WrkRun>>> = BTreeMap::new();
        if do_tp {
            for r in 0..self.opts.rounds {
                for &c in &CONCURRENCY {
                    for s in self.order(r) {
                        let run = wrk(find(&s.name), &body10, c, self.opts.seconds)?;
                        self.say(&format!(
                            "round {} c={c:>2} {:<8} {:>9} req/s  p50 {:>9}  p99 {:>9}  errors {}",
                            r + 1,
                            s.name,
                            fmt_int(run.rps()),
                            fmt_us(run.p50_us),
                            fmt_us(run.p99_us),
                            run.errors()
                        ));
                        tp.entry(c)
                            .or_default()
                            .entry(s.name.clone())
                            .or_default()
                            .push(run);
                    }
                }
            }
        }
        let load_mid = loadavg();
        let mut rp: BTreeMap<u64, BTreeMap<String, Vec<WrkRun>>> = BTreeMap::new();
        if do_replay {
            for r in 0..self.opts.rounds {
                for (&n, body) in &self.bodies {
                    for s in self.order(r) {
                        let run = wrk(find(&s.name), body, 1, self.opts.replay_seconds)?;
                        self.say(&format!(
                            "round {} replay n={n:>4} {:<8} p50 {:>9}  mean {:>9}  ({} requests)",
                            r + 1,
                            s.name,
                            fmt_us(run.p50_us),
                            fmt_us(run.mean_us),
                            run.requests
                        ));
                        rp.entry(n)
                            .or_default()
                            .entry(s.name.clone())
                            .or_default()
                            .push(run);
                    }
                }
            }
        }
        let load_after = loadavg();
        let hwm: BTreeMap<String, u64> = running
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    proc_status_kib(r.pid(), "VmHWM:").unwrap_or(0),
                )
            })
            .collect();
        for r in running {
            r.stop();
        }
        self.results.insert(
            "throughput".into(),
            json!({ "runs": tp, "load": [load_before, load_mid, load_after], "vm_hwm_kib": hwm }),
        );
        if do_tp {
            self.throughput_tables(&tp, &hwm, &load_before, &load_mid);
        }
        if do_replay {
            self.replay_table(&rp, &load_mid, &load_after);
        }
        Ok(())
    }

    fn names(&self) -> Vec<String> {
        self.specs.iter().map(|s| s.name.clone()).collect()
    }

    fn label(&self, name: &str) -> &'static str {
        self.specs
            .iter()
            .find(|s| s.name == name)
            .map_or("?", |s| s.label)
    }

    fn throughput_tables(
        &mut self,
        tp: &BTreeMap<u32, BTreeMap<String, Vec<WrkRun>>>,
        hwm: &BTreeMap<String, u64>,
        load_before: &str,
        load_after: &str,
    ) {
        let mut md = String::new();
        md.push_str(&format!(
            "### Throughput and latency\n\nThe 10-step call request, `wrk -t1 -c<C> -d{}s`, {} rounds; medians of the rounds. \
             Ratios are Rust ÷ the other server (req/s) and the other ÷ Rust (latency), computed per round, then the median. \
             Load average (1, 5, 15 min) at the start: {load_before}; at the end: {load_after}.\n\n",
            self.opts.seconds, self.opts.rounds
        ));
        md.push_str("| connections | server | req/s | p50 | p99 | errors | Rust req/s ÷ this | this p50 ÷ Rust p50 | this p99 ÷ Rust p99 |\n|---|---|---|---|---|---|---|---|---|\n");
        let mut summary = serde_json::Map::new();
        for (&c, by_server) in tp {
            let rust = &by_server["rust"];
            for name in self.names() {
                let runs = &by_server[&name];
                let rps = median(runs.iter().map(WrkRun::rps).collect());
                let p50 = median(runs.iter().map(|r| r.p50_us).collect());
                let p99 = median(runs.iter().map(|r| r.p99_us).collect());
                let errors: u64 = runs.iter().map(WrkRun::errors).sum();
                let capped = runs.iter().any(|r| r.requests >= r.max_requests);
                let per_round = |f: &dyn Fn(&WrkRun, &WrkRun) -> f64| {
                    median(rust.iter().zip(runs).map(|(a, b)| f(a, b)).collect())
                };
                let r_rps = per_round(&|rust, other| rust.rps() / other.rps());
                let r_p50 = per_round(&|rust, other| other.p50_us / rust.p50_us);
                let r_p99 = per_round(&|rust, other| other.p99_us / rust.p99_us);
                let dash = |x: f64| {
                    if name == "rust" {
                        "–".to_owned()
                    } else {
                        fmt_ratio(x)
                    }
                };
                md.push_str(&format!(
                    "| {c} | {} | {}{} | {} | {} | {} | {} | {} | {} |\n",
                    self.label(&name),
                    fmt_int(rps),
                    if capped { " (capped)" } else { "" },
                    fmt_us(p50),
                    fmt_us(p99),
                    errors,
                    dash(r_rps),
                    dash(r_p50),
                    dash(r_p99),
                ));
                summary.insert(
                    format!("c{c}/{name}"),
                    json!({"rps": rps, "p50_us": p50, "p99_us": p99, "errors": errors,
                           "rust_rps_ratio": r_rps, "p50_ratio": r_p50, "p99_ratio": r_p99}),
                );
            }
        }
        // Targets at 64 connections against bare hyper.
        if let (Some(rust), Some(hyper)) = (
            tp.get(&64).and_then(|m| m.get("rust")),
            tp.get(&64).and_then(|m| m.get("hyper")),
        ) {
            let share = median(
                rust.iter()
                    .zip(hyper)
                    .map(|(r, h)| r.rps() / h.rps())
                    .collect(),
            );
            let p99 = median(
                rust.iter()
                    .zip(hyper)
                    .map(|(r, h)| r.p99_us / h.p99_us)
                    .collect(),
            );
            md.push_str(&format!(
                "\nTargets at 64 connections: the Rust SDK reaches **{:.0}%** of bare hyper's req/s (target ≥ 60%: {}), \
                 and its p99 is **{:.2}×** bare hyper's (target ≤ 1.5×: {}).\n",
                share * 100.0,
                if share >= 0.6 { "met" } else { "missed" },
                p99,
                if p99 <= 1.5 { "met" } else { "missed" },
            ));
            summary.insert("target/rust_share_of_hyper".into(), json!(share));
            summary.insert("target/rust_p99_over_hyper".into(), json!(p99));
        }
        self.results
            .insert("throughput_summary".into(), Value::Object(summary));
        self.report.push_str(&md);

        // Memory under load.
        let mut mem = String::from(
            "\n### Resident memory under load\n\nPeak `VmRSS` sampled every 50 ms during the 64-connection runs (median of the rounds' peaks), \
             and the process's peak (`VmHWM`) over the whole throughput and replay phases (which include the 1,000-step requests of 68 kB).\n\n\
             | server | under load (64 connections) | peak over the run |\n|---|---|---|\n",
        );
        let mut mem_json = serde_json::Map::new();
        if let Some(by_server) = tp.get(&64) {
            for name in self.names() {
                let peak = median(
                    by_server[&name]
                        .iter()
                        .map(|r| r.peak_rss_kib as f64)
                        .collect(),
                );
                let hw = hwm.get(&name).copied().unwrap_or(0) as f64;
                mem.push_str(&format!(
                    "| {} | {} | {} |\n",
                    self.label(&name),
                    fmt_mb(peak),
                    fmt_mb(hw)
                ));
                mem_json.insert(
                    name.clone(),
                    json!({"under_load_kib": peak, "vm_hwm_kib": hw}),
                );
            }
        }
        self.results
            .insert("memory_under_load".into(), Value::Object(mem_json));
        self.report.push_str(&mem);
    }

    fn replay_table(
        &mut self,
        rp: &BTreeMap<u64, BTreeMap<String, Vec<WrkRun>>>,
        load_before: &str,
        load_after: &str,
    ) {
        let names = self.names();
        // The peers, whose latency is shown as a multiple of the Rust SDK's.
        let peers: Vec<String> = names
            .iter()
            .filter(|n| !matches!(n.as_str(), "rust" | "rust-before" | "hyper"))
            .cloned()
            .collect();
        let mut md = format!(
            "\n### Replay cost end to end\n\nOne request at a time (`wrk -t1 -c1 -d{}s`) of the call request with 10, 100 and 1,000 memoized steps; \
             median of the rounds' p50 latency (client side: request written to answer read). \
             Load average at the start: {load_before}; at the end: {load_after}.\n\n| steps |",
            self.opts.replay_seconds
        );
        for n in &names {
            md.push_str(&format!(" {} |", self.label(n)));
        }
        for n in &peers {
            md.push_str(&format!(" {} ÷ Rust |", self.label(n)));
        }
        md.push('\n');
        md.push_str(&"|---".repeat(1 + names.len() + peers.len()));
        md.push_str("|\n");
        let mut p50s: BTreeMap<String, BTreeMap<u64, f64>> = BTreeMap::new();
        for (&steps, by_server) in rp {
            md.push_str(&format!("| {} |", fmt_int(steps as f64)));
            for n in &names {
                let p50 = median(by_server[n].iter().map(|r| r.p50_us).collect());
                p50s.entry(n.clone()).or_default().insert(steps, p50);
                md.push_str(&format!(" {} |", fmt_us(p50)));
            }
            let rust = &by_server["rust"];
            for n in &peers {
                let ratio = median(
                    rust.iter()
                        .zip(&by_server[n])
                        .map(|(r, o)| o.p50_us / r.p50_us)
                        .collect(),
                );
                md.push_str(&format!(" {} |", fmt_ratio(ratio)));
            }
            md.push('\n');
        }
        // Cost per step between the sizes: linear growth means the two slopes agree.
        md.push_str("| µs per step, 10→100 / 100→1,000 |");
        let mut slopes = serde_json::Map::new();
        for n in &names {
            let p = &p50s[n];
            let (Some(a), Some(b), Some(c)) = (p.get(&10), p.get(&100), p.get(&1_000)) else {
                md.push_str(" – |");
                continue;
            };
            // `+ 0.0` turns a -0.0 into 0.0; a slope within noise of zero prints as 0.00.
            let s1 = ((b - a) / 90.0 * 100.0).round() / 100.0 + 0.0;
            let s2 = ((c - b) / 900.0 * 100.0).round() / 100.0 + 0.0;
            slopes.insert(n.clone(), json!([s1, s2]));
            md.push_str(&format!(" {s1:.2} / {s2:.2} |"));
        }
        md.push_str(&" |".repeat(peers.len()));
        md.push('\n');
        if let Some(&t) = p50s.get("rust").and_then(|p| p.get(&1_000)) {
            md.push_str(&format!(
                "\nTarget: 1,000 memoized steps end to end in under 2 ms: the Rust SDK takes **{}** ({}).\n",
                fmt_us(t),
                if t < 2_000.0 { "met" } else { "missed" }
            ));
        }
        self.results.insert(
            "replay".into(),
            json!({ "runs": rp, "p50_us": p50s, "slopes_us_per_step": slopes }),
        );
        self.report.push_str(&md);
    }

    fn startup(&mut self) -> Res<()> {
        if !self.opts.phases.iter().any(|p| p == "startup") {
            return Ok(());
        }
        let load_before = loadavg();
        let mut times: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut idle: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for r in 0..self.opts.startups {
            for s in self.order(r) {
                let port = free_port()?;
                let t0 = Instant::now();
                let running = start(s, port, &self.logs)?;
                let deadline = t0 + Duration::from_secs(60);
                let ready = loop {
                    if let Ok(a) = http(
                        port,
                        "GET",
                        inngest_bench::SERVE_PATH,
                        b"",
                        Duration::from_millis(500),
                    ) {
                        if a.status == 200 {
                            break t0.elapsed();
                        }
                    }
                    if Instant::now() > deadline {
                        running.stop();
                        return Err(format!("{} never answered GET with 200", s.name));
                    }
                    std::thread::sleep(Duration::from_millis(1));
                };
                // Idle memory: one GET answered, then a second of rest.
                std::thread::sleep(Duration::from_secs(1));
                let rss = proc_status_kib(running.pid(), "VmRSS:").unwrap_or(0) as f64;
                running.stop();
                self.say(&format!(
                    "start-up {} {:<8} {:>9}  idle {}",
                    r + 1,
                    s.name,
                    fmt_us(ready.as_secs_f64() * 1e6),
                    fmt_mb(rss)
                ));
                times
                    .entry(s.name.clone())
                    .or_default()
                    .push(ready.as_secs_f64() * 1e6);
                idle.entry(s.name.clone()).or_default().push(rss);
            }
        }
        let load_after = loadavg();
        let mut md = format!(
            "\n### Start-up and idle memory\n\nFrom spawning the process to the first 200 answer to `GET /api/inngest` (polled every millisecond), \
             median of {} starts; then `VmRSS` after one second of rest, 100 functions registered. Load average at the start: {load_before}; at the end: {load_after}.\n\n\
             | server | start-up | this ÷ Rust | idle memory |\n|---|---|---|---|\n",
            self.opts.startups
        );
        let rust = median(times["rust"].clone());
        let mut j = serde_json::Map::new();
        for n in self.names() {
            let t = median(times[&n].clone());
            let m = median(idle[&n].clone());
            md.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                self.label(&n),
                fmt_us(t),
                if n == "rust" {
                    "–".into()
                } else {
                    fmt_ratio(t / rust)
                },
                fmt_mb(m)
            ));
            j.insert(
                n.clone(),
                json!({"startup_us": times[&n], "idle_rss_kib": idle[&n]}),
            );
        }
        self.results.insert("startup".into(), Value::Object(j));
        self.report.push_str(&md);
        Ok(())
    }

    fn compile(&mut self) -> Res<()> {
        if !self.opts.phases.iter().any(|p| p == "compile") {
            return Ok(());
        }
        let root = std::env::current_dir().map_err(|e| e.to_string())?;
        let dir = target_dir().join("bench-compile");
        let dir = if dir.is_absolute() {
            dir
        } else {
            root.join(dir)
        };
        let crates = ["annotated", "plain"];
        for c in crates {
            write_compile_crate(&dir.join(c), c, &root)?;
        }
        let target = dir.join("target");
        let build = |krate: &str, release: bool| -> Res<f64> {
            let mut cmd = Command::new("cargo");
            cmd.arg("build").arg("--quiet");
            if release {
                cmd.arg("--release");
            }
            let t0 = Instant::now();
            let status = cmd
                .current_dir(dir.join(krate))
                .env("CARGO_TARGET_DIR", &target)
                .env("CARGO_INCREMENTAL", "0")
                .stdin(Stdio::null())
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("building the {krate} crate failed"));
            }
            Ok(t0.elapsed().as_secs_f64())
        };
        // Warm the dependency cache of both profiles (not timed).
        self.say("compile: warming the dependency cache (both profiles)");
        for release in [false, true] {
            for c in crates {
                build(c, release)?;
            }
        }
        // Let the warm-up's load settle out of the load average before the timed builds.
        std::thread::sleep(Duration::from_secs(30));
        let load_before = loadavg();
        let mut secs: BTreeMap<(bool, &str), Vec<f64>> = BTreeMap::new();
        for r in 0..self.opts.compile_rounds {
            for release in [false, true] {
                let order = if r % 2 == 0 {
                    crates
                } else {
                    [crates[1], crates[0]]
                };
                for c in order {
                    touch(&dir.join(c).join("src/main.rs"))?;
                    let t = build(c, release)?;
                    self.say(&format!(
                        "compile {} {} {c}: {t:.1} s",
                        r + 1,
                        if release { "release" } else { "debug" }
                    ));
                    secs.entry((release, c)).or_default().push(t);
                }
            }
        }
        let load_after = loadavg();
        let mut md = format!(
            "\n### Compile time of the macros\n\nA generated crate with 100 `#[inngest::function]` functions (and `inngest::serve()`) against the same crate with the \
             same 100 bodies as plain `async fn`s (called from `main`, which also calls `inngest::serve()`). Each is rebuilt from a warm dependency cache \
             (`touch src/main.rs`, `CARGO_INCREMENTAL=0`), median of {} builds; the binary's size for context. Load average at the start: {load_before}; at the end: {load_after}.\n\n\
             | profile | 100 annotated fns | 100 plain async fns | macros cost | annotated binary | plain binary |\n|---|---|---|---|---|---|\n",
            self.opts.compile_rounds
        );
        let mut j = serde_json::Map::new();
        for release in [false, true] {
            let profile = if release { "release" } else { "debug" };
            let a = median(secs[&(release, "annotated")].clone());
            let p = median(secs[&(release, "plain")].clone());
            let size = |c: &str| {
                std::fs::metadata(target.join(profile).join(format!("compile-{c}")))
                    .map(|m| format!("{:.1} MB", m.len() as f64 / 1e6))
                    .unwrap_or_else(|_| "–".into())
            };
            md.push_str(&format!(
                "| {profile} | {a:.1} s | {p:.1} s | +{:.1} s ({:.2}×) | {} | {} |\n",
                a - p,
                a / p,
                size("annotated"),
                size("plain")
            ));
            j.insert(
                profile.into(),
                json!({"annotated_s": secs[&(release, "annotated")], "plain_s": secs[&(release, "plain")]}),
            );
        }
        self.results.insert("compile".into(), Value::Object(j));
        self.report.push_str(&md);
        Ok(())
    }
}

fn touch(path: &Path) -> Res<()> {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .map_err(|e| format!("touch {}: {e}", path.display()))
}

/// Writes the crate of the compile-time phase: 100 functions, annotated or plain.
fn write_compile_crate(dir: &Path, kind: &str, root: &Path) -> Res<()> {
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    let manifest = format!(
        "[package]\nname = \"compile-{kind}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\ninngest = {{ path = \"{}\" }}\nserde_json = \"1\"\ntokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"macros\"] }}\n\n\
         # Not part of the inngest workspace.\n[workspace]\n",
        root.join("inngest").display()
    );
    let mut src = format!(
        "//! Generated by bench-run (compile-time phase of the benchmark).\n\nuse inngest::{};\nuse serde_json::{{json, Value}};\n",
        if kind == "annotated" { "{Context, Error}" } else { "Error" }
    );
    for i in 0..100 {
        if kind == "annotated" {
            src.push_str(&format!(
                "\n#[inngest::function(id = \"fn-{i:03}\", event = \"bench/fn-{i:03}\")]\n\
                 async fn fn_{i:03}(ctx: Context) -> Result<Value, Error> {{\n    \
                 Ok(json!({{ \"fn\": {i}, \"event\": ctx.event.name }}))\n}}\n"
            ));
        } else {
            src.push_str(&format!(
                "\nasync fn fn_{i:03}(name: String) -> Result<Value, Error> {{\n    \
                 Ok(json!({{ \"fn\": {i}, \"event\": name }}))\n}}\n"
            ));
        }
    }
    src.push_str("\n#[tokio::main]\nasync fn main() -> Result<(), Error> {\n");
    if kind == "plain" {
        for i in 0..100 {
            src.push_str(&format!(
                "    println!(\"{{}}\", fn_{i:03}(\"bench/fn-{i:03}\".to_owned()).await?);\n"
            ));
        }
    }
    src.push_str("    inngest::serve().await\n}\n");
    let write = |p: PathBuf, text: &str| -> Res<()> {
        // Rewritten only when it changed, so the warm cache stays warm across runs.
        if std::fs::read_to_string(&p).ok().as_deref() != Some(text) {
            std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        Ok(())
    };
    write(dir.join("Cargo.toml"), &manifest)?;
    write(dir.join("src/main.rs"), &src)?;
    // The workspace's lock file: the same dependency versions as the SDK is tested with.
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| e.to_string())?;
    if !dir.join("Cargo.lock").exists() {
        write(dir.join("Cargo.lock"), &lock)?;
    }
    Ok(())
}

fn run() -> Res<()> {
    let opts = parse_opts()?;
    if !Path::new("bench/wrk.lua").exists() {
        return Err("run bench-run from the repository's root (bench/bench.sh does)".into());
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| e.to_string())?;
    let logs = opts.out.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let mut bodies = BTreeMap::new();
    for n in REPLAY_STEPS {
        let p = opts.out.join(format!("call-{n}.json"));
        std::fs::write(&p, inngest_bench::call_bytes(n)).map_err(|e| e.to_string())?;
        bodies.insert(n, p);
    }
    let specs = opts.servers.iter().map(|s| spec(s)).collect();
    let mut bench = Bench {
        opts: opts.clone(),
        specs,
        bodies,
        logs,
        results: serde_json::Map::new(),
        report: String::new(),
    };
    let started = chrono_now();
    let machine = machine();
    bench.throughput_and_replay()?;
    bench.startup()?;
    bench.compile()?;
    let mut head = format!("## Figures of {started}\n\n| machine | |\n|---|---|\n");
    for (k, v) in &machine {
        head.push_str(&format!("| {k} | {v} |\n"));
    }
    head.push_str(&format!(
        "| run | `bench-run {}` |\n\n",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    ));
    let report = head + &bench.report;
    bench.results.insert(
        "machine".into(),
        json!(machine.into_iter().collect::<BTreeMap<_, _>>()),
    );
    bench.results.insert("started".into(), json!(started));
    std::fs::write(opts.out.join("report.md"), &report).map_err(|e| e.to_string())?;
    std::fs::write(
        opts.out.join("results.json"),
        serde_json::to_vec_pretty(&Value::Object(bench.results)).expect("JSON"),
    )
    .map_err(|e| e.to_string())?;
    println!("{report}");
    eprintln!(
        "bench-run: wrote {} and {}",
        opts.out.join("report.md").display(),
        opts.out.join("results.json").display()
    );
    Ok(())
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC` (no date crate needed).
fn chrono_now() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3_600, (secs % 3_600) / 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02} UTC")
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-run: {e}");
            ExitCode::FAILURE
        }
    }
}
