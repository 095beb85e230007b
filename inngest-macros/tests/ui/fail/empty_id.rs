use inngest::{Context, Error};

#[inngest::function(id = "", event = "user/signup")]
async fn send_welcome(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
