//! Quickstart: Inngest's failure-handling scenario, run for real with nothing else installed.
//!
//! `cargo run --example quickstart` serves three functions on http://127.0.0.1:3000/api/inngest
//! with the embedded engine and sends itself two demo events. The engine logs each run as it
//! happens: steps, attempts, retries, the `inngest/function.failed` event and the failure
//! handler's result. It keeps serving afterwards: send more events with
//! `curl -X POST localhost:3000/e/key -d '{"name":"user/signup","data":{"user_id":"7","plan":"banned"}}'`.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

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
    // The engine's timeline of runs comes through `tracing`.
    tracing_subscriber::fmt()
        .without_time()
        .with_target(false)
        .init();
    let server = tokio::spawn(
        inngest::App::new("quickstart")
            // Retries in seconds rather than Inngest's 15 s, 30 s, 1 m, ... so the demo is quick.
            .retry_interval(Duration::from_secs(1))
            .serve()
            .into_future(),
    );
    // Sent into the app's engine (they wait for it if the server is still starting).
    for (user, plan) in [("1", "pro"), ("2", "banned")] {
        let signup = Signup {
            user_id: user.into(),
            plan: plan.into(),
        };
        inngest::send(&Event::new("user/signup", signup)).await?;
    }
    server.await.map_err(Error::new)?
}
