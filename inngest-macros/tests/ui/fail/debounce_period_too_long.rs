use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", debounce(period = "8d"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
