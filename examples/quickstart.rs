//! Quickstart: Inngest's failure-handling scenario, run for real with nothing else installed.
//!
//! `cargo run --example quickstart` serves three functions on http://127.0.0.1:3000/api/inngest
//! with the embedded engine, sends itself demo events, and prints each run's timeline: steps,
//! attempts, retries, the `inngest/function.failed` event and the failure handler's result. It
//! keeps serving afterwards: send more events with
//! `curl -X POST localhost:3000/e/key -d '{"name":"user/signup","data":{"user_id":"7","plan":"banned"}}'`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use inngest::dev::{Happening, RunStatus};
use inngest::{Context, Error, Event, FunctionFailed, NonRetriableError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signup {
    pub user_id: String,
    pub plan: String,
}

/// A step, then a non-retriable error for banned users.
#[inngest::function(id = "send-welcome", event = "user/signup", retries = 3)]
async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
    let name: String = ctx
        .step
        .run("load-user", || async {
            Ok(format!("user-{}", ctx.event.data.user_id))
        })
        .await?;
    if ctx.event.data.plan == "banned" {
        return Err(NonRetriableError::new("banned users get no welcome").into());
    }
    Ok(format!("welcomed {name}"))
}

/// Runs when `send-welcome` fails for good.
#[inngest::on_failure(send_welcome)]
async fn send_welcome_failed(ctx: Context<FunctionFailed<Signup>>) -> Result<String, Error> {
    let failed = &ctx.event.data;
    ctx.step
        .run("alert-support", || async {
            Ok(format!(
                "support alerted: {} failed: {}",
                failed.function_id, failed.error.message
            ))
        })
        .await
}

#[derive(Debug, thiserror::Error)]
#[error("the mail server timed out")]
struct MailTimeout;

static CRM_CALLS: AtomicU32 = AtomicU32::new(0);

/// Fails on its first attempt and succeeds when retried.
#[inngest::function(id = "sync-crm", event = "user/signup", retries = 2)]
async fn sync_crm(ctx: Context<Signup>) -> Result<String, Error> {
    ctx.step
        .run("push-to-crm", || async {
            if CRM_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(MailTimeout.into());
            }
            Ok(format!("crm updated for {}", ctx.event.data.user_id))
        })
        .await
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = tokio::spawn(std::future::IntoFuture::into_future(
        inngest::App::new("quickstart")
            // Retries in seconds rather than Inngest's 15 s, 30 s, 1 m, ... so the demo is quick.
            .retry_interval(Duration::from_secs(1))
            .serve(),
    ));
    let engine = loop {
        if let Some(engine) = inngest::dev::embedded() {
            break engine;
        }
        if server.is_finished() {
            return server.await.map_err(Error::new)?;
        }
        tokio::task::yield_now().await;
    };
    let mut timeline = engine.subscribe();
    tokio::spawn(async move {
        while let Ok(h) = timeline.recv().await {
            println!("{}", describe(&h));
        }
    });
    for (user, plan) in [("1", "pro"), ("2", "banned")] {
        let event = Event::new(
            "user/signup",
            Signup {
                user_id: user.into(),
                plan: plan.into(),
            },
        );
        inngest::send(&event).await?;
    }
    server.await.map_err(Error::new)?
}

fn describe(h: &Happening) -> String {
    let short = |id: &str| {
        id.chars()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<String>()
    };
    match h {
        Happening::Event { id, name } => format!("event   {name} ({})", short(id)),
        Happening::RunStarted {
            run_id,
            function_id,
            event,
        } => {
            format!("run {}  started  {function_id} (by {event})", short(run_id))
        }
        Happening::Step {
            run_id,
            step,
            op,
            attempt,
        } => {
            format!(
                "run {}  step     {step}: {op} (attempt {})",
                short(run_id),
                attempt + 1
            )
        }
        Happening::Retrying {
            run_id,
            attempt,
            delay,
            error,
        } => format!(
            "run {}  retry    attempt {} failed ({error}); retrying in {}s",
            short(run_id),
            attempt + 1,
            delay.as_secs()
        ),
        Happening::RunEnded {
            run_id,
            function_id,
            status: RunStatus::Failed,
            output,
        } => format!(
            "run {}  FAILED   {function_id}: {}: {}",
            short(run_id),
            output["name"].as_str().unwrap_or("Error"),
            output["message"].as_str().unwrap_or_default()
        ),
        Happening::RunEnded {
            run_id,
            function_id,
            status,
            output,
        } => {
            format!("run {}  {status:?}  {function_id}: {output}", short(run_id))
        }
    }
}
