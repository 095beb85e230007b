use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", throttle(limit = 10, period = "1m", limit = 5))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
