use inngest::Error;

#[inngest::function(id = "send-welcome", event = "user/signup")]
async fn send_welcome() -> Result<(), Error> {
    Ok(())
}

fn main() {}
