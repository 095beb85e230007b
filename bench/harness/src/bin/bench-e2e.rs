//! End to end under the engine: a ten-step sequential function run by the standalone engine
//! (`inngest-engine dev`, its own process) over loopback HTTP, as Inngest calls an app, with
//! and without checkpointing, the Rust SDK and the official TypeScript SDK side by side in
//! one run. For each it reports the wall time of a run (the event sent to the run seen
//! completed, polled every millisecond through the engine's API) and the call requests per
//! run (counted by each app).
//!
//! ```text
//! cargo build --release -p inngest-engine -p inngest-bench --bin inngest-engine --bin bench-e2e
//! target/release/bench-e2e [--rounds 3] [--runs 20]
//! ```
//!
//! Run from the repository's root (the JS peer is `tests/peers/js`, installed with `npm ci`).
//! `INNGEST_ENGINE=<path>` measures another engine binary. Each config runs `--runs` runs one
//! after another per round, the configs in a rotated order each round.

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use inngest::{Checkpointing, Context, Error};
use serde_json::{json, Value};

type Res<T> = Result<T, String>;

/// Ten `step.run`s one after another (checkpointing on, the default).
#[inngest::function(id = "ten-steps", event = "bench/ten-rs")]
async fn ten_steps(ctx: Context) -> Result<u32, Error> {
    let mut total = 0;
    for i in 0..10_u32 {
        total += ctx.step.run("add", move || async move { Ok(i) }).await?;
    }
    Ok(total)
}

/// The same, checkpointing off.
#[inngest::function(
    id = "ten-steps-classic",
    event = "bench/ten-rs-classic",
    checkpointing = false
)]
async fn ten_steps_classic(ctx: Context) -> Result<u32, Error> {
    let mut total = 0;
    for i in 0..10_u32 {
        total += ctx.step.run("add", move || async move { Ok(i) }).await?;
    }
    Ok(total)
}

/// A config measured: which SDK, which event starts its run, where its call count is read.
struct Config {
    name: &'static str,
    event: &'static str,
    stats: String,
    walls: Vec<Duration>,
    calls: u64,
    runs: u64,
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = if args.get(1).map(String::as_str) == Some("--serve-app") {
        serve_app(&args[2], &args[3])
    } else {
        run(&args[1..])
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-e2e: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The Rust app, in a process of its own: both functions, calls counted (`GET /stats`).
fn serve_app(port: &str, engine: &str) -> Res<()> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let service = inngest::App::new("rs")
            .dev(engine)
            .serve_origin(format!("http://127.0.0.1:{port}"))
            .register::<ten_steps>()
            .register::<ten_steps_classic>()
            .checkpointing(Checkpointing::ON)
            .into_service()
            .map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
            .await
            .map_err(|e| e.to_string())?;
        println!("LISTENING {port}");
        let calls = Arc::new(AtomicU64::new(0));
        loop {
            let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
            let (service, calls) = (service.clone(), calls.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let (service, calls) = (service.clone(), calls.clone());
                        async move {
                            if req.uri().path() == "/stats" {
                                let body =
                                    json!({"calls": calls.load(Ordering::Relaxed)}).to_string();
                                let res = hyper::Response::new(
                                    Full::new(Bytes::from(body)).boxed_unsync(),
                                );
                                return Ok::<_, Infallible>(res);
                            }
                            if req.method() == http::Method::POST {
                                calls.fetch_add(1, Ordering::Relaxed);
                            }
                            let res = service.handle(req).await;
                            Ok(res.map(|b| b.boxed_unsync()))
                        }
                    },
                );
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, svc)
                    .await;
            });
        }
    })
}

/// A free loopback port.
fn free_port() -> Res<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Starts a child and waits for its `LISTENING` line.
fn start(mut cmd: Command, what: &str) -> Res<Kill> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {what}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("LISTENING") => break,
            Some(Ok(_)) => continue,
            _ => return Err(format!("{what} did not start")),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Ok(Kill(child))
}

