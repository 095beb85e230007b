use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", throttle(limit = 10, period = "1y"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
