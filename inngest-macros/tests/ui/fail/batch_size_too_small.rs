use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", batch_events(max_size = 1, timeout = "5s"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
