use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", concurrency = 0)]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
