//! Functions with flow-control options, shared by the tests of this binary.

use std::time::Duration;

use inngest::step::{Either, WaitForEvent};
use inngest::{Context, Error};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Keyed {
    pub user: String,
    pub n: u32,
}

#[inngest::function(
    id = "debounced",
    event = "flow/debounced",
    debounce(period = "30s", key = "event.data.user")
)]
pub async fn debounced(ctx: Context<Keyed>) -> Result<u32, Error> {
    Ok(ctx.event.data.n)
}

#[inngest::function(
    id = "throttled",
    event = "flow/throttled",
    throttle(limit = 1, period = "1m")
)]
pub async fn throttled(ctx: Context<Keyed>) -> Result<u32, Error> {
    Ok(ctx.event.data.n)
}

#[inngest::function(
    id = "batched",
    event = "flow/batched",
    batch_events(max_size = 3, timeout = "5s")
)]
pub async fn batched(ctx: Context<Keyed>) -> Result<Vec<u32>, Error> {
    Ok(ctx.events.iter().map(|e| e.data.n).collect())
}

#[inngest::function(
    id = "rate-limited",
    event = "flow/rate-limited",
    rate_limit(limit = 1, period = "1h", key = "event.data.user")
)]
pub async fn rate_limited(ctx: Context<Keyed>) -> Result<u32, Error> {
    Ok(ctx.event.data.n)
}

#[inngest::function(
    id = "idempotent",
    event = "flow/idempotent",
    idempotency = "event.data.user"
)]
pub async fn idempotent(ctx: Context<Keyed>) -> Result<u32, Error> {
    Ok(ctx.event.data.n)
}

#[inngest::function(
    id = "singleton",
    event = "flow/singleton",
    singleton(key = "event.data.user", mode = "skip")
)]
pub async fn singleton(ctx: Context<Keyed>) -> Result<u32, Error> {
    ctx.step.sleep("hold", "1h").await?;
    Ok(ctx.event.data.n)
}

#[inngest::function(
    id = "finish-timeout",
    event = "flow/finish-timeout",
    timeouts(finish = "10m")
)]
pub async fn finish_timeout(ctx: Context) -> Result<&'static str, Error> {
    ctx.step.sleep("too-long", "1h").await?;
    Ok("finished")
}

#[inngest::function(id = "one-at-a-time", event = "flow/one-at-a-time", concurrency = 1)]
pub async fn one_at_a_time(ctx: Context<Value>) -> Result<Value, Error> {
    let ms = ctx.event.data["ms"].as_u64().unwrap_or(200);
    let marks: (u128, u128) = ctx
        .step
        .run("work", || async move {
            let start = now_ms();
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok((start, now_ms()))
        })
        .await?;
    Ok(serde_json::json!({"start": marks.0, "end": marks.1}))
}

#[inngest::function(id = "racer", event = "flow/race")]
pub async fn racer(ctx: Context) -> Result<String, Error> {
    let winner = ctx
        .step
        .race(
            ctx.step.sleep("short", Duration::from_secs(1)),
            ctx.step.wait_for_event::<Value>(
                "long",
                WaitForEvent::new("flow/never", Duration::from_secs(7 * 86_400)),
            ),
        )
        .await;
    Ok(match winner {
        Either::Left(_) => "the sleep won".to_owned(),
        Either::Right(_) => "the wait won".to_owned(),
    })
}

/// Wall-clock ms since the epoch.
pub fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

/// A throttle with a priority: when starts wait, the higher priority goes first.
#[inngest::function(
    id = "prioritized",
    event = "flow/prioritized",
    throttle(limit = 1, period = "1m"),
    priority(run = "int(event.data.n)"),
    timeouts(start = "150s")
)]
pub async fn prioritized(ctx: Context<Keyed>) -> Result<u32, Error> {
    Ok(ctx.event.data.n)
}

/// Short periods, for the engine on real time.
#[inngest::function(
    id = "quick-debounce",
    event = "flow/quick-debounce",
    debounce(period = "1s")
)]
pub async fn quick_debounce(ctx: Context<Keyed>) -> Result<u32, Error> {
    Ok(ctx.event.data.n)
}

#[inngest::function(
    id = "quick-throttle",
    event = "flow/quick-throttle",
    throttle(limit = 1, period = "1s")
)]
pub async fn quick_throttle(_ctx: Context) -> Result<u128, Error> {
    Ok(now_ms())
}

#[inngest::function(
    id = "quick-batch",
    event = "flow/quick-batch",
    batch_events(max_size = 2, timeout = "1s")
)]
pub async fn quick_batch(ctx: Context<Keyed>) -> Result<Vec<u32>, Error> {
    Ok(ctx.events.iter().map(|e| e.data.n).collect())
}

#[inngest::function(
    id = "quick-timeout",
    event = "flow/quick-timeout",
    timeouts(finish = "1s")
)]
pub async fn quick_timeout(ctx: Context) -> Result<&'static str, Error> {
    ctx.step.sleep("too-long", "1h").await?;
    Ok("finished")
}

#[inngest::function(id = "wildcard", event = "flow/wild.*")]
pub async fn wildcard(ctx: Context) -> Result<String, Error> {
    Ok(ctx.event.name.clone())
}
