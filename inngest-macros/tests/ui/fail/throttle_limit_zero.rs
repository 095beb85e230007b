use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", throttle(limit = 0, period = "1m"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
