use inngest::{Context, Error};

#[inngest::function(id = "f", event = "user/signup", cron = "0 9 * * *", event = "user/signup")]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
