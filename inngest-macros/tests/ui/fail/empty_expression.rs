use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", idempotency = "")]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