fn run(args: &[String]) -> Res<()> {
    let mut rounds = 3;
    let mut runs = 20;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let n = || -> Res<usize> { Err(format!("`{a}` needs a number")) };
        match a.as_str() {
            "--rounds" => rounds = it.next().and_then(|v| v.parse().ok()).map_or_else(n, Ok)?,
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).map_or_else(n, Ok)?,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let engine_bin = std::env::var("INNGEST_ENGINE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| exe.with_file_name("inngest-engine"));
    if !engine_bin.exists() {
        return Err(format!(
            "no engine at {}: cargo build --release -p inngest-engine",
            engine_bin.display()
        ));
    }
    let engine_port = free_port()?;
    let engine_url = format!("http://127.0.0.1:{engine_port}");
    let mut engine = Command::new(&engine_bin);
    engine.args([
        "dev",
        "-p",
        &engine_port.to_string(),
        "--no-discovery",
        "--no-poll",
    ]);
    let _engine = Kill(
        engine
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?,
    );
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{engine_url}/health")).send().is_err() {
        if Instant::now() > deadline {
            return Err("the engine did not start".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The apps: Rust (both functions in one app), and the TypeScript SDK twice (its
    // checkpointing on, its default, and off).
    let rs_port = free_port()?;
    let mut rs = Command::new(&exe);
    rs.args(["--serve-app", &rs_port.to_string(), &engine_url]);
    let _rs = start(rs, "the Rust app")?;
    let js = |app: &str, event: &str, checkpointing: &str| -> Res<(Kill, u16)> {
        let port = free_port()?;
        let mut cmd = Command::new("node");
        cmd.arg("server.mjs")
            .current_dir("tests/peers/js")
            .env("PORT", port.to_string())
            .env("INNGEST_DEV", &engine_url)
            .env("PEER_APP_ID", app)
            .env("PEER_TEN_EVENT", event)
            .env("PEER_CHECKPOINTING", checkpointing);
        Ok((start(cmd, "the JS peer")?, port))
    };
    let (_js_on, js_on_port) = js("js", "bench/ten-js", "1")?;
    let (_js_off, js_off_port) = js("js-classic", "bench/ten-js-classic", "0")?;
    for port in [rs_port, js_on_port, js_off_port] {
        let res = client
            .put(format!("http://127.0.0.1:{port}/api/inngest"))
            .header("x-inngest-server-kind", "dev")
            .send()
            .map_err(|e| e.to_string())?;
        if !res.status().is_success() {
            return Err(format!("sync of the app on {port}: {}", res.status()));
        }
    }
    let stats = |port: u16| format!("http://127.0.0.1:{port}/stats");
    let mut configs = vec![
        Config {
            name: "Rust, checkpointing",
            event: "bench/ten-rs",
            stats: stats(rs_port),
            walls: vec![],
            calls: 0,
            runs: 0,
        },
        Config {
            name: "Rust, no checkpointing",
            event: "bench/ten-rs-classic",
            stats: stats(rs_port),
            walls: vec![],
            calls: 0,
            runs: 0,
        },
        Config {
            name: "TypeScript, checkpointing",
            event: "bench/ten-js",
            stats: stats(js_on_port),
            walls: vec![],
            calls: 0,
            runs: 0,
        },
        Config {
            name: "TypeScript, no checkpointing",
            event: "bench/ten-js-classic",
            stats: stats(js_off_port),
            walls: vec![],
            calls: 0,
            runs: 0,
        },
    ];
    // One warm-up run each.
    for c in &configs {
        one_run(&client, &engine_url, c.event)?;
    }
    let n = configs.len();
    for round in 0..rounds {
        for k in 0..n {
            let c = &mut configs[(round + k) % n];
            let before = calls(&client, &c.stats)?;
            for _ in 0..runs {
                c.walls.push(one_run(&client, &engine_url, c.event)?);
            }
            c.calls += calls(&client, &c.stats)? - before;
            c.runs += runs as u64;
        }
    }
    println!("| SDK, mode | call requests per run | wall time per run, median | p90 |");
    println!("|---|---:|---:|---:|");
    for c in &mut configs {
        c.walls.sort();
        let at = |q: f64| c.walls[((c.walls.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "| {} | {:.1} | {:.1} ms | {:.1} ms |",
            c.name,
            c.calls as f64 / c.runs as f64,
            at(0.5).as_secs_f64() * 1e3,
            at(0.9).as_secs_f64() * 1e3
        );
    }
    Ok(())
}

/// The call requests an app counted so far.
fn calls(client: &reqwest::blocking::Client, url: &str) -> Res<u64> {
    let v: Value = client
        .get(url)
        .send()
        .and_then(|r| r.json())
        .map_err(|e| e.to_string())?;
    v["calls"]
        .as_u64()
        .ok_or_else(|| format!("no count at {url}: {v}"))
}

/// Sends `event` and waits for its run to complete; how long that took.
fn one_run(client: &reqwest::blocking::Client, engine: &str, event: &str) -> Res<Duration> {
    let start = Instant::now();
    let sent: Value = client
        .post(format!("{engine}/e/bench"))
        .json(&json!({"name": event, "data": {}}))
        .send()
        .and_then(|r| r.json())
        .map_err(|e| e.to_string())?;
    let id = sent["ids"][0]
        .as_str()
        .ok_or_else(|| format!("no event id: {sent}"))?;
    let deadline = start + Duration::from_secs(30);
    loop {
        let runs: Value = client
            .get(format!("{engine}/v1/events/{id}/runs"))
            .send()
            .and_then(|r| r.json())
            .map_err(|e| e.to_string())?;
        match runs["data"][0]["status"].as_str() {
            Some("Completed") => {
                let output = &runs["data"][0]["output"];
                if *output != json!(45) {
                    return Err(format!("the run of {event} returned {output}"));
                }
                return Ok(start.elapsed());
            }
            Some("Failed" | "Cancelled") => {
                return Err(format!("the run of {event} failed: {runs}"))
            }
            _ => {}
        }
        if Instant::now() > deadline {
            return Err(format!("the run of {event} did not end within 30 s"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
