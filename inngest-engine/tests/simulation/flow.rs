//! Flow control on virtual time: each option as the server enforces it.

use inngest_engine::RunStatus;
use inngest_protocol::step_id::hash;
use serde_json::{json, Value};

use crate::sdk::*;

#[tokio::test]
async fn concurrency_counts_steps_in_progress_not_runs() {
    let sdk = FakeSdk::default();
    sdk.function("app-c", sleeper("1m"));
    let mut sim = sim(json!([with("app-c", "c/go", json!({"concurrency": 1}))]));
    for i in 0..3 {
        send(&mut sim, json!({"name": "c/go", "data": {"i": i}}));
    }
    // One call at a time under a limit of 1.
    let calls = pending_calls(&mut sim);
    assert_eq!(calls.len(), 1);
    // Its run then sleeps: a sleeping run holds no capacity, so the next run starts.
    answer_calls(&mut sim, &sdk, calls).await;
    let calls = pending_calls(&mut sim);
    assert_eq!(
        calls.len(),
        1,
        "the second run starts while the first sleeps"
    );
    answer_calls(&mut sim, &sdk, calls).await;
    sim.run_until_idle(&sdk, 100).await.unwrap();
    let done: Vec<_> = ended(&sim).into_iter().map(|e| e.2["i"].clone()).collect();
    assert_eq!(done, [json!(0), json!(1), json!(2)]);
}

#[tokio::test]
async fn keyed_concurrency_limits_each_key_alone() {
    let sdk = FakeSdk::default();
    sdk.function("app-k", echo);
    let mut sim = sim(json!([with(
        "app-k",
        "k/go",
        json!({"concurrency": [{"limit": 1, "key": "event.data.user"}]})
    )]));
    for user in ["a", "a", "b"] {
        send(&mut sim, json!({"name": "k/go", "data": {"user": user}}));
    }
    let calls = pending_calls(&mut sim);
    let runs: Vec<&str> = calls.iter().map(|c| c.run_id.as_str()).collect();
    assert_eq!(runs.len(), 2, "one call for user a, one for user b");
    answer_calls(&mut sim, &sdk, calls).await;
    assert_eq!(
        pending_calls(&mut sim).len(),
        1,
        "the second run of a, once the first ended"
    );
}

#[tokio::test]
async fn env_scoped_concurrency_is_shared_across_functions() {
    let sdk = FakeSdk::default();
    sdk.function("app-e1", echo);
    sdk.function("app-e2", echo);
    let limit = json!({"concurrency": [{"limit": 1, "key": "event.data.account", "scope": "env"}]});
    let mut sim = sim(json!([
        with("app-e1", "e/go", limit.clone()),
        with("app-e2", "e/go", limit)
    ]));
    send(&mut sim, json!({"name": "e/go", "data": {"account": "x"}}));
    assert_eq!(
        pending_calls(&mut sim).len(),
        1,
        "one step of the two functions at once"
    );
}

#[tokio::test]
async fn a_throttle_delays_starts_and_drops_nothing() {
    let sdk = FakeSdk::default();
    sdk.function("app-t", echo);
    let mut sim = sim(json!([with(
        "app-t",
        "t/go",
        json!({"throttle": {"limit": 1, "period": "1m"}})
    )]));
    let ids: Vec<String> = (0..3)
        .map(|i| send(&mut sim, json!({"name": "t/go", "data": {"i": i}})))
        .collect();
    sim.run_until_idle(&sdk, 100).await.unwrap();
    assert_eq!(ended(&sim).len(), 3, "every run ran");
    let started: Vec<String> = ids
        .iter()
        .map(|id| run_of(&mut sim, id).run_started_at)
        .collect();
    assert_eq!(
        started,
        [
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:14:20Z",
            "2023-11-14T22:15:20Z"
        ],
        "one start a minute"
    );
}

