//! Protocol tests of every step kind: the op each reports, and how each resumes from its memo
//! (protocol.md sections 2, 3.2, 4 and 8).

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use inngest::step::{Either, WaitForEvent};
use inngest::{Context, Error, Event};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use support::{hash, CallBody, FakeDevServer, Served};

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

#[inngest::function(id = "sender", event = "test/send")]
async fn sender(ctx: Context) -> Result<Vec<String>, Error> {
    ctx.step
        .send_event(
            "fan-out",
            vec![
                Event::new("app/one", json!({"n": 1})),
                Event::new("app/two", json!({"n": 2})),
            ],
        )
        .await
}

#[inngest::function(id = "three", event = "test/three")]
async fn three(ctx: Context) -> Result<u32, Error> {
    let (a, b, c) = tokio::join!(
        ctx.step.run("a", || async { Ok(1_u32) }),
        ctx.step.run("b", || async { Ok(2_u32) }),
        ctx.step.run("c", || async { Ok(3_u32) }),
    );
    Ok(a? + b? + c?)
}

#[inngest::function(id = "twenty", event = "test/twenty")]
async fn twenty(ctx: Context) -> Result<u32, Error> {
    let branches = (0..20_u32).map(|i| {
        let step = ctx.step.clone();
        async move {
            step.run(&format!("branch-{i}"), || async move { Ok(i) })
                .await
        }
    });
    let results = futures::future::join_all(branches).await;
    results.into_iter().try_fold(0, |acc, r| Ok(acc + r?))
}

#[inngest::function(id = "racer", event = "test/race")]
async fn racer(ctx: Context) -> Result<String, Error> {
    let winner = ctx
        .step
        .race(
            ctx.step.run("fast", || async { Ok(1_u32) }),
            ctx.step.run("slow", || async { Ok("two".to_owned()) }),
        )
        .await;
    Ok(match winner {
        Either::Left(n) => format!("fast won: {}", n?),
        Either::Right(s) => format!("slow won: {}", s?),
    })
}

#[inngest::function(id = "rate-limited-step", event = "test/rate-limited")]
async fn rate_limited_step(ctx: Context) -> Result<(), Error> {
    ctx.step
        .run("call-api", || async {
            Err::<(), _>(inngest::RetryAfterError::new("slow down", Duration::from_secs(42)).into())
        })
        .await
}

#[inngest::function(id = "typed", event = "test/typed")]
async fn typed(ctx: Context) -> Result<u32, Error> {
    ctx.step.run("count", || async { Ok(1_u32) }).await
}

const APP: &str = "steps-app";

async fn served() -> Served {
    Served::start(inngest::App::new(APP).dev("http://127.0.0.1:9")).await
}

fn ops(r: &support::Reply) -> Vec<Value> {
    assert_eq!(r.status, 206, "{r:?}");
    r.json().as_array().unwrap().clone()
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

#[tokio::test]
async fn send_event_is_a_run_step_that_sends_through_the_event_api() {
    let dev = FakeDevServer::start(200, json!({"ids": ["01A", "01B"], "status": 200})).await;
    let s = Served::start(inngest::App::new(APP).dev(dev.origin.clone())).await;
    let body = CallBody::new("test/send", json!({}));
    let r = s.call("steps-app-sender", "step", &body.build()).await;
    assert_eq!(
        ops(&r),
        vec![json!({
            "id": hash("fan-out"), "op": "StepRun", "name": "sendEvent", "displayName": "fan-out",
            "data": {"ids": ["01A", "01B"]}, "opts": {"type": "step.sendEvent"},
            "userland": {"id": "fan-out"},
        })]
    );
    let sent = dev.recorded();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].uri, "/e/NO_EVENT_KEY_SET");
    let mut sent_events = sent[0].body.clone();
    for e in sent_events.as_array_mut().unwrap() {
        assert!(e["ts"].is_i64(), "ts is stamped: {e}");
        e.as_object_mut().unwrap().remove("ts");
    }
    assert_eq!(
        sent_events,
        json!([{"name": "app/one", "data": {"n": 1}}, {"name": "app/two", "data": {"n": 2}}])
    );
    let seed = sent[0].headers["x-inngest-event-id-seed"].to_str().unwrap();
    assert!(seed.split_once(',').is_some(), "{seed}");
    // Replayed: not sent again, ids from the memo (either shape).
    let r = s
        .call(
            "steps-app-sender",
            "step",
            &body
                .memo("fan-out", json!({"data": {"ids": ["01A", "01B"]}}))
                .build(),
        )
        .await;
    assert_eq!(r.json(), json!(["01A", "01B"]));
    let r = s
        .call(
            "steps-app-sender",
            "step",
            &CallBody::new("test/send", json!({}))
                .memo("fan-out", json!({"data": ["01C"]}))
                .build(),
        )
        .await;
    assert_eq!(r.json(), json!(["01C"]));
    assert_eq!(dev.recorded().len(), 1);
}

