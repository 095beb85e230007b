//! Failure handlers, and functions triggered by `inngest/function.failed`.

use serde_json::{json, Value};

use crate::served;
use crate::support::CallBody;

#[tokio::test]
async fn the_failure_handler_receives_the_failure_event_and_runs_steps() {
    let s = served().await;
    let fixture: Value = serde_json::from_str(include_str!(
        "../../inngest-protocol/tests/fixtures/function_failed_js_sdk.json"
    ))
    .unwrap();
    let mut event = fixture.clone();
    event["data"]["function_id"] = json!("test-app-send-welcome");
    event["data"]["event"]["name"] = json!("user/signup");
    event["data"]["event"]["data"] = json!({"user_id": "42", "plan": "banned"});
    let mut body = CallBody::new("inngest/function.failed", json!({}));
    body.event = event;
    let r = s
        .call("test-app-send-welcome-failure", "step", &body.build())
        .await;
    assert_eq!(r.status, 206, "{r:?}");
    let ops = r.json();
    assert_eq!(ops[0]["op"], "StepRun");
    assert_eq!(ops[0]["data"], "notified test-app-send-welcome");
    let body = body.memo("notify", json!({"data": "notified test-app-send-welcome"}));
    let r = s
        .call("test-app-send-welcome-failure", "step", &body.build())
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json(),
        json!("test-app-send-welcome failed: taylor@ok.com is already a list member. Use PUT to insert or update list members. (notified test-app-send-welcome)")
    );
}

#[tokio::test]
async fn a_function_on_inngest_function_failed_receives_every_failure() {
    let s = served().await;
    let mut body = CallBody::new("inngest/function.failed", json!({}));
    body.event = serde_json::from_str(include_str!(
        "../../inngest-protocol/tests/fixtures/function_failed_elixir_sdk.json"
    ))
    .unwrap();
    let r = s.call("test-app-all-failures", "step", &body.build()).await;
    assert_eq!(r.status, 200, "{r:?}");
    let out = r.json();
    assert_eq!(out["function_id"], "retriable-fn");
    assert_eq!(out["run_id"], "01HGF86PM90KRQQP27VJZK4BXP");
    assert_eq!(out["error"], "Error");
    assert_eq!(out["event_name"], "test/plug.retriable");
}
