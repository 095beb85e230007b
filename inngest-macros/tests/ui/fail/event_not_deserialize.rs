use inngest::{Context, Error};

struct Signup {
    user_id: String,
}

#[inngest::function(id = "send-welcome", event = "user/signup")]
async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
    Ok(ctx.event.data.user_id)
}

fn main() {}
