use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", timeouts(finish = "0s"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
