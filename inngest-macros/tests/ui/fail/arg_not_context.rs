use inngest::Error;

#[inngest::function(id = "send-welcome", event = "user/signup")]
async fn send_welcome(_user_id: String) -> Result<(), Error> {
    Ok(())
}

fn main() {}