#[tokio::test]
async fn three_branches_are_planned_together() {
    let s = served().await;
    let r = s
        .call(
            "steps-app-three",
            "step",
            &CallBody::new("test/three", json!({})).build(),
        )
        .await;
    let ops = ops(&r);
    let ids: Vec<&str> = ops.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![hash("a"), hash("b"), hash("c")]);
    assert!(ops.iter().all(|o| o["op"] == "StepPlanned"));
}

#[tokio::test]
async fn twenty_branches_are_planned_together_and_complete() {
    let s = served().await;
    let r = s
        .call(
            "steps-app-twenty",
            "step",
            &CallBody::new("test/twenty", json!({})).build(),
        )
        .await;
    let ops = ops(&r);
    assert_eq!(ops.len(), 20);
    for (i, op) in ops.iter().enumerate() {
        assert_eq!(op["op"], "StepPlanned");
        assert_eq!(op["id"], hash(&format!("branch-{i}")));
    }
    let mut body = CallBody::new("test/twenty", json!({}));
    for i in 0..20 {
        body = body.memo(&format!("branch-{i}"), json!({"data": i}));
    }
    let r = s.call("steps-app-twenty", "step", &body.build()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json(), json!(190));
}

#[tokio::test]
async fn a_race_marks_its_ops_and_the_first_finished_branch_wins() {
    let s = served().await;
    let r = s
        .call(
            "steps-app-racer",
            "step",
            &CallBody::new("test/race", json!({})).build(),
        )
        .await;
    let ops = ops(&r);
    assert_eq!(ops.len(), 2);
    for op in &ops {
        assert_eq!(op["op"], "StepPlanned");
        assert_eq!(
            op["opts"],
            json!({"type": "step.run", "parallelMode": "race"})
        );
    }
    let slow_first = CallBody::new("test/race", json!({})).memo("slow", json!({"data": "two"}));
    let r = s.call("steps-app-racer", "step", &slow_first.build()).await;
    assert_eq!(r.json(), json!("slow won: two"));
    // Both finished later: the one Inngest recorded first still wins, on every replay.
    let both = slow_first.memo("fast", json!({"data": 1}));
    let r = s.call("steps-app-racer", "step", &both.build()).await;
    assert_eq!(r.json(), json!("slow won: two"));
}

#[tokio::test]
async fn input_memos_and_raw_values() {
    let s = served().await;
    // `{"input": [...]}`: recorded but not finished, so the step runs.
    let r = s
        .call(
            "steps-app-typed",
            "step",
            &CallBody::new("test/typed", json!({}))
                .memo("count", json!({"input": []}))
                .build(),
        )
        .await;
    assert_eq!(ops(&r)[0]["op"], "StepRun");
    // A raw legacy value is the step's output.
    let r = s
        .call(
            "steps-app-typed",
            "step",
            &CallBody::new("test/typed", json!({}))
                .memo("count", json!(7))
                .build(),
        )
        .await;
    assert_eq!(r.json(), json!(7));
}

#[tokio::test]
async fn a_memo_that_no_longer_fits_its_type_names_the_step_and_type() {
    let s = served().await;
    let body = CallBody::new("test/typed", json!({})).memo("count", json!({"data": "seven"}));
    let r = s.call("steps-app-typed", "step", &body.build()).await;
    r.assert_error(400, "true");
    let message = r.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("the memoized result of step `count` does not deserialize into `u32`: invalid type: string \"seven\""),
        "{message}"
    );
}

