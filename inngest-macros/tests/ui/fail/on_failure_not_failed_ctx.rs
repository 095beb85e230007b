use inngest::{Context, Error};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Signup {
    pub user_id: String,
}

#[inngest::function(id = "send-welcome", event = "user/signup")]
async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
    Ok(ctx.event.data.user_id)
}

#[inngest::on_failure(send_welcome)]
async fn send_welcome_failed(_ctx: Context<Signup>) -> Result<(), Error> {
    Ok(())
}

fn main() {}