#[tokio::test]
async fn a_rate_limit_skips_runs_and_the_runs_api_shows_them() {
    let sdk = FakeSdk::default();
    sdk.function("app-r", echo);
    let mut sim = sim(json!([with(
        "app-r",
        "r/go",
        json!({"rateLimit": {"limit": 1, "period": "1h", "key": "event.data.user"}})
    )]));
    let a1 = send(&mut sim, json!({"name": "r/go", "data": {"user": "a"}}));
    let a2 = send(&mut sim, json!({"name": "r/go", "data": {"user": "a"}}));
    let b1 = send(&mut sim, json!({"name": "r/go", "data": {"user": "b"}}));
    sim.run_until_idle(&sdk, 100).await.unwrap();
    assert_eq!(run_of(&mut sim, &a1).status, RunStatus::Completed);
    let skipped = run_of(&mut sim, &a2);
    assert_eq!(skipped.status, RunStatus::Skipped);
    assert_eq!(
        skipped.output,
        Some(json!({"skipped": "the run was skipped: the function is rate limited"}))
    );
    assert_eq!(run_of(&mut sim, &b1).status, RunStatus::Completed);
    assert_eq!(sdk.calls_of("app-r").len(), 2);
}

#[tokio::test]
async fn an_invoked_run_that_is_rate_limited_fails_its_invoker() {
    let sdk = FakeSdk::default();
    sdk.function("app-child", echo);
    sdk.function("app-parent", |req, _| {
        let id = hash("call");
        match req.steps.get(&id) {
            None => answer(
                206,
                json!([{"id": id, "op": "InvokeFunction", "name": "call",
                "opts": {"function_id": "app-child", "payload": {"data": {}}}}]),
            ),
            Some(memo) => answer(200, memo.clone()),
        }
    });
    let mut sim = sim(json!([
        function("app-parent", json!([{"event": "p/go"}])),
        with(
            "app-child",
            "child/go",
            json!({"rateLimit": {"limit": 1, "period": "1h"}})
        )
    ]));
    send(&mut sim, json!({"name": "child/go", "data": {}})); // uses the hour's one run
    send(&mut sim, json!({"name": "p/go", "data": {}}));
    sim.run_until_idle(&sdk, 100).await.unwrap();
    let parent = ended(&sim)
        .into_iter()
        .find(|e| e.0 == "app-parent")
        .unwrap();
    assert_eq!(
        parent.2,
        json!({"error": {"name": "Error", "message": "invoked function is rate limited"}})
    );
    assert_eq!(secs(&sim), 0, "the invoker did not wait for its timeout");
}

#[tokio::test]
async fn idempotency_runs_once_per_key_a_day() {
    let sdk = FakeSdk::default();
    sdk.function("app-i", echo);
    let mut sim = sim(json!([with(
        "app-i",
        "i/go",
        json!({"idempotency": "event.data.order"})
    )]));
    let first = send(&mut sim, json!({"name": "i/go", "data": {"order": 1}}));
    let again = send(&mut sim, json!({"name": "i/go", "data": {"order": 1}}));
    let other = send(&mut sim, json!({"name": "i/go", "data": {"order": 2}}));
    sim.run_until_idle(&sdk, 100).await.unwrap();
    assert_eq!(run_of(&mut sim, &first).status, RunStatus::Completed);
    assert_eq!(run_of(&mut sim, &again).status, RunStatus::Skipped);
    assert_eq!(run_of(&mut sim, &other).status, RunStatus::Completed);
}

#[tokio::test]
async fn events_with_the_same_id_start_a_run_once_and_get_internal_ids() {
    let sdk = FakeSdk::default();
    sdk.function("app-d", echo);
    let mut sim = sim(json!([function("app-d", json!([{"event": "d/go"}]))]));
    let ids = sim
        .send(vec![
            json!({"name": "d/go", "id": "order-1", "data": {}}),
            json!({"name": "d/go", "id": "order-1", "data": {}}),
        ])
        .unwrap();
    assert_ne!(ids[0], ids[1], "the engine's own ids, not the events' id");
    assert_eq!(ids[0].len(), 26, "a ULID");
    sim.run_until_idle(&sdk, 100).await.unwrap();
    assert_eq!(ended(&sim).len(), 1);
    assert!(sim.core().runs_for_event(&ids[1]).is_empty());
    let calls = sdk.calls_of("app-d");
    assert_eq!(calls.len(), 1);
}

