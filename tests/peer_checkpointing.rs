//! Peer test with checkpointing on (protocol-2.md section 1), the official TypeScript SDK's
//! default: the same call requests, with `ctx.fn_id` and `ctx.qi_id`, go to the Rust SDK
//! and to the TypeScript SDK (`tests/peers/js/server.mjs`), each with its own recording
//! server as the Inngest API. The answers must agree (status, `X-Inngest-No-Retry`, the op
//! fields of `tests/peer_js.rs`), and so must the checkpoints each posted: the same number,
//! each `POST /v1/checkpoint/<run>/async` with the same `run_id`, `fn_id`, `qi_id`,
//! `request_id` and `generation_id` (from the call's `x-request-id` and
//! `x-inngest-generation-id` headers, as the engine sends them) and steps. (Fields that differ
//! by the moment, `ts`, `request_started_at` and each op's `timing`, are not compared.)

mod support;

use std::sync::Arc;

use inngest::{Context, Error};
use serde_json::{json, Value};
use support::peers::start_peer_with;
use support::{hash, CallBody, FakeDevServer, Recorded, Reply};

/// The twin of `ten-steps` in `server.mjs`.
#[inngest::function(id = "ten-steps", event = "test/ten-steps", retries = 3)]
async fn ten_steps(ctx: Context) -> Result<u32, Error> {
    let mut total = 0;
    for i in 0..10_u32 {
        total += ctx.step.run("add", move || async move { Ok(i) }).await?;
    }
    Ok(total)
}

/// An Inngest API that records checkpoints and accepts them.
async fn api() -> FakeDevServer {
    FakeDevServer::start_with(Arc::new(|r: &Recorded, _| {
        if r.uri.starts_with("/v1/checkpoint/") {
            (200, Value::Null)
        } else {
            (200, json!({"ok": true}))
        }
    }))
    .await
}

/// The checkpoints an SDK posted, with the fields both send.
fn checkpoints(api: &FakeDevServer) -> Vec<Value> {
    api.recorded()
        .into_iter()
        .filter(|r| r.uri.starts_with("/v1/checkpoint/"))
        .map(|r| {
            let steps: Vec<Value> = r.body["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(op_fields)
                .collect();
            json!({
                "method": r.method, "uri": r.uri, "run_id": r.body["run_id"],
                "fn_id": r.body["fn_id"], "qi_id": r.body["qi_id"],
                "request_id": r.body["request_id"], "generation_id": r.body["generation_id"],
                "steps": steps,
            })
        })
        .collect()
}

/// The op fields both SDKs must agree on (as `tests/peer_js.rs` compares them).
fn op_fields(op: &Value) -> Value {
    let data = match op["op"].as_str() {
        Some("StepError" | "StepFailed" | "StepPlanned") => Value::Null,
        _ => op.get("data").cloned().unwrap_or(Value::Null),
    };
    json!({
        "op": op["op"], "id": op["id"], "name": op.get("name").cloned().unwrap_or(json!("")),
        "displayName": op.get("displayName").cloned().unwrap_or(json!("")),
        "data": data, "error_message": op["error"]["message"],
    })
}

/// The `x-request-id` of every call (a ULID, as the engine and the server send).
const REQUEST_ID: &str = "01JBQ0000000000000000000RQ";

async fn post(client: &reqwest::Client, url: &str, function: &str, body: &Value) -> Reply {
    let res = client
        .post(format!("{url}?fnId=peer-app-{function}&stepId=step"))
        .header("x-request-id", REQUEST_ID)
        .header("x-inngest-generation-id", "3")
        .json(body)
        .send()
        .await
        .unwrap();
    Reply::read(res).await
}

fn compare(name: &str, rust: &Reply, js: &Reply) {
    let what = format!("case `{name}`:\n  rust: {rust:?}\n  js: {js:?}");
    assert_eq!(rust.status, js.status, "status differs in {what}");
    assert_eq!(
        rust.header("x-inngest-no-retry"),
        js.header("x-inngest-no-retry"),
        "X-Inngest-No-Retry differs in {what}"
    );
    if rust.status == 206 {
        let ops = |r: &Reply| -> Vec<Value> {
            r.json().as_array().unwrap().iter().map(op_fields).collect()
        };
        assert_eq!(ops(rust), ops(js), "ops differ in {what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_the_typescript_sdk_checkpoint_alike() {
    let ev = |name: &str| CallBody::new(name, json!({"name": "bob"})).fn_id("fn-uuid", "qi-123");
    let flaky_error = json!({"error": {"name": "Error", "message": "flaky failed"}});
    let cases: Vec<(&str, &str, CallBody, usize)> = vec![
        // (name, function, body, checkpoints expected)
        ("no steps", "hello", ev("test/hello"), 0),
        ("two steps in one call", "two-steps", ev("test/steps"), 2),
        (
            "the second step after a memo",
            "two-steps",
            ev("test/steps").memo("first", json!({"data": "one"})),
            1,
        ),
        (
            "all memoized",
            "two-steps",
            ev("test/steps")
                .memo("first", json!({"data": "one"}))
                .memo("second", json!({"data": "one-two"})),
            0,
        ),
        (
            "ten steps in one call",
            "ten-steps",
            ev("test/ten-steps"),
            10,
        ),
        (
            "a retry answers its step the classic way",
            "two-steps",
            ev("test/steps").attempt(1, 4),
            0,
        ),
        (
            "immediate execution disabled",
            "two-steps",
            ev("test/steps").no_immediate(),
            0,
        ),
        ("parallel steps", "parallel", ev("test/parallel"), 0),
        (
            "a step error",
            "step-throws",
            ev("test/step-throws").attempt(0, 3),
            0,
        ),
        (
            "an unhandled failed step",
            "step-throws",
            ev("test/step-throws").memo("flaky", flaky_error),
            0,
        ),
        ("a sleep", "peer-sleep", ev("test/peer-sleep"), 0),
    ];
    let (rust_api, js_api) = (api().await, api().await);
    let Some(peer) = start_peer_with(&js_api.origin).await else {
        return;
    };
    let rust =
        support::Served::start(inngest::App::new("peer-app").dev(rust_api.origin.clone())).await;
    let client = reqwest::Client::new();
    let mut seen = 0;
    for (name, function, body, expected) in &cases {
        let body = body.build();
        let r = post(&client, &rust.url(), function, &body).await;
        let j = post(&client, &peer.url(), function, &body).await;
        compare(name, &r, &j);
        // Each SDK's checkpoints are posted before its answer.
        let (rc, jc) = (checkpoints(&rust_api), checkpoints(&js_api));
        assert_eq!(
            rc.len(),
            seen + expected,
            "{name}: Rust's checkpoints: {rc:?}"
        );
        assert_eq!(rc, jc, "{name}: the checkpoints differ");
        for checkpoint in &rc {
            assert_eq!(
                (&checkpoint["request_id"], &checkpoint["generation_id"]),
                (&json!(REQUEST_ID), &json!(3)),
                "{name}: the call's ids are sent back"
            );
        }
        seen = rc.len();
    }
    assert_eq!(seen, 13, "every checkpoint compared");
    // The ten steps' run ended in one call with its output.
    let r = post(
        &client,
        &rust.url(),
        "ten-steps",
        &ev("test/ten-steps").build(),
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"op": "RunComplete", "id": hash("complete"), "data": 45, "name": "", "displayName": ""}])
    );
}
