use inngest::{Context, Error};

// pkg/inngest/function.go Validate: batching and cancellation are mutually exclusive.
#[inngest::function(id = "f", event = "app/e", batch_events(max_size = 10, timeout = "5s"), cancel_on(event = "app/stop"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
