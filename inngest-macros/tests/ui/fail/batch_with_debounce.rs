use inngest::{Context, Error};

// Reported on the option written last.
#[inngest::function(id = "f", event = "app/e", debounce(period = "5m"), batch_events(max_size = 10, timeout = "5s"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
