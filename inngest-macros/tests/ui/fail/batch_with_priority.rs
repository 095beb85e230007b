use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", batch_events(max_size = 10, timeout = "5s"), priority(run = "event.data.p"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
