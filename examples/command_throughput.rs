//! Figures for the engine as a command: runs per second of a three-step function through
//! `inngest-engine dev` over HTTP (events sent to `POST /e/<key>`, the app called over
//! loopback), and the command's memory idle and after 100,000 runs.
//!
//! `cargo build --release -p inngest-engine && cargo run --release --example
//! command_throughput` (a measurement, not a test; see BENCHMARKS.md). `RUNS=n` changes the
//! number of runs.

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use inngest::{Context, Error};
use serde_json::{json, Value};

#[inngest::function(id = "three-steps", event = "bench/three")]
async fn three_steps(ctx: Context) -> Result<u64, Error> {
    let a: u64 = ctx.step.run("a", || async { Ok(1) }).await?;
    let b: u64 = ctx.step.run("b", || async { Ok(a + 1) }).await?;
    let c: u64 = ctx.step.run("c", || async { Ok(b + 1) }).await?;
    Ok(a + b + c)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// How many runs are running (through the GraphQL API).
async fn running(client: &reqwest::Client, origin: &str) -> u64 {
    let query = "{ runs(first: 1, filter: {from: \"2000-01-01T00:00:00Z\", status: [RUNNING]}, orderBy: []) { totalCount } }";
    let body: Value = match client
        .post(format!("{origin}/v0/gql"))
        .json(&json!({ "query": query }))
        .send()
        .await
    {
        Ok(res) => res.json().await.unwrap_or_default(),
        Err(_) => Value::Null,
    };
    body["data"]["runs"]["totalCount"]
        .as_u64()
        .unwrap_or(u64::MAX)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let runs: u64 = std::env::var("RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let bin = std::env::var("INNGEST_ENGINE_BIN")
        .unwrap_or_else(|_| "target/release/inngest-engine".to_owned());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(Error::new)?
        .local_addr()
        .map_err(Error::new)?
        .port();
    let origin = format!("http://127.0.0.1:{port}");
    let app_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(Error::new)?;
    let app_url = format!(
        "http://{}/api/inngest",
        app_listener.local_addr().map_err(Error::new)?
    );
    tokio::spawn(
        inngest::App::new("bench")
            .register::<three_steps>()
            .dev(origin.clone())
            .serve()
            .listener(app_listener)
            .into_future(),
    );
    let mut engine = tokio::process::Command::new(&bin)
        .args(["dev", "-p", &port.to_string(), "-u", &app_url, "--no-poll", "--log-level", "warn"])
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::msg(format!("could not start {bin}: {e} (build it with cargo build --release -p inngest-engine)")))?;
    let pid = engine.id().unwrap_or(0);
    let client = reqwest::Client::new();
    // Wait for the sync.
    loop {
        let apps: Value = match client
            .post(format!("{origin}/v0/gql"))
            .json(&json!({"query": "{ functions { slug } }"}))
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        };
        if apps["data"]["functions"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_kib(pid);
    println!("command idle:       {idle:>8} KiB RSS");
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < runs {
        let batch = (runs - sent).min(100);
        let events: Vec<Value> = (0..batch)
            .map(|i| json!({"name": "bench/three", "data": {"i": sent + i}}))
            .collect();
        let res = client
            .post(format!("{origin}/e/key"))
            .json(&events)
            .send()
            .await
            .map_err(Error::new)?;
        assert_eq!(res.status(), 200);
        sent += batch;
        // Keep at most ~2,000 runs in flight, as a steady producer would.
        if sent.is_multiple_of(1_000) {
            while running(&client, &origin).await > 2_000 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    while running(&client, &origin).await > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    println!("through the command: {:>7.0} runs/s ({runs} runs of a three-step function over HTTP, 4 calls each)", runs as f64 / secs);
    println!(
        "command after runs: {:>8} KiB RSS (10,000 finished runs and events kept)",
        rss_kib(pid)
    );
    let _ = engine.kill().await;
    Ok(())
}
