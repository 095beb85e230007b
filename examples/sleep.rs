//! `step.sleep` and `step.sleep_until`: a drip campaign that waits days between emails while
//! costing nothing in between.
//!
//! Run it with `INNGEST_DEV=1 cargo run --example sleep`.

use std::time::{Duration, SystemTime};

use inngest::{Context, Error};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Signup {
    email: String,
}

#[inngest::function(id = "drip-campaign", event = "user/signup")]
async fn drip_campaign(ctx: Context<Signup>) -> Result<String, Error> {
    let email = &ctx.event.data.email;
    ctx.step
        .run("welcome", || async {
            Ok(format!("sent welcome to {email}"))
        })
        .await?;
    // A time string or a Duration, at most 366 days.
    ctx.step.sleep("wait-a-day", "1d").await?;
    ctx.step
        .run("tips", || async { Ok(format!("sent tips to {email}")) })
        .await?;
    ctx.step
        .sleep("wait-a-week", Duration::from_secs(7 * 24 * 3600))
        .await?;
    // Or an absolute time (a past time resumes at once).
    let next_month = SystemTime::now() + Duration::from_secs(30 * 24 * 3600);
    ctx.step
        .sleep_until("wait-for-next-month", next_month)
        .await?;
    ctx.step
        .run("survey", || async { Ok(format!("sent survey to {email}")) })
        .await
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    inngest::App::new("sleep-example").serve().await
}