#[tokio::test]
async fn a_debounce_runs_once_with_the_last_event_after_the_quiet_period() {
    let sdk = FakeSdk::default();
    sdk.function("app-db", echo);
    let mut sim = sim(json!([with(
        "app-db",
        "db/go",
        json!({"debounce": {"period": "30s", "key": "event.data.user"}})
    )]));
    send(
        &mut sim,
        json!({"name": "db/go", "data": {"user": "a", "n": 1}}),
    );
    sim.advance(std::time::Duration::from_secs(10));
    send(
        &mut sim,
        json!({"name": "db/go", "data": {"user": "a", "n": 2}}),
    );
    send(
        &mut sim,
        json!({"name": "db/go", "data": {"user": "b", "n": 3}}),
    );
    sim.run_until_idle(&sdk, 100).await.unwrap();
    let mut outputs: Vec<Value> = ended(&sim).into_iter().map(|e| e.2).collect();
    outputs.sort_by_key(|o| o["n"].as_u64());
    assert_eq!(
        outputs,
        [json!({"user": "a", "n": 2}), json!({"user": "b", "n": 3})]
    );
    assert_eq!(
        secs(&sim),
        41,
        "10 s, then the 30 s period and the server's 1 s buffer"
    );
}

#[tokio::test]
async fn a_debounce_timeout_caps_the_delay() {
    let sdk = FakeSdk::default();
    sdk.function("app-dt", echo);
    let mut sim = sim(json!([with(
        "app-dt",
        "dt/go",
        json!({"debounce": {"period": "30s", "timeout": "1m"}})
    )]));
    for n in 0..5 {
        send(&mut sim, json!({"name": "dt/go", "data": {"n": n}}));
        sim.advance(std::time::Duration::from_secs(20));
    }
    sim.run_until_idle(&sdk, 100).await.unwrap();
    let ends = ended(&sim);
    assert_eq!(
        ends[0].2,
        json!({"n": 3}),
        "started by the timeout, with the last event then"
    );
}

#[tokio::test]
async fn batches_are_cut_at_max_size_or_timeout_and_events_failing_if_run_alone() {
    let sdk = FakeSdk::default();
    sdk.function("app-b", |req, _| {
        let ns: Vec<Value> = req.events.iter().map(|e| e["data"]["n"].clone()).collect();
        answer(200, json!(ns))
    });
    let mut sim = sim(json!([with(
        "app-b",
        "b/go",
        json!({"batchEvents": {"maxSize": 3, "timeout": "5s", "if": "event.data.n != 9"}})
    )]));
    for n in [1, 2, 9, 3, 4] {
        send(&mut sim, json!({"name": "b/go", "data": {"n": n}}));
    }
    sim.run_until_idle(&sdk, 100).await.unwrap();
    let outputs: Vec<Value> = ended(&sim).into_iter().map(|e| e.2).collect();
    // 9 runs alone at once; 1, 2, 3 fill a batch; 4 waits for its batch's timeout.
    assert_eq!(outputs, [json!([9]), json!([1, 2, 3]), json!([4])]);
    assert_eq!(secs(&sim), 5, "the last batch waited for its timeout");
}

#[tokio::test]
async fn a_singleton_skips_or_cancels() {
    for (mode, statuses) in [
        ("skip", [RunStatus::Completed, RunStatus::Skipped]),
        ("cancel", [RunStatus::Cancelled, RunStatus::Completed]),
    ] {
        let sdk = FakeSdk::default();
        sdk.function("app-s", sleeper("1h"));
        let mut sim = sim(json!([with(
            "app-s",
            "s/go",
            json!({"singleton": {"mode": mode, "key": "event.data.user"}})
        )]));
        let first = send(&mut sim, json!({"name": "s/go", "data": {"user": "a"}}));
        let calls = pending_calls(&mut sim);
        answer_calls(&mut sim, &sdk, calls).await; // the first run sleeps
        let second = send(&mut sim, json!({"name": "s/go", "data": {"user": "a"}}));
        sim.run_until_idle(&sdk, 100).await.unwrap();
        let got = [
            run_of(&mut sim, &first).status,
            run_of(&mut sim, &second).status,
        ];
        assert_eq!(got, statuses, "mode {mode}");
    }
}

#[tokio::test]
async fn a_higher_priority_starts_first_when_runs_wait() {
    let sdk = FakeSdk::default();
    sdk.function("app-p", echo);
    let mut sim = sim(json!([with(
        "app-p",
        "p/go",
        json!({"concurrency": 1, "priority": {"run": "int(event.data.priority)"}})
    )]));
    let events = [(0, 0), (1, 0), (2, 600), (3, -600), (4, 100_000)]
        .map(|(n, priority)| json!({"name": "p/go", "data": {"n": n, "priority": priority}}));
    sim.send(events.to_vec()).unwrap();
    sim.run_until_idle(&sdk, 100).await.unwrap();
    let order: Vec<Value> = ended(&sim).into_iter().map(|e| e.2["n"].clone()).collect();
    // The factor is bounded to 12 hours, and shifts the run by that many seconds; equal
    // priorities go in order.
    assert_eq!(order, [json!(4), json!(2), json!(0), json!(1), json!(3)]);
}

