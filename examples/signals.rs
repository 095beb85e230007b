//! `step.wait_for_signal` and `inngest::send_signal`: an order waits for a person to approve
//! it, by a signal named for the order; anyone (another service, a script, a step of another
//! function) sends that signal.
//!
//! Run it with `cargo run --example signals` (the embedded engine), then approve the order:
//!
//! ```sh
//! curl -X POST localhost:3000/e/key -d '{"name":"shop/order.placed","data":{"order_id":"7"}}'
//! curl -X POST localhost:3000/v1/signals -d '{"signal":"order-7-approved","data":{"by":"ann"}}'
//! ```
//!
//! The second command answers `{"data":{"run_id":...}}`, or 404 when no order waits.

use std::time::Duration;

use inngest::step::OnConflict;
use inngest::{Context, Error};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Order {
    order_id: String,
}

#[derive(Debug, Deserialize)]
struct Approval {
    by: String,
}

#[inngest::function(id = "approve-order", event = "shop/order.placed")]
async fn approve_order(ctx: Context<Order>) -> Result<String, Error> {
    let signal = format!("order-{}-approved", ctx.event.data.order_id);
    let approval = ctx
        .step
        .named("Wait for a person to approve")
        .wait_for_signal::<Approval>(
            "wait-for-approval",
            &signal,
            Duration::from_secs(24 * 3600),
            OnConflict::Fail,
        )
        .await?;
    Ok(match approval {
        Some(approval) => format!(
            "order {} approved by {}",
            ctx.event.data.order_id, approval.data.by
        ),
        None => format!("order {} expired unapproved", ctx.event.data.order_id),
    })
}

/// Approves an order from another function: the signal is sent once per run.
#[inngest::function(id = "auto-approve", event = "shop/order.trusted")]
async fn auto_approve(ctx: Context<Order>) -> Result<Option<String>, Error> {
    ctx.step
        .send_signal(
            "approve",
            &format!("order-{}-approved", ctx.event.data.order_id),
            serde_json::json!({"by": "auto-approve"}),
        )
        .await
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    inngest::App::new("signals-example")
        .register::<approve_order>()
        .register::<auto_approve>()
        .serve()
        .await
}
