use inngest::{Context, Error};

// A limit shared by the environment or the account needs a key.
#[inngest::function(id = "f", event = "app/e", concurrency(limit = 5, scope = "env"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
