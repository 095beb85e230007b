use inngest::{Context, Error};

// Inngest refuses a cron trigger with an expression.
#[inngest::function(id = "f", cron(schedule = "0 9 * * *", if = "event.data.x"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
