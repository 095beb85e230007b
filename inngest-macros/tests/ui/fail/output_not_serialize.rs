use inngest::{Context, Error};

struct Receipt;

#[inngest::function(id = "send-welcome", event = "user/signup")]
async fn send_welcome(_ctx: Context) -> Result<Receipt, Error> {
    Ok(Receipt)
}

fn main() {}
