//! The event API's checks, as the server's (`pkg/api`, `pkg/event`): reserved names, sizes,
//! counts, `ts` bounds; internal ids; wildcard triggers; cron jitter.

use inngest_engine::EventError;
use serde_json::json;

use crate::sdk::*;

#[tokio::test]
async fn reserved_names_are_refused_and_data_inngest_is_stripped() {
    let sdk = FakeSdk::default();
    sdk.function("app-a", echo);
    let mut sim = sim(json!([function("app-a", json!([{"event": "a/go"}]))]));
    let refused = sim
        .send(vec![
            json!({"name": "inngest/function.invoked", "data": {"_inngest": {"fn_id": "app-a"}}}),
        ])
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "event name is reserved for internal use: inngest/function.invoked"
    );
    assert_eq!(
        sim.send(vec![json!({"name": "Inngest/x", "data": {}})])
            .unwrap_err()
            .to_string(),
        "event name is reserved for internal use: Inngest/x"
    );
    send(
        &mut sim,
        json!({"name": "a/go", "data": {"k": 1, "_inngest": {"fn_id": "x"}}}),
    );
    sim.run_until_idle(&sdk, 10).await.unwrap();
    assert_eq!(ended(&sim)[0].2, json!({"k": 1}));
}

#[tokio::test]
async fn sizes_counts_and_timestamps_as_the_server_checks_them() {
    let mut sim = sim(json!([]));
    let many = vec![json!({"name": "a"}); 5001];
    assert_eq!(
        sim.send(many).unwrap_err().to_string(),
        "Cannot have more than 5000 events in a batch"
    );
    let big = json!({"name": "a", "data": {"x": "y".repeat(3 * 1024 * 1024)}});
    let err = sim.send(vec![big]).unwrap_err();
    assert!(matches!(err, EventError::TooLarge { index: 0, .. }));
    assert!(err
        .to_string()
        .starts_with("Event is over the max size: Max 3145728 bytes / Size 3145"));
    assert_eq!(
        sim.send(vec![json!({"name": "a", "ts": 1000})])
            .unwrap_err()
            .to_string(),
        "timestamp is before Jan 1, 1980"
    );
    assert_eq!(
        sim.send(vec![json!({"name": "a", "ts": 4_200_000_000_000_u64})])
            .unwrap_err()
            .to_string(),
        "timestamp is after Jan 1, 2100"
    );
    assert_eq!(
        sim.send(vec![json!({"data": {}})]).unwrap_err().to_string(),
        "event name is empty"
    );
    // The events before a refused one are received, as on the server.
    let (ids, error) = sim
        .core()
        .send_partial(vec![json!({"name": "ok"}), json!({"name": ""})], start());
    assert_eq!(
        (ids.len(), error.map(|e| e.to_string())),
        (1, Some("event name is empty".into()))
    );
}

#[tokio::test]
async fn the_function_sees_the_events_own_id_or_the_internal_one() {
    let sdk = FakeSdk::default();
    sdk.function("app-id", |req, _| answer(200, req.event["id"].clone()));
    let mut sim = sim(json!([function("app-id", json!([{"event": "id/go"}]))]));
    let internal = send(&mut sim, json!({"name": "id/go"}));
    send(&mut sim, json!({"name": "id/go", "id": "mine"}));
    sim.run_until_idle(&sdk, 10).await.unwrap();
    let ids: Vec<_> = ended(&sim).into_iter().map(|e| e.2).collect();
    assert_eq!(ids, [json!(internal), json!("mine")]);
}

#[tokio::test]
async fn wildcard_triggers_match_as_on_the_server() {
    let sdk = FakeSdk::default();
    sdk.function("app-all", |req, _| answer(200, req.event["name"].clone()));
    sdk.function("app-user", |req, _| answer(200, req.event["name"].clone()));
    let mut sim = sim(json!([
        function("app-all", json!([{"event": "app/*"}])),
        function("app-user", json!([{"event": "app/user.*"}]))
    ]));
    for name in ["app/user.created", "app/order.paid", "other/user.created"] {
        send(&mut sim, json!({"name": name}));
    }
    sim.run_until_idle(&sdk, 10).await.unwrap();
    let mut ends: Vec<(String, String)> = ended(&sim)
        .into_iter()
        .map(|e| (e.0, e.2.as_str().unwrap().to_owned()))
        .collect();
    ends.sort();
    assert_eq!(
        ends,
        [
            ("app-all".to_owned(), "app/order.paid".to_owned()),
            ("app-all".to_owned(), "app/user.created".to_owned()),
            ("app-user".to_owned(), "app/user.created".to_owned()),
        ]
    );
}

#[tokio::test]
async fn cron_ticks_fire_with_the_servers_jitter() {
    let sdk = FakeSdk::default();
    sdk.function("app-cron", |req, _| answer(200, req.event["data"].clone()));
    let mut sim = sim(json!([function(
        "app-cron",
        json!([{"cron": "*/5 * * * *", "jitter": "30s"}])
    )]));
    sim.advance(std::time::Duration::from_secs(300));
    sim.run_until_idle(&sdk, 10).await.unwrap();
    let data = &ended(&sim)[0].2;
    assert_eq!(data["cron"], "*/5 * * * *");
    let scheduled = data["scheduledAt"].as_str().unwrap().to_owned();
    let fired = data["fireAt"].as_str().unwrap().to_owned();
    let at = |s: &str| {
        inngest_protocol::time::unix_millis(inngest_protocol::time::parse_rfc3339(s).unwrap())
            / 1000
    };
    let jitter = at(&fired) - at(&scheduled);
    assert!(
        (1..30).contains(&jitter),
        "fires 1-30 s after its tick: {jitter}"
    );
}

#[tokio::test]
async fn a_cancel_on_timeout_may_be_an_rfc3339_time() {
    let sdk = FakeSdk::default();
    sdk.function("app-c", sleeper("1h"));
    // The cancellation listens until 10 minutes after the start, given as a time.
    let until = inngest_protocol::time::rfc3339(start() + std::time::Duration::from_secs(600));
    let mut sim = sim(json!([with(
        "app-c",
        "c/go",
        json!({"cancel": [{"event": "c/stop", "timeout": until}]})
    )]));
    let early = send(&mut sim, json!({"name": "c/go", "data": {}}));
    let late = send(&mut sim, json!({"name": "c/go", "data": {}}));
    let calls = sim.take_calls();
    answer_calls(&mut sim, &sdk, calls).await;
    sim.advance(std::time::Duration::from_secs(60));
    send(&mut sim, json!({"name": "c/stop"}));
    assert_eq!(
        run_of(&mut sim, &early).status,
        inngest_engine::RunStatus::Cancelled
    );
    assert_eq!(
        run_of(&mut sim, &late).status,
        inngest_engine::RunStatus::Cancelled
    );
    let again = send(&mut sim, json!({"name": "c/go", "data": {}}));
    let calls = sim.take_calls();
    answer_calls(&mut sim, &sdk, calls).await;
    sim.advance(std::time::Duration::from_secs(900));
    send(&mut sim, json!({"name": "c/stop"}));
    sim.run_until_idle(&sdk, 10).await.unwrap();
    assert_eq!(
        run_of(&mut sim, &again).status,
        inngest_engine::RunStatus::Completed,
        "the rule stopped listening at its time"
    );
}
