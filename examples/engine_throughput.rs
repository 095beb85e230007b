//! Figures for the embedded engine: runs per second of a three-step function in-process and
//! over loopback HTTP, and the memory held per thousand finished runs.
//!
//! `cargo run --release --example engine_throughput` (a measurement, not a test; see
//! BENCHMARKS.md).

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use inngest::engine::{Engine, EngineConfig, Happening};
use inngest::{Context, Error};
use serde_json::json;

#[inngest::function(id = "three-steps", event = "bench/three")]
async fn three_steps(ctx: Context) -> Result<u64, Error> {
    let a: u64 = ctx.step.run("a", || async { Ok(1) }).await?;
    let b: u64 = ctx.step.run("b", || async { Ok(a + 1) }).await?;
    let c: u64 = ctx.step.run("c", || async { Ok(b + 1) }).await?;
    Ok(a + b + c)
}

/// Sends `n` events and waits until `n` runs have ended; returns runs per second.
async fn measure(engine: &Engine, n: usize) -> f64 {
    let mut happenings = engine.subscribe();
    let start = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        engine
            .send(
                chunk
                    .iter()
                    .map(|i| json!({"name": "bench/three", "data": {"i": i}}))
                    .collect(),
            )
            .expect("the events are valid");
    }
    let mut ended = 0;
    while ended < n {
        match tokio::time::timeout(Duration::from_secs(120), happenings.recv()).await {
            Ok(Ok(Happening::RunEnded { .. })) => ended += 1,
            Ok(Ok(_)) => {}
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                // Too many happenings to follow: count what is kept instead.
                ended = n.min(engine.runs_kept());
            }
            _ => panic!("runs did not end in time ({ended}/{n})"),
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
