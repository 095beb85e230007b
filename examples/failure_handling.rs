//! The public contract of design.md section 2: a function with a memoized step, a
//! non-retriable error, and its failure handler.
//!
//! Run it with `INNGEST_DEV=1 cargo run --example failure_handling` beside an Inngest dev
//! server (`npx inngest-cli@latest dev`), then send a `user/signup` event with
//! `{"user_id": "1", "plan": "banned"}` to watch the failure handler run.

use inngest::{Context, Error, FunctionFailed, NonRetriableError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signup {
    pub user_id: String,
    pub plan: String,
}

// Registers "<app-id>-send-welcome", triggered by the event "user/signup".
#[inngest::function(id = "send-welcome", event = "user/signup", retries = 3)]
async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
    // Memoized: runs once per run, its JSON result is replayed on later calls.
    let name: String = ctx
        .step
        .run("load-user", || async {
            Ok(format!("user-{}", ctx.event.data.user_id))
        })
        .await?;
    if ctx.event.data.plan == "banned" {
        // Fails the run at once: no retries; Inngest then emits inngest/function.failed.
        return Err(NonRetriableError::new("banned users get no welcome").into());
    }
    Ok(format!("welcomed {name}"))
}

// Registers "<app-id>-send-welcome-failure", triggered by inngest/function.failed
// with the expression event.data.function_id == '<app-id>-send-welcome'.
#[inngest::on_failure(send_welcome)]
async fn send_welcome_failed(ctx: Context<FunctionFailed<Signup>>) -> Result<String, Error> {
    let failed = &ctx.event.data; // function_id, run_id, error, event
    Ok(format!(
        "{} failed: {}",
        failed.function_id, failed.error.message
    ))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    inngest::serve().await // serves every annotated function
}
