//! The functions the embedded engine runs in these tests.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use inngest::step::WaitForEvent;
use inngest::{Context, Error, FunctionFailed, NonRetriableError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signup {
    pub user_id: String,
    pub plan: String,
}

#[inngest::function(id = "welcome", event = "eng/signup", retries = 3)]
pub async fn welcome(ctx: Context<Signup>) -> Result<String, Error> {
    let name: String = ctx
        .step
        .run("load-user", || async {
            Ok(format!("user-{}", ctx.event.data.user_id))
        })
        .await?;
    if ctx.event.data.plan == "banned" {
        return Err(NonRetriableError::new("banned users get no welcome").into());
    }
    Ok(format!("welcomed {name}"))
}

#[inngest::on_failure(welcome)]
pub async fn welcome_failed(ctx: Context<FunctionFailed<Signup>>) -> Result<String, Error> {
    let failed = &ctx.event.data;
    ctx.step
        .run("alert", || async {
            Ok(format!(
                "{} failed for {}: {}",
                failed.function_id, failed.event.data.user_id, failed.error.message
            ))
        })
        .await
}

pub static FLAKY: AtomicU32 = AtomicU32::new(0);

#[derive(Debug, thiserror::Error)]
#[error("the mail server timed out")]
pub struct MailTimeout;

#[inngest::function(id = "flaky", event = "eng/flaky", retries = 2)]
pub async fn flaky(ctx: Context) -> Result<u32, Error> {
    ctx.step
        .run("call-api", || async {
            let n = FLAKY.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                return Err(MailTimeout.into());
            }
            Ok(n)
        })
        .await
}

#[inngest::function(id = "napper", event = "eng/nap")]
pub async fn napper(ctx: Context) -> Result<&'static str, Error> {
    ctx.step.sleep("nap", Duration::from_millis(50)).await?;
    Ok("rested")
}

#[inngest::function(id = "long-napper", event = "eng/long-nap")]
pub async fn long_napper(ctx: Context) -> Result<&'static str, Error> {
    ctx.step.sleep("nap", "1h").await?;
    Ok("rested")
}

#[inngest::function(id = "waiter", event = "eng/order")]
pub async fn waiter(ctx: Context) -> Result<String, Error> {
    let timeout = Duration::from_millis(ctx.event.data["wait_ms"].as_u64().unwrap_or(60_000));
    let paid = ctx
        .step
        .wait_for_event::<Value>(
            "wait-paid",
            WaitForEvent::new("eng/paid", timeout).matching("event.data.order == async.data.order"),
        )
        .await?;
    Ok(match paid {
        Some(e) => format!("paid {}", e.data["amount"]),
        None => "timed out".to_owned(),
    })
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Qty {
    qty: u32,
}

#[inngest::function(id = "doubler", event = "eng/double")]
pub async fn doubler(ctx: Context<Qty>) -> Result<u32, Error> {
    Ok(ctx.event.data.qty * 2)
}

#[inngest::function(id = "invoker", event = "eng/invoke")]
pub async fn invoker(ctx: Context) -> Result<u32, Error> {
    let doubled = ctx
        .step
        .invoke::<doubler>("double", Qty { qty: 21 })
        .await?;
    Ok(doubled + 1)
}

#[inngest::function(id = "fan", event = "eng/fan")]
pub async fn fan(ctx: Context) -> Result<u32, Error> {
    let (a, b, c) = tokio::join!(
        ctx.step.run("a", || async { Ok(1_u32) }),
        ctx.step.run("b", || async { Ok(2_u32) }),
        ctx.step.run("c", || async { Ok(3_u32) }),
    );
    let d: u32 = ctx.step.run("d", || async { Ok(4_u32) }).await?;
    Ok(a? + b? + c? + d)
}

#[inngest::function(id = "ticker", cron = "* * * * *")]
pub async fn ticker(ctx: Context) -> Result<Value, Error> {
    Ok(json!({"event": ctx.event.name, "cron": ctx.event.data["cron"]}))
}

#[inngest::function(
    id = "cancellable",
    event = "eng/order.placed",
    cancel_on(
        event = "eng/order.cancelled",
        if = "event.data.order == async.data.order"
    )
)]
pub async fn cancellable(ctx: Context) -> Result<&'static str, Error> {
    ctx.step.sleep("wait-for-shipping", "1h").await?;
    Ok("shipped")
}

#[inngest::on_cancel(cancellable)]
pub async fn cancellable_cancelled(
    ctx: Context<inngest::FunctionCancelled>,
) -> Result<String, Error> {
    let c = &ctx.event.data;
    Ok(format!(
        "{} cancelled for order {}",
        c.function_id, c.event.data["order"]
    ))
}
