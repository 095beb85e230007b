use inngest::{Context, Error};

#[inngest::function(
    id = "f",
    event = "app/e",
    concurrency = 10,
    concurrency(limit = 2, key = "event.data.user_id"),
    concurrency(limit = 1, key = "event.data.org_id"),
)]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
