//! The same call requests to the Rust SDK and the official TypeScript SDK: the ops of the
//! toolkit and how each resumes must agree.

use serde_json::{json, Value};

use crate::support::{self, peers, Served};

/// What both SDKs must agree on in an op of the toolkit: everything but the deprecated
/// `name` (JS leaves it out of `Gateway` and `AIGateway` ops) and a `data: null` (JS sends
/// one on ops that carry no data; Rust leaves it out).
fn toolkit_op(op: &Value) -> Value {
    let mut op = op.clone();
    if let Some(map) = op.as_object_mut() {
        if matches!(map["op"].as_str(), Some("Gateway" | "AIGateway")) {
            map.remove("name");
        }
        if map.get("data").is_some_and(Value::is_null) {
            map.remove("data");
        }
    }
    op
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_toolkits_ops_and_resumes_match_the_typescript_sdk() {
    let Some(js) = peers::start(&peers::JS, "http://127.0.0.1:9").await else {
        return;
    };
    let rust = Served::start(inngest::App::new("peer-app").dev("http://127.0.0.1:9")).await;
    let body = |name: &str, data: Value| support::CallBody::new(name, data);
    let signal = "peer-signal-01JRUN00000000000000000000";
    let fetch_url = "http://127.0.0.1:9/echo";
    let ai = json!({"base_url": "http://127.0.0.1:9/v1", "model": "good"});
    let cases: Vec<(&str, &str, support::CallBody)> = vec![
        ("signal wait", "peer-signal", body("test/peer-signal", json!({}))),
        (
            "signal received",
            "peer-signal",
            body("test/peer-signal", json!({})).memo(
                "wait-for-signal",
                json!({"data": {"signal": signal, "data": {"value": "yes"}}}),
            ),
        ),
        (
            "signal timed out",
            "peer-signal",
            body("test/peer-signal", json!({})).memo("wait-for-signal", Value::Null),
        ),
        ("fetch", "peer-fetch", body("test/peer-fetch", json!({"url": fetch_url}))),
        (
            "fetch answered",
            "peer-fetch",
            body("test/peer-fetch", json!({"url": fetch_url})).memo(
                "step.fetch: 127.0.0.1",
                json!({"data": {"url": fetch_url, "status_code": 201,
                    "headers": {"Content-Type": "application/json"}, "body": "{\"ok\":true}"}}),
            ),
        ),
        ("inference", "peer-ai", body("test/peer-ai", ai.clone())),
        (
            "inference answered",
            "peer-ai",
            body("test/peer-ai", ai.clone()).memo(
                "ask",
                json!({"data": {"choices": [{"message": {"role": "assistant", "content": "hi!"}}]}}),
            ),
        ),
        (
            "inference failed for good",
            "peer-ai",
            body("test/peer-ai", ai).memo(
                "ask",
                json!({"error": {"name": "AIGatewayError",
                    "message": "Error making AI request: unsuccessful status code: 429"}}),
            ),
        ),
    ];
    let client = reqwest::Client::new();
    for (what, function, body) in cases {
        let body = body.build();
        let fn_id = format!("peer-app-{function}");
        let mut answers = Vec::new();
        for url in [rust.url(), js.url()] {
            let res = client
                .post(format!("{url}?fnId={fn_id}&stepId=step"))
                .json(&body)
                .send()
                .await
                .unwrap();
            answers.push(support::Reply::read(res).await);
        }
        let (r, j) = (&answers[0], &answers[1]);
        assert_eq!(r.status, j.status, "{what}: {r:?} vs {j:?}");
        match r.status {
            206 => {
                let ops = |reply: &support::Reply| -> Vec<Value> {
                    reply
                        .json()
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(toolkit_op)
                        .collect()
                };
                assert_eq!(ops(r), ops(j), "{what}");
            }
            400 => assert_eq!(r.json()["message"], j.json()["message"], "{what}"),
            _ => assert_eq!(r.json(), j.json(), "{what}"),
        }
    }
}
