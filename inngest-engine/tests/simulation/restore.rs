//! Restarting from what a store holds: a core restored mid-way behaves as the one that never
//! stopped (the same runs, outputs and stored state to the last row), overdue timers fire at
//! once, no cron tick starts two runs, and a call that was out is asked for again.

use std::time::Duration;

use inngest_engine::{RunStatus, Simulation};
use inngest_protocol::step_id::hash;
use serde_json::{json, Value};

use crate::sdk::*;

fn functions() -> Value {
    json!([
        with("sleeper", "test/sleep", json!({})),
        with("waiter", "test/wait", json!({})),
        with("flaky", "test/flaky", json!({})),
        with(
            "debounced",
            "test/debounce",
            json!({"debounce": {"period": "30s"}})
        ),
        with(
            "batched",
            "test/batch",
            json!({"batchEvents": {"maxSize": 3, "timeout": "1m"}})
        ),
        with(
            "limited",
            "test/limited",
            json!({"concurrency": [{"limit": 1}], "throttle": {"limit": 1, "period": "1m"}})
        ),
        function("ticker", json!([{"cron": "*/5 * * * *"}])),
    ])
}

fn sdk() -> FakeSdk {
    let sdk = FakeSdk::default();
    sdk.function("sleeper", sleeper("1h"));
    sdk.function("waiter", |req, _| {
        let w = hash("w");
        match req.steps.get(&w) {
            Some(memo) => answer(200, memo.clone()),
            None => answer(206, json!([{"id": w, "op": "WaitForEvent", "name": "w",
                "opts": {"event": "test/go", "timeout": "2h", "if": "async.data.n == event.data.n"}}])),
        }
    });
    sdk.function("flaky", |req, _| {
        if req.ctx.attempt == 0 {
            answer(500, json!({"name": "Error", "message": "first"}))
        } else {
            answer(200, json!("ok"))
        }
    });
    for f in ["debounced", "batched", "limited", "ticker"] {
        sdk.function(f, |req, _| answer(200, json!(req.events.len())));
    }
    sdk
}

/// The script, restarting after each phase when `restart` is set.
async fn script(restart: bool) -> (Simulation, FakeSdk) {
    let sdk = sdk();
    let mut sim = Simulation::persistent(Default::default(), start());
    sim.register(&app(functions())).unwrap();
    let restart_now = |sim: &mut Simulation| {
        if restart {
            sim.restart().unwrap();
        }
    };
    sim.send(vec![
        json!({"name": "test/sleep", "data": {"n": 1}}),
        json!({"name": "test/wait", "data": {"n": 2}}),
        json!({"name": "test/flaky", "data": {}}),
        json!({"name": "test/debounce", "data": {}}),
        json!({"name": "test/batch", "data": {"n": 1}}),
        json!({"name": "test/limited", "data": {"n": 1}}),
        json!({"name": "test/limited", "data": {"n": 2}}),
    ])
    .unwrap();
    restart_now(&mut sim);
    sim.run_until(&sdk, start() + Duration::from_secs(10), 100)
        .await
        .unwrap();
    restart_now(&mut sim);
    sim.send(vec![json!({"name": "test/batch", "data": {"n": 2}})])
        .unwrap();
    sim.run_until(&sdk, start() + Duration::from_secs(20 * 60), 100)
        .await
        .unwrap();
    restart_now(&mut sim);
    sim.send(vec![json!({"name": "test/go", "data": {"n": 2}})])
        .unwrap();
    sim.run_until(&sdk, start() + Duration::from_secs(2 * 3600), 200)
        .await
        .unwrap();
    (sim, sdk)
}

/// Asserts two stores hold the same rows, naming the first that differs. The calls that were
/// out at a restart are asked for again, with new call ids and queue positions: those two
/// counters are left out.
fn same_rows(a: &inngest_engine::core::Snapshot, b: &inngest_engine::core::Snapshot) {
    let text = |v: Option<&Vec<u8>>| {
        v.map(|v| {
            let mut value: Value = serde_json::from_slice(v).unwrap();
            if let Some(globals) = value
                .as_object_mut()
                .filter(|g| g.contains_key("ready_seq"))
            {
                globals.remove("ready_seq");
                globals.remove("next_call");
            }
            value
        })
    };
    for (space, rows) in a.spaces.iter().chain(b.spaces.iter()) {
        for key in rows.keys() {
            let (x, y) = (
                text(a.spaces.get(space).and_then(|r| r.get(key))),
                text(b.spaces.get(space).and_then(|r| r.get(key))),
            );
            assert_eq!(x, y, "the row {key} of {space}");
        }
    }
}

#[tokio::test]
async fn a_restored_core_goes_on_as_the_one_that_never_stopped() {
    let (mut kept, kept_sdk) = script(false).await;
    let (mut restarted, restarted_sdk) = script(true).await;
    assert_eq!(ended(&restarted), ended(&kept));
    assert_eq!(
        *restarted_sdk.calls.lock().unwrap(),
        *kept_sdk.calls.lock().unwrap()
    );
    same_rows(restarted.stored().unwrap(), kept.stored().unwrap());
    // Everything ran: 7 runs of the events, the batch once, cron ticks every 5 minutes.
    let statuses: Vec<(String, RunStatus)> =
        ended(&kept).into_iter().map(|(f, s, _)| (f, s)).collect();
    for f in ["sleeper", "waiter", "flaky", "debounced", "batched"] {
        assert!(
            statuses.contains(&(f.to_owned(), RunStatus::Completed)),
            "{f}: {statuses:?}"
        );
    }
    let ticks = statuses.iter().filter(|(f, _)| f == "ticker").count();
    assert_eq!(ticks, 24, "one run per tick over two hours");
}

#[tokio::test]
async fn overdue_timers_fire_at_once_no_tick_twice_and_calls_out_are_asked_again() {
    let sdk = sdk();
    let mut sim = Simulation::persistent(Default::default(), start());
    sim.register(&app(functions())).unwrap();
    sim.send(vec![json!({"name": "test/sleep", "data": {"n": 1}})])
        .unwrap();
    sim.run_until(&sdk, start() + Duration::from_secs(1), 10)
        .await
        .unwrap();
    // A call out when the engine stops: asked for again after the restart.
    sim.send(vec![json!({"name": "test/flaky", "data": {}})])
        .unwrap();
    let out = sim.take_calls();
    assert_eq!(out.len(), 1);
    assert_eq!(sim.restart().unwrap(), 1);
    let again = sim.take_calls();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (&again[0].run_id, &again[0].step_id),
        (&out[0].run_id, &out[0].step_id)
    );
    // Stopped for three hours: the sleep is overdue and the cron ticks were missed.
    sim.advance(Duration::from_secs(3 * 3600));
    sim.restart().unwrap();
    sim.run_until(&sdk, sim.now() + Duration::from_secs(1), 20)
        .await
        .unwrap();
    let ended = ended(&sim);
    assert!(
        ended
            .iter()
            .any(|(f, s, _)| f == "sleeper" && *s == RunStatus::Completed),
        "{ended:?}"
    );
    // The first tick due ran once; the missed ones are not made up.
    let ticks = ended.iter().filter(|(f, _, _)| f == "ticker").count();
    assert_eq!(ticks, 1, "{ended:?}");
    // Restarting again right away starts no tick twice.
    sim.restart().unwrap();
    sim.run_until(&sdk, sim.now() + Duration::from_secs(60), 20)
        .await
        .unwrap();
    let ticks = crate::sdk::ended(&sim)
        .iter()
        .filter(|(f, _, _)| f == "ticker")
        .count();
    assert_eq!(ticks, 1);
}
