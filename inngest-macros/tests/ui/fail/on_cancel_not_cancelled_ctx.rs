use inngest::{Context, Error, FunctionFailed};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Signup {
    pub user_id: String,
}

#[inngest::function(id = "send-welcome", event = "user/signup")]
async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
    Ok(ctx.event.data.user_id)
}

// A cancellation handler receives `FunctionCancelled`, not `FunctionFailed`.
#[inngest::on_cancel(send_welcome)]
async fn send_welcome_cancelled(_ctx: Context<FunctionFailed<Signup>>) -> Result<(), Error> {
    Ok(())
}

fn main() {}
