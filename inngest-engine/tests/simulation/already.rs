//! What the engine's redesign already did, checked rather than trusted: the retry schedule,
//! `Retry-After`, timers and indexes that go with their runs, and no recursion.

use std::time::Duration;

use inngest_engine::core::CoreConfig;
use inngest_engine::{RunStatus, Simulation};
use serde_json::json;

use crate::sdk::*;

#[tokio::test]
async fn a_retry_interval_is_constant_and_retry_after_takes_an_http_date() {
    let sdk = FakeSdk::default();
    sdk.function("app-r", |_, _| {
        answer(500, json!({"name": "E", "message": "no"}))
    });
    let mut sim = Simulation::new(
        CoreConfig::default().with_retry_interval(Some(Duration::from_secs(10))),
        start(),
    );
    sim.register(&app(json!([function("app-r", json!([{"event": "r/go"}]))])))
        .unwrap();
    send(&mut sim, json!({"name": "r/go"}));
    sim.run_until_idle(&sdk, 10).await.unwrap();
    assert_eq!(
        secs(&sim),
        20,
        "two retries, 10 s apart (not 10 s then 20 s)"
    );

    // `Retry-After` as an HTTP date, 2 minutes after the call.
    let sdk = FakeSdk::default();
    let at = start() + Duration::from_secs(120);
    let date = httpdate(at);
    sdk.function("app-h", move |_, _| {
        let mut res = answer(500, json!({"name": "E", "message": "later"}));
        res.headers.insert("retry-after".into(), date.clone());
        res
    });
    let mut sim = sim_with(json!([function("app-h", json!([{"event": "h/go"}]))]));
    send(&mut sim, json!({"name": "h/go"}));
    let calls = sim.take_calls();
    answer_calls(&mut sim, &sdk, calls).await;
    sim.advance(Duration::from_secs(119));
    assert!(sim.take_calls().is_empty(), "not before the date");
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.take_calls().len(), 1, "at the date");
}

fn sim_with(functions: serde_json::Value) -> Simulation {
    let mut sim = Simulation::new(CoreConfig::default(), start());
    sim.register(&app(functions)).unwrap();
    sim
}

/// An HTTP date (`Tue, 14 Nov 2023 22:15:20 GMT`).
fn httpdate(t: std::time::SystemTime) -> String {
    let t: chrono::DateTime<chrono::Utc> = t.into();
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[tokio::test]
async fn timers_and_indexes_go_with_their_runs() {
    let sdk = FakeSdk::default();
    sdk.function("app-t", sleeper("365d"));
    sdk.function("app-e", echo);
    let mut sim = Simulation::new(CoreConfig::default().with_max_finished_runs(2), start());
    sim.register(&app(json!([
        function("app-t", json!([{"event": "t/go"}])),
        function("app-e", json!([{"event": "e/go"}]))
    ])))
    .unwrap();
    let id = send(&mut sim, json!({"name": "t/go"}));
    let calls = sim.take_calls();
    answer_calls(&mut sim, &sdk, calls).await;
    assert!(sim.core().next_deadline().is_some(), "the year-long sleep");
    let run = run_of(&mut sim, &id).run_id;
    assert!(sim.core().cancel(&run, start()));
    assert_eq!(
        sim.core().next_deadline(),
        None,
        "no timer outlives its run"
    );
    for _ in 0..5 {
        send(&mut sim, json!({"name": "e/go"}));
    }
    sim.run_until_idle(&sdk, 100).await.unwrap();
    assert_eq!(sim.core().runs_kept(), 2);
    assert_eq!(
        sim.core().events_indexed(),
        2,
        "the index of runs by event is pruned too"
    );
}

#[tokio::test]
async fn one_event_cancelling_thousands_of_runs_does_not_recurse() {
    let sdk = FakeSdk::default();
    sdk.function("app-many", sleeper("1h"));
    sdk.function("app-many-cancel", echo);
    let mut sim = sim_with(json!([
        with("app-many", "m/go", json!({"cancel": [{"event": "m/stop"}]})),
        function(
            "app-many-cancel",
            json!([{"event": "inngest/function.cancelled"}])
        )
    ]));
    let events: Vec<_> = (0..3000).map(|_| json!({"name": "m/go"})).collect();
    sim.send(events).unwrap();
    let calls = sim.take_calls();
    answer_calls(&mut sim, &sdk, calls).await;
    send(&mut sim, json!({"name": "m/stop"}));
    sim.run_until_idle(&sdk, 10_000).await.unwrap();
    let ends = ended(&sim);
    let cancelled = ends.iter().filter(|e| e.1 == RunStatus::Cancelled).count();
    let handled = ends.iter().filter(|e| e.0 == "app-many-cancel").count();
    assert_eq!((cancelled, handled), (3000, 3000));
}
