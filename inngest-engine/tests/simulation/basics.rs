//! The core on virtual time, against a scripted SDK: each function is a closure from the call
//! request to the answer an SDK would give.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use inngest_engine::core::{CoreConfig, Output};
use inngest_engine::{Happening, RunStatus, Simulation, Transport};
use inngest_protocol::step_id::hash;
use serde_json::{json, Value};

use crate::sdk::*;

#[tokio::test]
async fn steps_are_memoized_and_a_day_long_sleep_takes_no_time() {
    let sdk = FakeSdk::default();
    sdk.function("app-a", |req, _| {
        let (load, nap) = (hash("load"), hash("nap"));
        match (req.steps.get(&load), req.steps.contains_key(&nap)) {
            (None, _) => answer(
                206,
                json!([{"id": load, "op": "StepRun", "name": "load", "data": 41}]),
            ),
            (Some(_), false) => answer(
                206,
                json!([{"id": nap, "op": "Sleep", "name": "nap", "opts": {"duration": "1d"}}]),
            ),
            (Some(v), true) => answer(200, json!(v["data"].as_i64().unwrap() + 1)),
        }
    });
    let mut sim = Simulation::new(CoreConfig::default(), start());
    sim.register(&app(json!([function("app-a", json!([{"event": "a/go"}]))])))
        .unwrap();
    sim.send(vec![json!({"name": "a/go", "data": {}})]).unwrap();
    sim.run_until_idle(&sdk, 100).await.unwrap();
    assert_eq!(
        ended(&sim),
        vec![("app-a".into(), RunStatus::Completed, json!(42))]
    );
    assert_eq!(
        sim.now().duration_since(start()).unwrap(),
        Duration::from_secs(86_400),
        "the clock moved a day, virtually"
    );
    assert_eq!(sdk.calls.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_function_that_keeps_failing_is_retried_then_fails_and_its_handler_runs() {
    let sdk = FakeSdk::default();
    sdk.function("app-b", |_, _| {
        answer(500, json!({"name": "Boom", "message": "no"}))
    });
    sdk.function("app-b-failure", |req, _| {
        answer(
            200,
            json!(format!("handled {}", req.event["data"]["error"]["message"])),
        )
    });
    let mut sim = Simulation::new(CoreConfig::default(), start());
    sim.register(&app(json!([
        function("app-b", json!([{"event": "b/go"}])),
        function("app-b-failure", json!([{"event": "inngest/function.failed", "expression": "event.data.function_id == 'app-b'"}])),
    ])))
    .unwrap();
    sim.send(vec![json!({"name": "b/go", "data": {}})]).unwrap();
    sim.run_until_idle(&sdk, 100).await.unwrap();
    let ends = ended(&sim);
    assert_eq!(ends[0].0, "app-b");
    assert_eq!(ends[0].1, RunStatus::Failed);
    assert_eq!(ends[0].2["error"], "invalid status code: 500");
    assert_eq!(
        ends[1],
        (
            "app-b-failure".into(),
            RunStatus::Completed,
            json!("handled \"no\"")
        )
    );
    let attempts: Vec<u32> = sdk
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.0 == "app-b")
        .map(|c| c.2)
        .collect();
    assert_eq!(attempts, [0, 1, 2], "two retries");
    let waited = sim.now().duration_since(start()).unwrap();
    assert!(
        waited >= Duration::from_secs(45) && waited <= Duration::from_secs(45 + 60),
        "15 s then 30 s of backoff, with up to 30 s of jitter each: {waited:?}"
    );
}

#[tokio::test]
async fn a_non_retriable_error_fails_at_once_and_the_lifecycle_events_come_in_the_servers_order() {
    let sdk = FakeSdk::default();
    sdk.function("app-c", |_, _| {
        no_retry(answer(
            400,
            json!({"name": "NonRetriableError", "message": "banned"}),
        ))
    });
    let mut sim = Simulation::new(CoreConfig::default(), start());
    sim.register(&app(json!([function("app-c", json!([{"event": "c/go"}]))])))
        .unwrap();
    sim.send(vec![json!({"name": "c/go", "data": {}})]).unwrap();
    sim.run_until_idle(&sdk, 100).await.unwrap();
    assert_eq!(sdk.calls.lock().unwrap().len(), 1);
    let names: Vec<&str> = sim
        .happenings()
        .iter()
        .filter_map(|h| match h {
            Happening::Event { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            "c/go",
            "inngest/function.finished",
            "inngest/function.failed"
        ]
    );
}

#[tokio::test]
async fn invoking_a_function_that_does_not_exist_fails_the_step_at_once() {
    let sdk = FakeSdk::default();
    sdk.function("app-d", |req, _| {
        let id = hash("call");
        match req.steps.get(&id) {
            None => answer(
                206,
                json!([{"id": id, "op": "InvokeFunction", "name": "call",
                "opts": {"function_id": "app-missing", "payload": {"data": {}}}}]),
            ),
            Some(memo) => answer(200, memo.clone()),
        }
    });
    let mut sim = Simulation::new(CoreConfig::default(), start());
    sim.register(&app(json!([function("app-d", json!([{"event": "d/go"}]))])))
        .unwrap();
    sim.send(vec![json!({"name": "d/go", "data": {}})]).unwrap();
    sim.run_until_idle(&sdk, 100).await.unwrap();
    let ends = ended(&sim);
    assert_eq!(
        ends[0].2["error"]["message"],
        "could not find function with ID: app-missing"
    );
    assert_eq!(
        sim.now(),
        start(),
        "no time passed: nothing waited for a timeout"
    );
}

#[tokio::test]
async fn a_wait_resumes_with_the_matching_event_or_null_after_its_timeout() {
    let sdk = FakeSdk::default();
    sdk.function("app-e", |req, _| {
        let id = hash("paid");
        match req.steps.get(&id) {
            None => answer(206, json!([{"id": id, "op": "WaitForEvent", "name": "e/paid",
                "opts": {"event": "e/paid", "timeout": "1h", "if": "event.data.order == async.data.order"}}])),
            Some(memo) => answer(200, memo.clone()),
        }
    });
    let mut sim = Simulation::new(CoreConfig::default(), start());
    sim.register(&app(json!([function(
        "app-e",
        json!([{"event": "e/order"}])
    )])))
    .unwrap();
    sim.send(vec![
        json!({"name": "e/order", "data": {"order": 1}}),
        json!({"name": "e/order", "data": {"order": 2}}),
    ])
    .unwrap();
    // Both runs call once and pause; then order 2 is paid.
    while let Some(output) = sim.core().poll_output() {
        if let Output::Call(call) = output {
            let answer = sdk.call(&call).await;
            let now = sim.now();
            sim.core().call_finished(call.id, answer, now);
        }
    }
    sim.send(vec![
        json!({"name": "e/paid", "data": {"order": 2, "amount": 5}}),
    ])
    .unwrap();
    sim.run_until_idle(&sdk, 100).await.unwrap();
    let ends = ended(&sim);
    assert_eq!(
        ends[0].2["data"]["amount"], 5,
        "order 2 resumed with the event"
    );
    assert_eq!(ends[1].2, Value::Null, "order 1 timed out");
    assert_eq!(
        sim.now().duration_since(start()).unwrap(),
        Duration::from_secs(3600)
    );
}

#[tokio::test]
async fn answers_the_server_refuses_are_retried_not_left_hanging() {
    for body in [&b""[..], b"[]", b"\"x\"", b"{]", br#"[{"op":"Teleport"}]"#] {
        let sdk = FakeSdk::default();
        let bytes = Bytes::copy_from_slice(body);
        sdk.function("app-f", move |_, _| {
            let mut res = answer(206, Value::Null);
            res.body = bytes.clone();
            res
        });
        let mut sim = Simulation::new(CoreConfig::default(), start());
        sim.register(&app(json!([function("app-f", json!([{"event": "f/go"}]))])))
            .unwrap();
        sim.send(vec![json!({"name": "f/go", "data": {}})]).unwrap();
        let result = sim.run_until_idle(&sdk, 50).await;
        if body == b"[]" {
            // `[]` means "call me again": it never ends, but never hangs either.
            assert!(result.is_err());
        } else {
            result.unwrap();
            assert_eq!(ended(&sim)[0].1, RunStatus::Failed, "{body:?}");
        }
    }
}

#[tokio::test]
async fn a_sync_replaces_the_apps_functions() {
    let mut sim = Simulation::new(CoreConfig::default(), start());
    sim.register(&app(json!([
        function("app-x", json!([])),
        function("app-y", json!([]))
    ])))
    .unwrap();
    let synced = sim
        .register(&app(json!([function("app-y", json!([]))])))
        .unwrap();
    assert_eq!(synced.removed, ["app-x"]);
    assert_eq!(sim.core().function_ids(), ["app-y"]);
    let duplicate = sim.register(&app(json!([
        function("app-y", json!([])),
        function("app-y", json!([]))
    ])));
    assert_eq!(
        duplicate.unwrap_err().to_string(),
        "the function id `app-y` is used more than once"
    );
}

#[tokio::test]
async fn a_run_too_large_for_a_call_request_is_read_through_the_api() {
    // Two memoized steps of 2.5 MB: together over the 4 MB of a call request, so the next
    // call carries `use_api` and no steps (the SDK reads them with GET /v0/runs/{id}/actions),
    // and the core still keeps them for that API.
    let big = "x".repeat(2_500_000);
    let sdk = FakeSdk::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    sdk.function("app-big", move |req, _| {
        log.lock().unwrap().push((
            req.use_api,
            req.ctx.use_api,
            req.steps.len(),
            req.events.len(),
        ));
        let (a, b) = (hash("a"), hash("b"));
        if req.use_api {
            return answer(200, json!("read through the API"));
        }
        let next = if req.steps.contains_key(&a) {
            (b, "b")
        } else {
            (a, "a")
        };
        answer(
            206,
            json!([{"id": next.0, "op": "StepRun", "name": next.1, "data": big}]),
        )
    });
    let mut sim = Simulation::new(CoreConfig::default(), start());
    sim.register(&app(json!([function(
        "app-big",
        json!([{"event": "big/go"}])
    )])))
    .unwrap();
    sim.send(vec![json!({"name": "big/go", "data": {}})])
        .unwrap();
    sim.run_until_idle(&sdk, 10).await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            (false, false, 0, 1),
            (false, false, 1, 1),
            (true, true, 0, 1)
        ],
        "the third call carries use_api, without steps but with the event"
    );
    let run = sim
        .core()
        .runs_iter()
        .next()
        .map(|r| (r.memos().len(), r.events().len()));
    assert_eq!(
        run,
        Some((2, 1)),
        "the API still reads both steps and the event"
    );
}
