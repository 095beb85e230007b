//! Flow control with `TestEngine`, on virtual time: a 30 s debounce, a one-a-minute throttle
//! or a 5 s batch timeout take no wall time.

use std::time::{Duration, Instant};

use inngest::testing::{RunStatus, TestEngine};
use inngest::Event;
use serde_json::json;

use crate::functions::*;

fn keyed(name: &str, user: &str, n: u32) -> Event<Keyed> {
    Event::new(
        name,
        Keyed {
            user: user.into(),
            n,
        },
    )
}

#[tokio::test]
async fn a_debounce_runs_once_with_the_last_event() {
    let wall = Instant::now();
    let runs = TestEngine::new::<debounced>()
        .run_events(vec![
            (Duration::ZERO, keyed("flow/debounced", "a", 1)),
            (Duration::from_secs(10), keyed("flow/debounced", "a", 2)),
            (Duration::from_secs(10), keyed("flow/debounced", "a", 3)),
        ])
        .await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].output, Some(json!(3)), "the last event");
    assert_eq!(
        runs[0].started_after,
        Duration::from_secs(51),
        "20 s, 30 s and the server's 1 s"
    );
    assert!(wall.elapsed() < Duration::from_secs(10), "virtual time");
}

#[tokio::test]
async fn a_throttle_starts_one_run_a_minute() {
    let events = (0..3)
        .map(|n| (Duration::ZERO, keyed("flow/throttled", "a", n)))
        .collect();
    let runs = TestEngine::new::<throttled>().run_events(events).await;
    let starts: Vec<u64> = runs.iter().map(|r| r.started_after.as_secs()).collect();
    assert_eq!(starts, [0, 60, 120]);
    assert!(runs.iter().all(|r| r.status == RunStatus::Completed));
}

#[tokio::test]
async fn batches_arrive_in_ctx_events() {
    let events = (0..4)
        .map(|n| (Duration::ZERO, keyed("flow/batched", "a", n)))
        .collect();
    let runs = TestEngine::new::<batched>().run_events(events).await;
    let outputs: Vec<_> = runs.iter().map(|r| r.output.clone().unwrap()).collect();
    assert_eq!(outputs, [json!([0, 1, 2]), json!([3])]);
    assert_eq!(runs[0].events.len(), 3);
    assert_eq!(
        runs[1].started_after,
        Duration::from_secs(5),
        "cut by its timeout"
    );
}

#[tokio::test]
async fn a_rate_limit_and_idempotency_skip_runs() {
    let runs = TestEngine::new::<rate_limited>()
        .run_events(vec![
            (Duration::ZERO, keyed("flow/rate-limited", "a", 1)),
            (Duration::from_secs(60), keyed("flow/rate-limited", "a", 2)),
            (Duration::ZERO, keyed("flow/rate-limited", "b", 3)),
        ])
        .await;
    let statuses: Vec<RunStatus> = runs.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Completed,
            RunStatus::Skipped,
            RunStatus::Completed
        ]
    );
    let runs = TestEngine::new::<idempotent>()
        .run_events(vec![
            (Duration::ZERO, keyed("flow/idempotent", "a", 1)),
            (Duration::from_secs(3600), keyed("flow/idempotent", "a", 2)),
        ])
        .await;
    let statuses: Vec<RunStatus> = runs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [RunStatus::Completed, RunStatus::Skipped]);
}

#[tokio::test]
async fn a_singleton_skips_while_one_runs() {
    let runs = TestEngine::new::<singleton>()
        .run_events(vec![
            (Duration::ZERO, keyed("flow/singleton", "a", 1)),
            (Duration::from_secs(60), keyed("flow/singleton", "a", 2)),
            (Duration::from_secs(7200), keyed("flow/singleton", "a", 3)),
        ])
        .await;
    let got: Vec<(RunStatus, Option<serde_json::Value>)> =
        runs.iter().map(|r| (r.status, r.output.clone())).collect();
    assert_eq!(
        got,
        [
            (RunStatus::Completed, Some(json!(1))),
            (RunStatus::Skipped, None),
            (RunStatus::Completed, Some(json!(3))),
        ]
    );
}

#[tokio::test]
async fn a_finish_timeout_cancels_the_run() {
    let outcome = TestEngine::new::<finish_timeout>()
        .run(Event::new("flow/finish-timeout", json!({})))
        .await;
    assert_eq!(outcome.status, RunStatus::Cancelled);
}

#[tokio::test]
async fn a_race_ends_with_its_first_branch() {
    let outcome = TestEngine::new::<racer>()
        .run(Event::new("flow/race", json!({})))
        .await;
    assert_eq!(outcome.output, Some(json!("the sleep won")));
}

#[tokio::test]
async fn waiting_starts_go_by_priority_and_a_start_timeout_cancels_the_last() {
    let events = [1, 2, 3, 4]
        .map(|n| (Duration::ZERO, keyed("flow/prioritized", "a", n)))
        .to_vec();
    let runs = TestEngine::new::<prioritized>().run_events(events).await;
    let got: Vec<(RunStatus, Option<serde_json::Value>, u64)> = runs
        .iter()
        .map(|r| (r.status, r.output.clone(), r.started_after.as_secs()))
        .collect();
    // One start a minute; the priority (`event.data.n` seconds) puts 4 before 2 and 3;
    // the last one waiting is past its 150 s start timeout.
    assert_eq!(
        got,
        [
            (RunStatus::Completed, Some(json!(1)), 0),
            (RunStatus::Cancelled, None, 0),
            (RunStatus::Completed, Some(json!(3)), 120),
            (RunStatus::Completed, Some(json!(4)), 60),
        ]
    );
}

#[tokio::test]
async fn a_failure_handler_can_be_tested_with_inngests_own_event() {
    let outcome = TestEngine::new::<crate::support::functions::all_failures>()
        .run(Event::new(
            "inngest/function.failed",
            json!({
                "function_id": "app-f", "run_id": "r",
                "error": {"name": "E", "message": "m"},
                "event": {"name": "app/x", "data": {}}
            }),
        ))
        .await;
    assert_eq!(outcome.status, RunStatus::Completed, "{outcome:?}");
    assert_eq!(outcome.output.unwrap()["event_name"], "app/x");
}
