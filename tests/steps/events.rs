//! `send_event`, a run step that sends through the event API, and the event client's retries.

use inngest::{Context, Error, Event};
use serde_json::json;

use crate::support::{self, hash, CallBody, FakeDevServer, Served};
use crate::{ops, APP};

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
