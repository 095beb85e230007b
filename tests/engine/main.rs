//! The embedded engine runs functions for real, in-process: steps, retries with backoff, a
//! failure, `inngest/function.failed` and the failure handler, sleeps, waits, invokes,
//! parallel steps, cancellation, and the dev server's HTTP surface.

#[path = "../support/mod.rs"]
mod support;

mod functions;

use std::time::Duration;

use functions::*;
use inngest::engine::{Engine, EngineConfig, Happening, Opcode, RunStatus, RunView};
use serde_json::{json, Value};

fn engine() -> Engine {
    let service = inngest::App::new("eng")
        .retry_interval(Duration::from_millis(20))
        .into_service()
        .unwrap();
    let engine = service
        .engine()
        .expect("no INNGEST_DEV: the embedded engine runs");
    // The engine holds the service weakly; keep it alive for the test.
    std::mem::forget(service);
    engine
}

async fn run_to_end(engine: &Engine, event: Value, runs: usize) -> Vec<RunView> {
    support::run_to_end(engine, event, runs, Duration::from_secs(20)).await
}

fn find<'a>(runs: &'a [RunView], function_id: &str) -> &'a RunView {
    runs.iter()
        .find(|r| r.function_id == function_id)
        .unwrap_or_else(|| panic!("no run of {function_id} in {runs:?}"))
}

#[tokio::test]
async fn a_function_with_a_step_completes() {
    let e = engine();
    let runs = run_to_end(
        &e,
        json!({"name": "eng/signup", "data": {"user_id": "42", "plan": "pro"}}),
        1,
    )
    .await;
    let run = find(&runs, "eng-welcome");
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.output, Some(json!("welcomed user-42")));
}

#[tokio::test]
async fn a_non_retriable_failure_runs_the_failure_handler_with_the_failure_event() {
    let e = engine();
    let runs = run_to_end(
        &e,
        json!({"name": "eng/signup", "data": {"user_id": "7", "plan": "banned"}}),
        3,
    )
    .await;
    let failed = find(&runs, "eng-welcome");
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(failed.output.as_ref().unwrap()["name"], "NonRetriableError");
    let handler = find(&runs, "eng-welcome-failure");
    assert_eq!(handler.status, RunStatus::Completed);
    assert_eq!(
        handler.output,
        Some(json!(
            "eng-welcome failed for 7: banned users get no welcome"
        ))
    );
    // `all-failures` (tests/support/functions.rs) is triggered by every inngest/function.failed.
    let all = find(&runs, "eng-all-failures");
    assert_eq!(all.output.as_ref().unwrap()["function_id"], "eng-welcome");
    assert_eq!(all.output.as_ref().unwrap()["error"], "NonRetriableError");
}

#[tokio::test]
async fn a_retriable_error_is_retried_with_backoff_and_then_succeeds() {
    let e = engine();
    let mut happenings = e.subscribe();
    let runs = run_to_end(&e, json!({"name": "eng/flaky", "data": {}}), 1).await;
    let run = find(&runs, "eng-flaky");
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    assert_eq!(run.output, Some(json!(1)));
    let mut retries = Vec::new();
    while let Ok(h) = happenings.try_recv() {
        if let Happening::Retrying {
            attempt,
            delay,
            error,
            ..
        } = h
        {
            retries.push((attempt, delay, error));
        }
    }
    assert_eq!(
        retries,
        vec![(
            0,
            Duration::from_millis(20),
            "the mail server timed out".to_owned()
        )]
    );
}

#[tokio::test]
async fn sleeps_resume_on_their_timer() {
    let e = engine();
    let runs = run_to_end(&e, json!({"name": "eng/nap", "data": {}}), 1).await;
    assert_eq!(find(&runs, "eng-napper").output, Some(json!("rested")));
}

#[tokio::test]
async fn a_wait_resumes_with_the_matching_event_or_times_out() {
    let e = engine();
    let mut happenings = e.subscribe();
    e.send(vec![json!({"name": "eng/order", "data": {"order": "o-1"}})])
        .unwrap();
    // Wait until the run is paused on its wait, then send a non-matching and a matching event.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let h = tokio::time::timeout_at(deadline, happenings.recv())
            .await
            .unwrap()
            .unwrap();
        if matches!(
            &h,
            Happening::Step {
                op: Opcode::WaitForEvent,
                ..
            }
        ) {
            break;
        }
    }
    e.send(vec![
        json!({"name": "eng/paid", "data": {"order": "o-2", "amount": 1}}),
    ])
    .unwrap();
    let runs = run_to_end(
        &e,
        json!({"name": "eng/paid", "data": {"order": "o-1", "amount": 30}}),
        1,
    )
    .await;
    assert_eq!(find(&runs, "eng-waiter").output, Some(json!("paid 30")));

    let runs = run_to_end(
        &e,
        json!({"name": "eng/order", "data": {"order": "o-3", "wait_ms": 30}}),
        1,
    )
    .await;
    assert_eq!(find(&runs, "eng-waiter").output, Some(json!("timed out")));
}

