use inngest::{Context, Error};

// The server reads the batch timeout with Go's time.ParseDuration: no `d` or `w`.
#[inngest::function(id = "f", event = "app/e", batch_events(max_size = 10, timeout = "1d"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
