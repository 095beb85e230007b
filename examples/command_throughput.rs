//! Figures for the engine as a command: runs per second of a three-step function through
//! `inngest-engine dev` over HTTP (events sent to `POST /e/<key>`, the app called over
//! loopback), in memory and with `--persist`, the command's memory idle and after 100,000
//! runs, and how long it takes to start again after a `kill -9` with 10,000 runs in flight.
//!
//! `cargo build --release -p inngest-engine && cargo run --release --example
//! command_throughput` (a measurement, not a test; see BENCHMARKS.md). `RUNS=n` changes the
//! number of runs, `IN_FLIGHT=n` the runs in flight at the kill.

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

#[inngest::function(id = "sleepy", event = "bench/sleepy")]
async fn sleepy(ctx: Context) -> Result<u64, Error> {
    let a: u64 = ctx.step.run("a", || async { Ok(1) }).await?;
    ctx.step.sleep("nap", Duration::from_secs(3600)).await?;
    Ok(a)
}

fn number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let runs = number("RUNS", 100_000);
    let bin = std::env::var("INNGEST_ENGINE_BIN")
        .unwrap_or_else(|_| "target/release/inngest-engine".to_owned());
    let dir = std::env::temp_dir().join(format!("inngest-bench-{}", std::process::id()));
    println!("in memory:");
    let mut engine = Bench::start(&bin, None).await?;
    engine.throughput(runs).await?;
    let _ = engine.child.kill().await;
    println!("with --persist ({}):", dir.display());
    let mut engine = Bench::start(&bin, Some(&dir)).await?;
    engine.throughput(runs).await?;
    engine
        .recovery(&bin, &dir, number("IN_FLIGHT", 10_000))
        .await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The command and an app synced with it.
struct Bench {
    child: tokio::process::Child,
    origin: String,
    port: u16,
    app_url: String,
    client: reqwest::Client,
}

fn spawn(
    bin: &str,
    port: u16,
    app_url: &str,
    persist: Option<&std::path::Path>,
) -> Result<tokio::process::Child, Error> {
    let mut command = tokio::process::Command::new(bin);
    command.args([
        "dev",
        "-p",
        &port.to_string(),
        "-u",
        app_url,
        "--no-poll",
        "--log-level",
        "warn",
    ]);
    if let Some(dir) = persist {
        command.arg("--persist").arg("--sqlite-dir").arg(dir);
    }
    command.kill_on_drop(true).spawn().map_err(|e| {
        Error::msg(format!(
            "could not start {bin}: {e} (build it with cargo build --release -p inngest-engine)"
        ))
    })
}

impl Bench {
    async fn start(bin: &str, persist: Option<&std::path::Path>) -> Result<Bench, Error> {
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
                .register::<sleepy>()
                .dev(origin.clone())
                .serve()
                .listener(app_listener)
                .into_future(),
        );
        let engine = spawn(bin, port, &app_url, persist)?;
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
        println!("  command idle:       {idle:>8} KiB RSS");
        Ok(Bench {
            child: engine,
            origin,
            port,
            app_url,
            client,
        })
    }

    /// Sends `n` events named `name` in one request; returns `n`.
    async fn send(&self, name: &str, from: u64, n: u64) -> Result<u64, Error> {
        let events: Vec<Value> = (0..n)
            .map(|i| json!({"name": name, "data": {"i": from + i}}))
            .collect();
        let res = self
            .client
            .post(format!("{}/e/key", self.origin))
            .json(&events)
            .send()
            .await
            .map_err(Error::new)?;
        assert_eq!(res.status(), 200);
        Ok(n)
    }

    async fn throughput(&mut self, runs: u64) -> Result<(), Error> {
        let (client, origin) = (&self.client, self.origin.as_str());
        let pid = self.child.id().unwrap_or(0);
        let start = Instant::now();
        let mut sent = 0u64;
        while sent < runs {
            sent += self
                .send("bench/three", sent, (runs - sent).min(100))
                .await?;
            // Keep at most ~2,000 runs in flight, as a steady producer would.
            if sent.is_multiple_of(1_000) {
                while running(client, origin).await > 2_000 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        while running(client, origin).await > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = start.elapsed().as_secs_f64();
        println!("  through the command: {:>7.0} runs/s ({runs} runs of a three-step function over HTTP, 4 calls each)", runs as f64 / secs);
        println!(
            "  command after runs: {:>8} KiB RSS (10,000 finished runs and events kept)",
            rss_kib(pid)
        );
        Ok(())
    }

    /// Starts `in_flight` runs that sleep, kills the command with SIGKILL while they start,
    /// and times its start on the same directory until its API answers.
    async fn recovery(
        &mut self,
        bin: &str,
        dir: &std::path::Path,
        in_flight: u64,
    ) -> Result<(), Error> {
        let (client, origin) = (self.client.clone(), self.origin.clone());
        let mut sent = 0;
        while sent < in_flight {
            sent += self
                .send("bench/sleepy", sent, (in_flight - sent).min(500))
                .await?;
        }
        self.child.start_kill().map_err(Error::new)?;
        let _ = self.child.wait().await;
        let db = std::fs::metadata(dir.join("inngest-engine.db")).map_or(0, |m| m.len())
            + std::fs::metadata(dir.join("inngest-engine.db-wal")).map_or(0, |m| m.len());
        let start = Instant::now();
        self.child = spawn(bin, self.port, &self.app_url, Some(dir))?;
        loop {
            if client
                .get(format!("{origin}/health"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let up = start.elapsed();
        let kept = running(&client, &origin).await;
        println!(
            "  recovery after kill -9 with {in_flight} runs in flight: API up in {:.0} ms ({kept} runs running again; database {} KiB)",
            up.as_secs_f64() * 1000.0,
            db / 1024,
        );
        let _ = self.child.kill().await;
        Ok(())
    }
}
