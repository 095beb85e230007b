use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", cancel_on(event = "app/stop", timeout = "400d"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
