use inngest::{Context, Error};

#[inngest::function(id = "send-welcome", event = )]
async fn send_welcome(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
