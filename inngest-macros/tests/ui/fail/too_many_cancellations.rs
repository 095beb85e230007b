use inngest::{Context, Error};

#[inngest::function(
    id = "f",
    event = "app/e",
    cancel_on(event = "app/stop1"),
    cancel_on(event = "app/stop2"),
    cancel_on(event = "app/stop3"),
    cancel_on(event = "app/stop4"),
    cancel_on(event = "app/stop5"),
    cancel_on(event = "app/stop6"),
)]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
