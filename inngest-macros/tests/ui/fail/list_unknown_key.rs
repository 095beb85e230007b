use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", throttle(limit = 10, period = "1m", brust = 2))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
