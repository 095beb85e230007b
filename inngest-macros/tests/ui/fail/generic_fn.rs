use inngest::{Context, Error};

#[inngest::function(id = "send-welcome", event = "user/signup")]
async fn send_welcome<E: serde::de::DeserializeOwned>(_ctx: Context<E>) -> Result<(), Error> {
    Ok(())
}

fn main() {}
