use inngest::{Context, Error};

#[inngest::function(id = "send-welcome", event = "user/signup")]
async fn send_welcome(_ctx: Context, _retry: bool) -> Result<(), Error> {
    Ok(())
}

fn main() {}
