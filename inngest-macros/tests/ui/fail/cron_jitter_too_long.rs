use inngest::{Context, Error};

#[inngest::function(id = "f", cron(schedule = "0 9 * * *", jitter = "10m"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
