use inngest::middleware::Middleware;
use inngest::{Context, Error};

struct Keyed(String);

impl Middleware for Keyed {}

#[inngest::function(id = "f", event = "app/e", middleware = [Keyed])]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
