use inngest::{Context, Error};

#[derive(Default)]
struct NotMiddleware;

#[inngest::function(id = "f", event = "app/e", middleware = [NotMiddleware])]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
