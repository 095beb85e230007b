use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", concurrency(limit = 5, scope = "global"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
