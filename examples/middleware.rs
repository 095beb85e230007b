//! Middleware in production: a metrics middleware, a value injected into the context (a
//! database handle the function reads by type), logs that are quiet on replay, and
//! end-to-end encryption with a key from the environment, all run by the embedded engine.
//!
//! `cargo run --example middleware` (set `INNGEST_ENCRYPTION_KEY`; a demo key is used
//! otherwise). It serves on `PORT` (3000), sends itself an event whose `data.encrypted` is
//! encrypted before it leaves the process, waits for the run to end, prints the metrics and
//! exits. Each log line of the function appears once, though the function is replayed on
//! every call.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use inngest::encryption::Encryption;
use inngest::middleware::{FunctionInput, Middleware, RunInfo, StepInfo};
use inngest::{Context, Error, Event};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tracing_subscriber::prelude::*;

/// Counts what the app's functions do, and says when a run ends.
#[derive(Default)]
struct Metrics {
    steps_run: AtomicU64,
    step_failures: AtomicU64,
    runs_completed: AtomicU64,
    runs_failed: AtomicU64,
    ended: Notify,
}

/// The metrics are shared: the app holds the middleware, `main` reads it.
#[derive(Clone, Default)]
struct SharedMetrics(Arc<Metrics>);

impl Middleware for SharedMetrics {
    fn name(&self) -> &str {
        "metrics"
    }

    async fn on_step_complete(&self, run: &RunInfo, step: &StepInfo, _output: &Value) {
        self.0.steps_run.fetch_add(1, Ordering::Relaxed);
        tracing::info!(function = %run.function_id, step = %step.id, "metrics: step ran");
    }

    async fn on_step_error(&self, _run: &RunInfo, _step: &StepInfo, _e: &Error, _last: bool) {
        self.0.step_failures.fetch_add(1, Ordering::Relaxed);
    }

    async fn on_run_complete(&self, _run: &RunInfo, _output: &Value) {
        self.0.runs_completed.fetch_add(1, Ordering::Relaxed);
        self.0.ended.notify_one();
    }

    async fn on_run_error(&self, _run: &RunInfo, _error: &Error, final_attempt: bool) {
        if final_attempt {
            self.0.runs_failed.fetch_add(1, Ordering::Relaxed);
            self.0.ended.notify_one();
        }
    }
}

/// A stand-in for a database pool.
#[derive(Debug)]
struct Db {
    users: HashMap<String, String>,
}

/// Puts the database handle into every run's context.
struct Database(Arc<Db>);

impl Middleware for Database {
    fn name(&self) -> &str {
        "database"
    }

    async fn transform_function_input(&self, input: &mut FunctionInput) -> Result<(), Error> {
        input.insert(self.0.clone());
        Ok(())
    }
}

#[inngest::function(
    id = "charge-card",
    event = "billing/charge",
    description = "Charges the card in the event's encrypted field"
)]
async fn charge_card(ctx: Context) -> Result<Value, Error> {
    let db = ctx.get::<Arc<Db>>()?;
    let user_id = ctx.event.data["user_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // Decrypted by the middleware before the function sees it; Inngest only stored ciphertext.
    let card = ctx.event.data["encrypted"]["card"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    tracing::info!(%user_id, "charging");
    let name: String = ctx
        .step
        .run("load-user", || async {
            Ok(db.users.get(&user_id).cloned().unwrap_or_default())
        })
        .await?;
    tracing::info!(%name, "loaded the user");
    // The step's output (the receipt, with the card's last digits) is encrypted too.
    let receipt: Value = ctx
        .step
        .run("charge", || async {
            Ok(json!({"last4": &card[card.len().saturating_sub(4)..], "amount": 4200}))
        })
        .await?;
    tracing::info!(last4 = %receipt["last4"], "charged");
    Ok(json!({"user": name, "receipt": receipt}))
}

static METRICS: OnceLock<SharedMetrics> = OnceLock::new();

#[tokio::main]
async fn main() -> Result<(), Error> {
    // `QuietReplay`: every event logged while a function replays memoized steps is dropped.
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer())
        .with(tracing_subscriber::EnvFilter::new(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info,inngest::engine=warn".into()),
        ))
        .with(inngest::logs::QuietReplay)
        .init();

    let key = std::env::var("INNGEST_ENCRYPTION_KEY").unwrap_or_else(|_| {
        tracing::warn!("INNGEST_ENCRYPTION_KEY is not set: using a demo key");
        "demo-key-change-me".to_owned()
    });
    let encryption = Encryption::new(key)?;
    let metrics = METRICS.get_or_init(SharedMetrics::default).clone();
    let db = Arc::new(Db {
        users: HashMap::from([("u-1".to_owned(), "Ada".to_owned())]),
    });

    let app = inngest::App::new("middleware-example")
        .embedded()
        .middleware(metrics.clone())
        .middleware(Database(db))
        .middleware(encryption.clone())
        .register::<charge_card>();
    let server = tokio::spawn(app.serve().into_future());

    // Events sent from outside functions go through the same encryption.
    let client = inngest::Client::from_env()?.with_middleware(encryption);
    let started = Instant::now();
    let ended = metrics.0.ended.notified();
    let id = client
        .send(&Event::new(
            "billing/charge",
            json!({"user_id": "u-1", "encrypted": {"card": "4242424242424242"}}),
        ))
        .await?;
    tracing::info!(%id, "sent billing/charge (its `encrypted` field encrypted)");
    if tokio::time::timeout(Duration::from_secs(30), ended)
        .await
        .is_err()
    {
        return Err(Error::msg("the run did not end within 30 s"));
    }
    let m = &metrics.0;
    println!(
        "metrics: {} steps run, {} step failures, {} runs completed, {} failed, in {:?}",
        m.steps_run.load(Ordering::Relaxed),
        m.step_failures.load(Ordering::Relaxed),
        m.runs_completed.load(Ordering::Relaxed),
        m.runs_failed.load(Ordering::Relaxed),
        started.elapsed()
    );
    server.abort();
    Ok(())
}
