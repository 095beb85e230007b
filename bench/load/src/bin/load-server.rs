//! The load test's server: serves the scenario's functions on a loopback port.
//!
//! `load-server [PORT]` (0, the default, picks a free port) prints the address it listens on
//! as its first line of stdout, serves until SIGTERM or Ctrl-C, then finishes the requests in
//! flight and prints how many panics the functions raised. Panics are counted by a panic hook
//! instead of being printed, so a run with thousands of them stays readable.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use inngest::{Context, Error, NonRetriableError};
use inngest_load::{
    completed, non_retriable_message, panic_message, retriable_message, step_value, APP_ID, STEP_ID,
};
use serde_json::Value;

/// Panics raised by the served functions.
static PANICS: AtomicU64 = AtomicU64::new(0);

fn index(ctx: &Context) -> u64 {
    ctx.event.data["i"].as_u64().unwrap_or_default()
}

/// Runs (or replays) a step, then completes with JSON.
#[inngest::function(id = "complete", event = "load/complete")]
async fn complete(ctx: Context) -> Result<Value, Error> {
    let i = index(&ctx);
    let value: u64 = ctx
        .step
        .run(STEP_ID, || async move { Ok(step_value(i)) })
        .await?;
    Ok(completed(i, value))
}

/// The retriable error of the scenario, serialized under its type name.
#[derive(Debug)]
struct LoadError(u64);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&retriable_message(self.0))
    }
}

impl std::error::Error for LoadError {}

#[inngest::function(id = "retriable", event = "load/retriable")]
async fn retriable(ctx: Context) -> Result<Value, Error> {
    Err(LoadError(index(&ctx)).into())
}

#[inngest::function(id = "non-retriable", event = "load/non-retriable")]
async fn non_retriable(ctx: Context) -> Result<Value, Error> {
    Err(NonRetriableError::new(non_retriable_message(index(&ctx))).into())
}

#[inngest::function(id = "panics", event = "load/panics")]
async fn panics(ctx: Context) -> Result<Value, Error> {
    std::panic::panic_any(panic_message(index(&ctx)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::panic::set_hook(Box::new(|_| {
        PANICS.fetch_add(1, Ordering::Relaxed);
    }));
    let port: u16 = match std::env::args().nth(1) {
        Some(p) => p.parse().map_err(|e| format!("bad port `{p}`: {e}"))?,
        None => 0,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", listener.local_addr()?)?;
    stdout.flush()?;

    // Checkpointing off: the load generator checks the classic answers (a step run is a 206
    // with its op, not a checkpoint sent to an API that is not there).
    inngest::App::new(APP_ID)
        .dev("http://127.0.0.1:9")
        .checkpointing(inngest::Checkpointing::OFF)
        .register::<complete>()
        .register::<retriable>()
        .register::<non_retriable>()
        .register::<panics>()
        .serve()
        .listener(listener)
        .with_graceful_shutdown(stop_signal())
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "load-server: stopped; {} panics caught",
        PANICS.load(Ordering::Relaxed)
    );
    Ok(())
}

/// SIGTERM (what `bench/load.sh` sends) or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
