use inngest::{Context, Error};

#[inngest::function(
    id = "f",
    event = "app/e1",
    event = "app/e2",
    event = "app/e3",
    event = "app/e4",
    event = "app/e5",
    event = "app/e6",
    event = "app/e7",
    event = "app/e8",
    event = "app/e9",
    event = "app/e10",
    event = "app/e11",
)]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
