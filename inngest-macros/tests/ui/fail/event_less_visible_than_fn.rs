use inngest::{Context, Error};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Signup {
    user_id: String,
}

#[inngest::function(id = "send-welcome", event = "user/signup")]
pub async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
    Ok(ctx.event.data.user_id)
}

fn main() {}
