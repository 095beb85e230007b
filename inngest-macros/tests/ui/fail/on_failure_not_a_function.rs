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

pub struct Mailer;

#[inngest::on_failure(Mailer)]
async fn mailer_failed(_ctx: Context<FunctionFailed<Signup>>) -> Result<(), Error> {
    Ok(())
}

fn main() {}
