use inngest::{Context, Error};

// Inngest turns idempotency into a rate limit, which would replace this one.
#[inngest::function(id = "f", event = "app/e", rate_limit(limit = 1, period = "1h"), idempotency = "event.data.id")]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
