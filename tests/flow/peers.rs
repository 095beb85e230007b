//! Flow control with the official JS SDK's functions (tests/peers/js), registered with the
//! standalone engine as with the dev server: the engine is checked on a second SDK. Real
//! time, short periods.

use std::time::{Duration, Instant};

use inngest::engine::{Engine, EngineConfig, RunStatus, RunView};
use serde_json::{json, Value};

use crate::support::peers;

/// Waits (with a deadline) until every event has a run and every run has ended; returns
/// them by event.
async fn ended(engine: &Engine, ids: &[String], within: Duration) -> Vec<Vec<RunView>> {
    let deadline = Instant::now() + within;
    loop {
        let runs: Vec<Vec<RunView>> = ids.iter().map(|id| engine.runs_for_event(id)).collect();
        let done = runs
            .iter()
            .flatten()
            .all(|r| !matches!(r.status, RunStatus::Running | RunStatus::Queued));
        if done && runs.iter().all(|r| !r.is_empty()) {
            return runs;
        }
        assert!(
            Instant::now() < deadline,
            "runs end within {within:?}: {runs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn events(name: &str, data: &[Value]) -> Vec<Value> {
    data.iter()
        .map(|d| json!({"name": name, "data": d}))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_js_sdks_flow_control_is_enforced() {
    let engine = Engine::start(
        EngineConfig::default()
            .retry_interval(Duration::from_millis(50))
            .log_timeline(false),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let engine_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(inngest::engine::serve(
        engine.clone(),
        listener,
        std::future::pending(),
    ));
    let Some(js) = peers::start(&peers::JS, &engine_url).await else {
        return; // skipped (only when peers are not required)
    };
    let res = reqwest::Client::new()
        .put(js.url())
        .header("x-inngest-server-kind", "dev")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the JS app syncs");
    let functions = engine.function_ids();
    assert!(
        functions.contains(&"peer-app-flow-batch".to_owned()),
        "{functions:?}"
    );

    // Concurrency 1: the steps of three runs never overlap.
    let ids = engine
        .send(events(
            "flow/js-concurrency",
            &[json!({}), json!({}), json!({})],
        ))
        .unwrap();
    let mut spans: Vec<(u64, u64)> = ended(&engine, &ids, Duration::from_secs(30))
        .await
        .into_iter()
        .flatten()
        .map(|r| {
            let o = r.output.unwrap();
            (o["start"].as_u64().unwrap(), o["end"].as_u64().unwrap())
        })
        .collect();
    spans.sort();
    assert_eq!(spans.len(), 3);
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "steps overlap: {spans:?}");
    }

    // A throttle of one a second: starts a second apart, none dropped.
    let ids = engine
        .send(events(
            "flow/js-throttle",
            &[json!({}), json!({}), json!({})],
        ))
        .unwrap();
    let mut starts: Vec<u64> = ended(&engine, &ids, Duration::from_secs(30))
        .await
        .into_iter()
        .flatten()
        .map(|r| r.output.unwrap().as_u64().unwrap())
        .collect();
    starts.sort();
    assert_eq!(starts.len(), 3);
    assert!(starts[2] - starts[0] >= 1_900, "a second apart: {starts:?}");

    // Debounce: one run, with the last event.
    let ids = engine
        .send(events(
            "flow/js-debounce",
            &[
                json!({"user": "a", "n": 1}),
                json!({"user": "a", "n": 2}),
                json!({"user": "a", "n": 3}),
            ],
        ))
        .unwrap();
    let last = ended(&engine, &ids[2..], Duration::from_secs(30)).await;
    assert_eq!(last[0][0].output, Some(json!(3)));
    assert!(engine.runs_for_event(&ids[0]).is_empty());

    // Batches of three in `events`, the rest after the timeout.
    let ids = engine
        .send(events(
            "flow/js-batch",
            &[
                json!({"n": 1}),
                json!({"n": 2}),
                json!({"n": 3}),
                json!({"n": 4}),
            ],
        ))
        .unwrap();
    let runs = ended(&engine, &ids, Duration::from_secs(30)).await;
    assert_eq!(
        runs[0].first().and_then(|r| r.output.clone()),
        Some(json!([1, 2, 3])),
        "{runs:?}"
    );
    assert_eq!(runs[3][0].output, Some(json!([4])));

    // Rate limit and idempotency: the second run for a key is skipped.
    for name in ["flow/js-rate-limit", "flow/js-idempotency"] {
        let ids = engine
            .send(events(
                name,
                &[json!({"user": "a", "n": 1}), json!({"user": "a", "n": 2})],
            ))
            .unwrap();
        let runs = ended(&engine, &ids, Duration::from_secs(30)).await;
        let statuses: Vec<RunStatus> = runs.iter().flatten().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [RunStatus::Completed, RunStatus::Skipped],
            "{name}"
        );
    }

    // Singleton (skip): a second run while the first holds the key is skipped.
    let first = engine
        .send(events("flow/js-singleton", &[json!({"user": "a", "n": 1})]))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while engine.runs_for_event(&first[0])[0].status != RunStatus::Running {
        assert!(Instant::now() < deadline, "the first singleton run starts");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = engine
        .send(events("flow/js-singleton", &[json!({"user": "a", "n": 2})]))
        .unwrap();
    let runs = ended(
        &engine,
        &[first[0].clone(), second[0].clone()],
        Duration::from_secs(30),
    )
    .await;
    let statuses: Vec<RunStatus> = runs.iter().flatten().map(|r| r.status).collect();
    assert_eq!(statuses, [RunStatus::Completed, RunStatus::Skipped]);
}
