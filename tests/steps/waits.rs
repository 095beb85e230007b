//! The steps that wait: `sleep`, `sleep_until` and `wait_for_event`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use inngest::step::WaitForEvent;
use inngest::{Context, Error};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::support::{hash, CallBody};
use crate::{ops, served};

#[inngest::function(id = "sleeper", event = "test/sleep")]
async fn sleeper(ctx: Context) -> Result<&'static str, Error> {
    ctx.step.sleep("nap", Duration::from_secs(90)).await?;
    ctx.step.sleep("long-nap", "2h45m").await?;
    Ok("rested")
}

#[inngest::function(id = "bad-sleeper", event = "test/bad-sleep")]
async fn bad_sleeper(ctx: Context) -> Result<(), Error> {
    match ctx.event.data["how"].as_str() {
        Some("forever") => {
            ctx.step
                .sleep("nap", Duration::from_secs(367 * 86_400))
                .await
        }
        _ => ctx.step.sleep("nap", "soon").await,
    }
}

#[inngest::function(id = "alarm", event = "test/alarm")]
async fn alarm(ctx: Context) -> Result<(), Error> {
    let at = UNIX_EPOCH + Duration::from_secs(ctx.event.data["at"].as_u64().unwrap_or(0));
    ctx.step.sleep_until("wake", at).await
}

#[derive(Debug, Serialize, Deserialize)]
struct Paid {
    invoice_id: String,
}

#[inngest::function(id = "waiter", event = "test/wait")]
async fn waiter(ctx: Context) -> Result<String, Error> {
    let paid = ctx
        .step
        .wait_for_event::<Paid>(
            "wait-for-payment",
            WaitForEvent::new("app/invoice.paid", Duration::from_secs(3600))
                .matching("event.data.invoice_id == async.data.invoice_id"),
        )
        .await?;
    Ok(match paid {
        Some(event) => format!("paid {}", event.data.invoice_id),
        None => "timed out".to_owned(),
    })
}

#[tokio::test]
async fn sleep_reports_the_duration_in_opts_and_name_and_resumes_on_null() {
    let s = served().await;
    let body = CallBody::new("test/sleep", json!({}));
    let r = s.call("steps-app-sleeper", "step", &body.build()).await;
    assert_eq!(
        ops(&r),
        vec![json!({
            "id": hash("nap"), "op": "Sleep", "name": "1m30s", "displayName": "nap",
            "opts": {"duration": "1m30s"}, "userland": {"id": "nap"},
        })]
    );
    let body = body.memo("nap", Value::Null);
    let r = s.call("steps-app-sleeper", "step", &body.build()).await;
    let ops = ops(&r);
    assert_eq!(ops[0]["op"], "Sleep");
    assert_eq!(ops[0]["opts"]["duration"], "2h45m");
    let r = s
        .call(
            "steps-app-sleeper",
            "step",
            &body.memo("long-nap", Value::Null).build(),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!("rested"));
}

#[tokio::test]
async fn a_bad_sleep_fails_before_anything_is_sent() {
    let s = served().await;
    let r = s
        .call(
            "steps-app-bad-sleeper",
            "step",
            &CallBody::new("test/bad-sleep", json!({"how": "forever"})).build(),
        )
        .await;
    r.assert_error(400, "true");
    assert_eq!(
        r.json()["message"],
        "step `nap`: cannot sleep for 367d; Inngest sleeps at most 366 days"
    );
    let r = s
        .call(
            "steps-app-bad-sleeper",
            "step",
            &CallBody::new("test/bad-sleep", json!({})).build(),
        )
        .await;
    r.assert_error(400, "true");
    assert_eq!(
        r.json()["message"],
        "step `nap`: cannot sleep for `soon` is not a time string such as \"30s\", \"2h45m\" or \"1d\""
    );
}

#[tokio::test]
async fn sleep_until_sends_an_rfc3339_time() {
    let s = served().await;
    // A past time is sent too: Inngest resumes at once.
    let r = s
        .call(
            "steps-app-alarm",
            "step",
            &CallBody::new("test/alarm", json!({"at": 1_700_000_000})).build(),
        )
        .await;
    let ops = ops(&r);
    assert_eq!(ops[0]["op"], "Sleep");
    assert_eq!(ops[0]["name"], "2023-11-14T22:13:20Z");
    assert_eq!(ops[0]["opts"], json!({"duration": "2023-11-14T22:13:20Z"}));
    let far = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 400 * 86_400;
    let r = s
        .call(
            "steps-app-alarm",
            "step",
            &CallBody::new("test/alarm", json!({"at": far})).build(),
        )
        .await;
    r.assert_error(400, "true");
}

#[tokio::test]
async fn wait_for_event_reports_event_timeout_and_if_then_resumes() {
    let s = served().await;
    let body = CallBody::new("test/wait", json!({"invoice_id": "inv-1"}));
    let r = s.call("steps-app-waiter", "step", &body.build()).await;
    assert_eq!(
        ops(&r),
        vec![json!({
            "id": hash("wait-for-payment"), "op": "WaitForEvent", "name": "app/invoice.paid",
            "displayName": "wait-for-payment",
            "opts": {"event": "app/invoice.paid", "timeout": "1h", "if": "event.data.invoice_id == async.data.invoice_id"},
            "userland": {"id": "wait-for-payment"},
        })]
    );
    // A match resumes with the whole event, unwrapped.
    let matched = body.memo("wait-for-payment", json!({"id": "01E", "name": "app/invoice.paid", "data": {"invoice_id": "inv-1"}, "user": {}, "ts": 1}));
    let r = s.call("steps-app-waiter", "step", &matched.build()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json(), json!("paid inv-1"));
    // A timeout resumes with null.
    let timed_out = CallBody::new("test/wait", json!({})).memo("wait-for-payment", Value::Null);
    let r = s.call("steps-app-waiter", "step", &timed_out.build()).await;
    assert_eq!(r.json(), json!("timed out"));
}