#[tokio::test]
async fn invoke_runs_the_target_and_returns_its_output() {
    let e = engine();
    let runs = run_to_end(&e, json!({"name": "eng/invoke", "data": {}}), 2).await;
    assert_eq!(find(&runs, "eng-doubler").output, Some(json!(42)));
    assert_eq!(find(&runs, "eng-invoker").output, Some(json!(43)));
}

#[tokio::test]
async fn parallel_steps_run_and_coalesce() {
    let e = engine();
    let runs = run_to_end(&e, json!({"name": "eng/fan", "data": {}}), 1).await;
    assert_eq!(find(&runs, "eng-fan").output, Some(json!(10)));
}

#[tokio::test]
async fn a_cancelled_run_stops_and_emits_function_cancelled() {
    let e = engine();
    let mut happenings = e.subscribe();
    e.send(vec![json!({"name": "eng/long-nap", "data": {}})])
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let run_id = loop {
        let h = tokio::time::timeout_at(deadline, happenings.recv())
            .await
            .unwrap()
            .unwrap();
        if let Happening::Step {
            run_id,
            op: Opcode::Sleep,
            ..
        } = h
        {
            break run_id;
        }
    };
    assert!(e.cancel(&run_id));
    assert_eq!(e.run(&run_id).unwrap().status, RunStatus::Cancelled);
    assert!(!e.cancel(&run_id), "already cancelled");
    let mut names = Vec::new();
    while names.len() < 2 {
        let h = tokio::time::timeout_at(deadline, happenings.recv())
            .await
            .unwrap()
            .unwrap();
        if let Happening::Event { name, .. } = h {
            names.push(name);
        }
    }
    // The server's order: `finished` first, then `cancelled`.
    assert_eq!(
        names,
        vec!["inngest/function.finished", "inngest/function.cancelled"]
    );
}

