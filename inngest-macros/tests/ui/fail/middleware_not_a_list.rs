use inngest::{Context, Error};

#[derive(Default)]
struct Metrics;
impl inngest::middleware::Middleware for Metrics {}

#[inngest::function(id = "f", event = "app/e", middleware = Metrics)]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[inngest::function(id = "g", event = "app/e", middleware = [Metrics, "Auth", Metrics])]
async fn g(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
