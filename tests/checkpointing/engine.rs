//! The engine's side: its checkpoint API, and runs counted in call requests.

use std::time::Duration;

use inngest::engine::{Engine, EngineConfig, RunStatus, RunView};
use serde_json::{json, Value};

use crate::support::{self, Served};

fn find<'a>(runs: &'a [RunView], function_id: &str) -> &'a RunView {
    runs.iter()
        .find(|r| r.function_id == function_id)
        .unwrap_or_else(|| panic!("no run of {function_id} in {runs:?}"))
}

/// The embedded engine of an app with the test's functions.
fn embedded() -> Engine {
    let service = inngest::App::new("ck")
        .retry_interval(Duration::from_millis(20))
        .into_service()
        .unwrap();
    let engine = service.engine().expect("the embedded engine runs");
    // The engine holds the service weakly; keep it alive for the test.
    std::mem::forget(service);
    engine
}

#[tokio::test]
async fn a_ten_step_function_takes_one_call_with_checkpointing_and_eleven_without() {
    let engine = embedded();
    let runs = support::run_to_end(
        &engine,
        json!({"name": "ck/ten", "data": {}}),
        2,
        Duration::from_secs(20),
    )
    .await;
    let on = find(&runs, "ck-ten-steps");
    let off = find(&runs, "ck-ten-steps-classic");
    assert_eq!(
        (on.status, &on.output),
        (RunStatus::Completed, &Some(json!(45)))
    );
    assert_eq!(
        (off.status, &off.output),
        (RunStatus::Completed, &Some(json!(45)))
    );
    assert_eq!(engine.run_calls(&on.run_id), Some(1));
    assert_eq!(engine.run_calls(&off.run_id), Some(11));
    // The checkpointed steps are the run's steps, as if they had been answered one by one.
    let steps = |run: &RunView| -> Vec<(String, Option<Value>)> {
        engine
            .run_history(&run.run_id)
            .unwrap()
            .into_iter()
            .filter(|s| s.op == inngest::engine::Opcode::StepRun)
            .map(|s| (s.name, s.output))
            .collect()
    };
    assert_eq!(steps(on), steps(off));
    assert_eq!(steps(on).len(), 10);
}

#[tokio::test]
async fn a_sleep_a_retry_and_an_error_end_as_without_checkpointing() {
    let engine = embedded();
    let within = Duration::from_secs(20);
    let runs =
        support::run_to_end(&engine, json!({"name": "ck/sleep", "data": {}}), 1, within).await;
    let run = find(&runs, "ck-step-sleep");
    assert_eq!(run.output, Some(json!("ab")));
    // The step and the sleep in the first call, the last step and the end in the second.
    assert_eq!(engine.run_calls(&run.run_id), Some(2));
    let runs = support::run_to_end(
        &engine,
        json!({"name": "ck/then-fails", "data": {}}),
        1,
        within,
    )
    .await;
    let run = find(&runs, "ck-then-fails");
    assert_eq!(run.output, Some(json!("fine recovered")));
    // ok + flaky's error; flaky's retry (a classic answer: it is a retry); the end.
    assert_eq!(engine.run_calls(&run.run_id), Some(3));
    let runs =
        support::run_to_end(&engine, json!({"name": "ck/error", "data": {}}), 2, within).await;
    let run = find(&runs, "ck-step-then-error");
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.output.as_ref().unwrap()["message"], "gave up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_the_sdk_checkpoints_to_the_engine_it_was_synced_with() {
    let engine =
        Engine::start(EngineConfig::default().retry_interval(Duration::from_millis(20))).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let engine_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(inngest::engine::serve(
        engine.clone(),
        listener,
        std::future::pending(),
    ));
    let app = Served::start(inngest::App::new("ck").dev(engine_url.clone())).await;
    let res = app
        .client
        .put(app.url())
        .header("x-inngest-server-kind", "dev")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let runs = support::run_to_end(
        &engine,
        json!({"name": "ck/ten", "data": {}}),
        2,
        Duration::from_secs(20),
    )
    .await;
    let on = find(&runs, "ck-ten-steps");
    assert_eq!(on.output, Some(json!(45)));
    assert_eq!(engine.run_calls(&on.run_id), Some(1));
    let off = find(&runs, "ck-ten-steps-classic");
    assert_eq!(engine.run_calls(&off.run_id), Some(11));
}

#[tokio::test]
async fn the_checkpoint_api_refuses_what_the_server_refuses() {
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/v1/checkpoint/01NOPE/async",
        listener.local_addr().unwrap()
    );
    tokio::spawn(inngest::engine::serve(
        engine,
        listener,
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    let res = client
        .post(&url)
        .json(&json!({"run_id": "01NOPE", "fn_id": "x", "steps": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "run not found in state store", "data": {"run_id": "01NOPE"}, "status": 400})
    );
    let res = client.post(&url).body("{nope").send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid request body: "),
        "{body}"
    );
}
