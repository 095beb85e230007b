use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", throttle = 10)]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