#[tokio::test]
async fn the_dev_server_surface_accepts_events_and_shows_runs() {
    let served =
        support::Served::start(inngest::App::new("eng").retry_interval(Duration::from_millis(20)))
            .await;
    let base = format!("http://{}", served.addr);
    let health = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    let res = served
        .client
        .post(format!("{base}/e/any-key"))
        .json(&json!([{"name": "eng/signup", "data": {"user_id": "9", "plan": "pro"}}]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], 200);
    let event_id = body["ids"][0].as_str().unwrap().to_owned();
    // Wait (with a deadline) for the run to complete, through the REST API.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let run = loop {
        let runs: Value = reqwest::get(format!("{base}/v1/events/{event_id}/runs"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let done = runs["data"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["status"] == "Completed").cloned());
        if let Some(run) = done {
            break run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run completes within 20 s: {runs}"
        );
        tokio::task::yield_now().await;
    };
    assert_eq!(run["output"], "welcomed user-9");
    assert_eq!(run["event_id"], event_id.as_str());
    let one: Value = reqwest::get(format!(
        "{base}/v1/runs/{}",
        run["run_id"].as_str().unwrap()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(one["data"]["status"], "Completed");
    let bad = served
        .client
        .post(format!("{base}/e/k"))
        .body("[1]")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test(start_paused = true)]
async fn cron_triggers_fire_on_schedule() {
    let e = Engine::start(EngineConfig::default()).unwrap();
    let service = inngest::App::new("cron")
        .register::<ticker>()
        .dev("http://127.0.0.1:9")
        .into_service()
        .unwrap();
    let mut happenings = e.subscribe();
    service.register_with(&e).unwrap();
    // Paused time moves to the next minute as soon as everything waits.
    let ended = loop {
        let h = tokio::time::timeout(Duration::from_secs(120), happenings.recv())
            .await
            .unwrap()
            .unwrap();
        if let Happening::RunEnded { run_id, .. } = h {
            break e.run(&run_id).unwrap();
        }
    };
    assert_eq!(ended.function_id, "cron-ticker");
    assert_eq!(
        ended.output,
        Some(json!({"event": "inngest/scheduled.timer", "cron": "* * * * *"}))
    );
}

#[tokio::test]
async fn finished_runs_are_bounded() {
    let e = Engine::start(EngineConfig::default().max_finished_runs(3)).unwrap();
    let service = inngest::App::new("bounded")
        .register::<doubler>()
        .dev("http://127.0.0.1:9")
        .into_service()
        .unwrap();
    service.register_with(&e).unwrap();
    for qty in 0..10 {
        let runs = run_to_end(&e, json!({"name": "eng/double", "data": {"qty": qty}}), 1).await;
        assert_eq!(runs[0].output, Some(json!(qty * 2)));
    }
    assert_eq!(e.runs_kept(), 3, "only the last 3 finished runs are kept");
}

#[tokio::test]
async fn calls_to_apps_registered_over_http_are_signed() {
    const KEY: &str = "signkey-test-00112233445566778899aabbccddeeff";
    let e = Engine::start(EngineConfig::default().signing_key(KEY)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let engine_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(inngest::engine::serve(
        e.clone(),
        listener,
        std::future::pending(),
    ));
    // A cloud-mode app refuses anything unsigned, so the run completing proves the signatures.
    let app = support::Served::start(
        inngest::App::new("signed")
            .register::<doubler>()
            .signing_key(KEY)
            .base_url(engine_url.clone()),
    )
    .await;
    let payload = json!({"appName": "signed", "url": app.url(), "functions": [{
        "id": "signed-doubler", "name": "doubler", "triggers": [{"event": "eng/double"}],
        "steps": {"step": {"id": "step", "name": "step", "runtime": {"type": "http", "url": format!("{}?fnId=signed-doubler&stepId=step", app.url())}}},
    }]});
    // With a signing key the engine's API requires it, as the SDKs send it.
    let res = reqwest::Client::new()
        .post(format!("{engine_url}/fn/register"))
        .bearer_auth(KEY)
        .json(&payload)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let runs = run_to_end(&e, json!({"name": "eng/double", "data": {"qty": 4}}), 1).await;
    assert_eq!(runs[0].status, RunStatus::Completed, "{runs:?}");
    assert_eq!(runs[0].output, Some(json!(8)));
}

#[tokio::test]
async fn delete_v1_runs_cancels_a_run_over_http() {
    let served =
        support::Served::start(inngest::App::new("eng").retry_interval(Duration::from_millis(20)))
            .await;
    let base = format!("http://{}", served.addr);
    let client = &served.client;
    let sent: Value = client
        .post(format!("{base}/e/k"))
        .json(&json!({"name": "eng/long-nap", "data": {}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event_id = sent["ids"][0].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let run_id = loop {
        let runs: Value = reqwest::get(format!("{base}/v1/events/{event_id}/runs"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(id) = runs["data"][0]["run_id"].as_str() {
            break id.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run starts within 20 s"
        );
        tokio::task::yield_now().await;
    };
    let res = client
        .delete(format!("{base}/v1/runs/{run_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let run: Value = reqwest::get(format!("{base}/v1/runs/{run_id}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(run["data"]["status"], "Cancelled");
    let again = client
        .delete(format!("{base}/v1/runs/{run_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404, "only running runs can be cancelled");
    let missing = reqwest::get(format!("{base}/v1/runs/nope")).await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn cancel_on_events_cancel_matching_runs_and_run_the_cancel_handler() {
    let e = engine();
    let mut happenings = e.subscribe();
    let placed = e
        .send(vec![
            json!({"name": "eng/order.placed", "data": {"order": "o-1"}}),
            json!({"name": "eng/order.placed", "data": {"order": "o-2"}}),
        ])
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut sleeping = 0;
    while sleeping < 2 {
        let h = tokio::time::timeout_at(deadline, happenings.recv())
            .await
            .unwrap()
            .unwrap();
        if matches!(
            &h,
            Happening::Step {
                op: Opcode::Sleep,
                ..
            }
        ) {
            sleeping += 1;
        }
    }
    // Cancels the run for o-1 only; its cancel handler then runs.
    let runs = run_to_end(
        &e,
        json!({"name": "eng/order.cancelled", "data": {"order": "o-1"}}),
        2,
    )
    .await;
    let cancelled = find(&runs, "eng-cancellable");
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    let handler = find(&runs, "eng-cancellable-cancel");
    assert_eq!(
        handler.output,
        Some(json!("eng-cancellable cancelled for order \"o-1\""))
    );
    let other = e.runs_for_event(&placed[1]);
    assert_eq!(
        other[0].status,
        RunStatus::Running,
        "the run for o-2 goes on"
    );
}

#[test]
fn the_mode_is_chosen_by_the_app_or_its_environment() {
    let build = |app: inngest::App| app.into_service().unwrap();
    // A signing key means cloud mode: no engine.
    let cloud = build(
        inngest::App::new("modes")
            .register::<welcome>()
            .signing_key("signkey-prod-00"),
    );
    assert!(cloud.engine().is_none());
    // `embedded()` runs the engine on purpose, even with a signing key set.
    let chosen = build(
        inngest::App::new("modes")
            .register::<welcome>()
            .signing_key("signkey-prod-00")
            .embedded(),
    );
    assert!(chosen.engine().is_some());
    // `INNGEST_DEV=embedded`, from code.
    let dev_embedded = build(
        inngest::App::new("modes")
            .register::<welcome>()
            .dev("embedded"),
    );
    assert_eq!(
        dev_embedded.engine().unwrap().function_ids(),
        ["modes-welcome"]
    );
    // A dev server URL: no engine.
    assert!(build(
        inngest::App::new("modes")
            .register::<welcome>()
            .dev("http://127.0.0.1:9")
    )
    .engine()
    .is_none());
}
