use inngest::{Context, Error};

// A malformed argument is reported on its own; the others are still checked.
#[inngest::function(id = "send welcome", event "user/signup", retries = 3 4)]
async fn send_welcome(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