#[tokio::test]
async fn timeouts_cancel_runs_and_emit_function_cancelled() {
    let sdk = FakeSdk::default();
    sdk.function("app-to", sleeper("1h"));
    sdk.function("app-to-cancel", |req, _| {
        answer(
            200,
            json!(format!(
                "cancelled {}",
                req.event["data"]["run_id"].as_str().unwrap().len()
            )),
        )
    });
    let mut sim = sim(json!([
        with(
            "app-to",
            "to/go",
            json!({"concurrency": 1, "timeouts": {"start": "10s", "finish": "10m"}})
        ),
        function(
            "app-to-cancel",
            json!([{"event": "inngest/function.cancelled", "expression": "event.data.function_id == 'app-to'"}])
        )
    ]));
    let first = send(&mut sim, json!({"name": "to/go", "data": {}}));
    let calls = pending_calls(&mut sim);
    assert_eq!(calls.len(), 1);
    // The first run holds the only slot for its call; the second cannot start in 10 s.
    let second = send(&mut sim, json!({"name": "to/go", "data": {}}));
    sim.advance(std::time::Duration::from_secs(11));
    answer_calls(&mut sim, &sdk, calls).await;
    sim.run_until_idle(&sdk, 100).await.unwrap();
    assert_eq!(
        run_of(&mut sim, &second).status,
        RunStatus::Cancelled,
        "start timeout"
    );
    let first = run_of(&mut sim, &first);
    assert_eq!(first.status, RunStatus::Cancelled, "finish timeout");
    assert_eq!(
        secs(&sim),
        600,
        "cancelled 10 minutes after it started, not after its 1 h sleep"
    );
    let handlers = ended(&sim)
        .into_iter()
        .filter(|e| e.0 == "app-to-cancel")
        .count();
    assert_eq!(handlers, 2, "the cancel handler ran for both");
}

#[tokio::test]
async fn a_future_event_ts_starts_the_run_then() {
    let sdk = FakeSdk::default();
    sdk.function("app-f", echo);
    let mut sim = sim(json!([function("app-f", json!([{"event": "f/go"}]))]));
    let ts = 1_700_000_000_000_u64 + 90_000;
    let id = send(&mut sim, json!({"name": "f/go", "ts": ts, "data": {}}));
    assert_eq!(run_of(&mut sim, &id).status, RunStatus::Queued);
    sim.run_until_idle(&sdk, 100).await.unwrap();
    assert_eq!(secs(&sim), 90);
}

#[tokio::test]
async fn a_priority_that_is_not_an_integer_counts_as_zero() {
    let sdk = FakeSdk::default();
    sdk.function("app-pd", echo);
    // The event's numbers are doubles, as on the server: without `int(...)`, no priority.
    let mut sim = sim(json!([with(
        "app-pd",
        "pd/go",
        json!({"concurrency": 1, "priority": {"run": "event.data.priority"}})
    )]));
    let events = [(0, 0), (1, 0), (2, 600)]
        .map(|(n, priority)| json!({"name": "pd/go", "data": {"n": n, "priority": priority}}));
    sim.send(events.to_vec()).unwrap();
    sim.run_until_idle(&sdk, 100).await.unwrap();
    let order: Vec<Value> = ended(&sim).into_iter().map(|e| e.2["n"].clone()).collect();
    assert_eq!(order, [json!(0), json!(1), json!(2)]);
}

#[tokio::test]
async fn a_rate_limit_keyed_by_a_missing_field_does_not_apply() {
    let sdk = FakeSdk::default();
    sdk.function("app-rm", echo);
    let mut sim = sim(json!([with(
        "app-rm",
        "rm/go",
        json!({"rateLimit": {"limit": 1, "period": "1h", "key": "event.data.user"}})
    )]));
    for _ in 0..3 {
        send(&mut sim, json!({"name": "rm/go", "data": {}}));
    }
    sim.run_until_idle(&sdk, 100).await.unwrap();
    assert_eq!(
        ended(&sim).len(),
        3,
        "the server's key evaluates to false: no limit"
    );
}
