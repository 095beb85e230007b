//! Send every failure of the app's environment to an alerting system: a plain function
//! triggered by `inngest/function.failed`, the way Inngest documents it.
//!
//! Run it with `INNGEST_DEV=1 cargo run --example track_failures`.

use inngest::{Context, Error, FunctionFailed};
use serde_json::{json, Value};

/// Receives the failure of any function in the environment, in any app and any language.
#[inngest::function(id = "track-failures", event = "inngest/function.failed")]
async fn track_failures(ctx: Context<FunctionFailed>) -> Result<Value, Error> {
    let failed = &ctx.event.data;
    let alert = ctx
        .step
        .run("send-alert", || async {
            // Call your alerting system here (PagerDuty, Slack, Sentry, ...).
            Ok(format!(
                "ALERT: {} (run {}) failed with {}: {}",
                failed.function_id, failed.run_id, failed.error.name, failed.error.message
            ))
        })
        .await?;
    Ok(json!({ "alert": alert, "triggering_event": failed.event.name }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    inngest::App::new("failure-tracker").serve().await
}
