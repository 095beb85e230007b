//! Parallel steps with plain Rust: `join!` and `join_all` run steps in parallel (Inngest runs
//! each planned step on its own), and `step.race` takes whichever finishes first.
//!
//! Run it with `INNGEST_DEV=1 cargo run --example parallel`.

use inngest::step::Either;
use inngest::{Context, Error};
use serde_json::{json, Value};

#[inngest::function(id = "build-report", event = "reports/requested")]
async fn build_report(ctx: Context) -> Result<Value, Error> {
    // Three steps at once.
    let (sales, signups, churn) = tokio::join!(
        ctx.step.run("sales", || async { Ok(1200_u64) }),
        ctx.step.run("signups", || async { Ok(87_u64) }),
        ctx.step.run("churn", || async { Ok(3_u64) }),
    );
    // Any number of steps at once.
    let regions = ["eu", "us", "apac"];
    let per_region = futures::future::join_all(regions.iter().map(|region| {
        let step = ctx.step.clone();
        async move {
            step.run(&format!("region-{region}"), || async move {
                Ok(format!("{region}: ok"))
            })
            .await
        }
    }))
    .await
    .into_iter()
    .collect::<Result<Vec<String>, Error>>()?;
    // The first of two sources to answer wins, the same on every replay.
    let rate = match ctx
        .step
        .race(
            ctx.step.run("rate-from-cache", || async { Ok(1.08_f64) }),
            ctx.step.run("rate-from-bank", || async { Ok(1.07_f64) }),
        )
        .await
    {
        Either::Left(r) | Either::Right(r) => r?,
    };
    Ok(json!({
        "sales": sales?, "signups": signups?, "churn": churn?,
        "regions": per_region, "eur_usd": rate,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    inngest::App::new("parallel-example").serve().await
}
