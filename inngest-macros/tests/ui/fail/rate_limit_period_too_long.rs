use inngest::{Context, Error};

#[inngest::function(id = "f", event = "app/e", rate_limit(limit = 1, period = "25h"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
