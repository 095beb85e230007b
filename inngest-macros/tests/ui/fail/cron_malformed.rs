use inngest::{Context, Error};

// Each schedule the Inngest server would refuse is an error on its string.
#[inngest::function(
    id = "f",
    cron = "0 9 * *",
    cron = "0 25 * * *",
    cron = "0 9 * * 7",
    cron = "0 9 L * *",
    cron = "@daily",
    cron = "TZ=Europe/Paris",
    cron = "0 9 * * 5-3",
    cron = "*/5/2 9 * * *",
)]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
