//! Figures for the embedded engine: runs per second of a three-step function in-process and
//! over loopback HTTP, and the memory held per thousand finished runs.
//!
//! `cargo run --release --example engine_throughput` (a measurement, not a test; see
//! BENCHMARKS.md).

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use inngest::engine::{Engine, EngineConfig};
use inngest::{Context, Error};
use serde_json::json;

#[inngest::function(id = "three-steps", event = "bench/three")]
async fn three_steps(ctx: Context) -> Result<u64, Error> {
    let a: u64 = ctx.step.run("a", || async { Ok(1) }).await?;
    let b: u64 = ctx.step.run("b", || async { Ok(a + 1) }).await?;
    let c: u64 = ctx.step.run("c", || async { Ok(b + 1) }).await?;
    Ok(a + b + c)
}

/// The same, with a concurrency limit in force (10 steps at once).
#[inngest::function(id = "limited", event = "bench/limited", concurrency = 10)]
async fn limited(ctx: Context) -> Result<u64, Error> {
    three(&ctx).await
}

/// The same, with a throttle in force (at most 100,000 starts a second).
#[inngest::function(
    id = "throttled",
    event = "bench/throttled",
    throttle(limit = 100000, period = "1s")
)]
async fn throttled(ctx: Context) -> Result<u64, Error> {
    three(&ctx).await
}

async fn three(ctx: &Context) -> Result<u64, Error> {
    let a: u64 = ctx.step.run("a", || async { Ok(1) }).await?;
    let b: u64 = ctx.step.run("b", || async { Ok(a + 1) }).await?;
    let c: u64 = ctx.step.run("c", || async { Ok(b + 1) }).await?;
    Ok(a + b + c)
}

/// Sends `n` events and waits until `n` runs have ended; returns runs per second.
async fn measure(engine: &Engine, n: usize) -> f64 {
    measure_event(engine, "bench/three", n).await
}

/// Sends `n` events named `name` and waits until `n` runs have ended; returns runs per
/// second.
async fn measure_event(engine: &Engine, name: &str, n: usize) -> f64 {
    let start = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        ids.extend(
            engine
                .send(
                    chunk
                        .iter()
                        .map(|i| json!({"name": name, "data": {"i": i}}))
                        .collect(),
                )
                .expect("the events are valid"),
        );
    }
    // Wait until the run of every event has ended (runs end about in order).
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut done = 0;
    while done < ids.len() {
        let ended = engine.inspect(|core| {
            ids[done..]
                .iter()
                .take_while(|id| {
                    core.runs_for_event(id)
                        .first()
                        .is_some_and(|r| !matches!(r.status.as_str(), "Queued" | "Running"))
                })
                .count()
        });
        done += ended;
        assert!(
            Instant::now() < deadline,
            "runs did not end in time ({done}/{n})"
        );
        if done < ids.len() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let n = 5_000;
    let config = || EngineConfig::default().max_finished_runs(1_000_000);

    // In-process: the engine calls the app's handler directly.
    let engine = Engine::start(config()).map_err(Error::new)?;
    let app = inngest::App::new("bench")
        .register::<three_steps>()
        .register::<limited>()
        .register::<throttled>()
        .dev("http://127.0.0.1:9")
        .into_service()?;
    app.register_with(&engine)?;
    measure(&engine, 500).await; // warm-up
    let before = rss_kib();
    let in_process = measure(&engine, n).await;
    let after = rss_kib();
    let kept = engine.runs_kept();
    println!("in-process:        {in_process:>8.0} runs/s ({n} runs of a three-step function)");
    println!(
        "memory:            {:>8.0} KiB per 1000 finished runs ({kept} runs kept, RSS {before} -> {after} KiB)",
        (after.saturating_sub(before)) as f64 * 1000.0 / n as f64
    );
    let concurrency = measure_event(&engine, "bench/limited", n).await;
    println!("with concurrency=10: {concurrency:>6.0} runs/s");
    let throttle = measure_event(&engine, "bench/throttled", n).await;
    println!("with a throttle:   {throttle:>8.0} runs/s (100,000 a second)");

    // Memory after 100,000 finished runs, with the default of 10,000 finished runs kept.
    let engine = Engine::start(EngineConfig::default()).map_err(Error::new)?;
    app.register_with(&engine)?;
    let before = rss_kib();
    for _ in 0..20 {
        measure(&engine, 5_000).await;
    }
    println!(
        "after 100,000 runs: RSS {before} -> {} KiB ({} runs kept, the default limit)",
        rss_kib(),
        engine.runs_kept()
    );

    // Over loopback HTTP: the engine served on its own, the app registered like with the dev server.
    let engine = Engine::start(config()).map_err(Error::new)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(Error::new)?;
    let engine_url = format!("http://{}", listener.local_addr().map_err(Error::new)?);
    tokio::spawn(inngest::engine::serve(
        engine.clone(),
        listener,
        std::future::pending(),
    ));
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
            .dev(engine_url)
            .serve()
            .listener(app_listener)
            .into_future(),
    );
    let synced = reqwest::Client::new()
        .put(&app_url)
        .send()
        .await
        .map_err(Error::new)?;
    assert_eq!(synced.status(), 200, "the app registers with the engine");
    measure(&engine, 500).await;
    let http = measure(&engine, n).await;
    println!("over loopback HTTP: {http:>7.0} runs/s ({n} runs, 4 calls each)");
    Ok(())
}
