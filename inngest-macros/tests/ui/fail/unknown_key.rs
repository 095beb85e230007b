use inngest::{Context, Error};

#[inngest::function(id = "send-welcome", event = "user/signup", queue = "default")]
async fn send_welcome(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