#[tokio::test]
async fn use_api_fetches_the_runs_events_and_steps() {
    let dev =
        FakeDevServer::start_with(std::sync::Arc::new(|req: &support::Recorded, _| match req
            .uri
            .as_str()
        {
            "/v0/runs/01JRUN00000000000000000000/batch" => (
                200,
                json!([{"id": "01E", "name": "test/steps", "data": {}, "user": {}, "ts": 1}]),
            ),
            "/v0/runs/01JRUN00000000000000000000/actions" => {
                (200, json!({ hash("first"): {"data": "from-api"} }))
            }
            _ => (404, json!({})),
        }))
        .await;
    let s = Served::start(inngest::App::new(APP).dev(dev.origin.clone())).await;
    let mut body = CallBody::new("test/typed", json!({})).build();
    body["use_api"] = json!(true);
    body["ctx"]["use_api"] = json!(true);
    body["events"] = json!([]);
    let r = s.call("steps-app-api-reader", "step", &body).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json(),
        json!({"first": "from-api", "event": "test/steps"})
    );
    let uris: Vec<String> = dev.recorded().iter().map(|r| r.uri.clone()).collect();
    assert_eq!(
        uris,
        vec![
            "/v0/runs/01JRUN00000000000000000000/batch",
            "/v0/runs/01JRUN00000000000000000000/actions"
        ]
    );

    // Data that cannot be fetched: a retriable 500 naming the URL.
    let gone = FakeDevServer::start(410, json!({"error": "state gone"})).await;
    let s = Served::start(inngest::App::new(APP).dev(gone.origin.clone())).await;
    let r = s.call("steps-app-api-reader", "step", &body).await;
    r.assert_error(500, "false");
    assert_eq!(
        r.json()["message"],
        format!("fetching the run's data from {}/v0/runs/01JRUN00000000000000000000/batch failed with 410 Gone", gone.origin)
    );
}

#[inngest::function(id = "api-reader", event = "test/steps")]
async fn api_reader(ctx: Context) -> Result<Value, Error> {
    let first: String = ctx
        .step
        .run("first", || async { Ok("ran".to_owned()) })
        .await?;
    Ok(json!({ "first": first, "event": ctx.event.name }))
}

#[tokio::test]
async fn the_event_client_retries_5xx_but_not_4xx() {
    let flaky = FakeDevServer::start_with(std::sync::Arc::new(|_: &support::Recorded, n| {
        if n < 2 {
            (502, json!({"error": "bad gateway"}))
        } else {
            (200, json!({"ids": ["01OK"], "status": 200}))
        }
    }))
    .await;
    let client = inngest::Client::dev(flaky.origin.clone());
    let id = client
        .send(&Event::new("app/retried", json!({"k": 1})))
        .await
        .unwrap();
    assert_eq!(id, "01OK");
    let sent = flaky.recorded();
    assert_eq!(sent.len(), 3, "two 502s, then a success");
    let seeds: Vec<&str> = sent
        .iter()
        .map(|r| r.headers["x-inngest-event-id-seed"].to_str().unwrap())
        .collect();
    assert!(
        seeds.windows(2).all(|w| w[0] == w[1]),
        "retries keep the id seed: {seeds:?}"
    );

    let refused = FakeDevServer::start(
        400,
        json!({"ids": [], "status": 400, "error": "event name is required"}),
    )
    .await;
    let err = inngest::Client::dev(refused.origin.clone())
        .send(&Event::new("app/x", json!({})))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "sending events to {}/e/*** failed with 400 Bad Request: event name is required",
            refused.origin
        )
    );
    assert_eq!(refused.recorded().len(), 1, "4xx is not retried");
}

#[tokio::test]
async fn a_retry_after_error_in_a_step_is_a_step_error_with_retry_after() {
    let s = served().await;
    let body = CallBody::new("test/rate-limited", json!({})).attempt(0, 4);
    let r = s
        .call("steps-app-rate-limited-step", "step", &body.build())
        .await;
    let first = ops(&r);
    assert_eq!(first[0]["op"], "StepError");
    assert_eq!(first[0]["error"]["name"], "RetryAfterError");
    assert_eq!(r.header("retry-after"), Some("42"));
    assert_eq!(r.header("x-inngest-no-retry"), Some("false"));
    // On the last attempt it is final.
    let body = CallBody::new("test/rate-limited", json!({})).attempt(3, 4);
    let r = s
        .call("steps-app-rate-limited-step", "step", &body.build())
        .await;
    assert_eq!(ops(&r)[0]["op"], "StepFailed");
    assert_eq!(r.header("x-inngest-no-retry"), Some("true"));
}
