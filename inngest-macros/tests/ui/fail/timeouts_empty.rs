use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", timeouts())]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
