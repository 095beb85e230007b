//! `invoke` and `invoke_by_id`: calling another function and resuming with its result.

use std::time::Duration;

use inngest::{Context, Error};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::support::{hash, CallBody};
use crate::{ops, served};

#[derive(Debug, Serialize, Deserialize)]
struct Order {
    qty: u32,
}

#[inngest::function(id = "child", event = "test/child")]
async fn child(ctx: Context<Order>) -> Result<u32, Error> {
    Ok(ctx.event.data.qty * 2)
}

#[inngest::function(id = "parent", event = "test/parent")]
async fn parent(ctx: Context) -> Result<u32, Error> {
    let doubled: u32 = ctx
        .step
        .invoke::<child>("call-child", Order { qty: 21 })
        .await?;
    Ok(doubled)
}

#[inngest::function(id = "remote-parent", event = "test/remote")]
async fn remote_parent(ctx: Context) -> Result<Value, Error> {
    ctx.step
        .invoke_by_id(
            "call-remote",
            "other-app-worker",
            json!({"job": 1}),
            Some(Duration::from_secs(600)),
        )
        .await
}

#[tokio::test]
async fn invoke_is_typed_by_the_target_and_resumes_with_data_or_error() {
    let s = served().await;
    let body = CallBody::new("test/parent", json!({}));
    let r = s.call("steps-app-parent", "step", &body.build()).await;
    assert_eq!(
        ops(&r),
        vec![json!({
            "id": hash("call-child"), "op": "InvokeFunction", "name": "call-child", "displayName": "call-child",
            "opts": {"function_id": "steps-app-child", "payload": {"data": {"qty": 21}}},
            "userland": {"id": "call-child"},
        })]
    );
    let r = s
        .call(
            "steps-app-parent",
            "step",
            &body.memo("call-child", json!({"data": 42})).build(),
        )
        .await;
    assert_eq!(r.json(), json!(42));

    let failed = CallBody::new("test/parent", json!({}))
        .memo("call-child", json!({"error": {"name": "InngestInvokeTimeoutError", "message": "Timed out waiting for invoked function to complete"}}));
    let r = s.call("steps-app-parent", "step", &failed.build()).await;
    r.assert_error(400, "true");
    assert_eq!(r.json()["name"], "StepError");
    assert_eq!(r.json()["cause"]["name"], "InngestInvokeTimeoutError");

    // A cancelled child resumes with the whole finished event: neither data nor error.
    let cancelled = CallBody::new("test/parent", json!({}))
        .memo("call-child", json!({"function_id": "steps-app-child", "run_id": "01R", "_inngest": {"status": "Cancelled"}}));
    let r = s.call("steps-app-parent", "step", &cancelled.build()).await;
    r.assert_error(400, "true");
    assert_eq!(
        r.json()["message"],
        "the invoked function `steps-app-child` was cancelled"
    );
}

#[tokio::test]
async fn invoke_by_id_reaches_other_apps_with_a_timeout() {
    let s = served().await;
    let r = s
        .call(
            "steps-app-remote-parent",
            "step",
            &CallBody::new("test/remote", json!({})).build(),
        )
        .await;
    assert_eq!(
        ops(&r)[0]["opts"],
        json!({"function_id": "other-app-worker", "payload": {"data": {"job": 1}}, "timeout": "10m"})
    );
}
