//! Compatibility with real peers: the engine, served on its own like the Inngest dev server,
//! runs the same functions from the official TypeScript SDK and from the Rust SDK, each app
//! registered over HTTP exactly as with the dev server (`INNGEST_DEV=<engine URL>`, then a
//! PUT to the app). The runs must end with the same statuses and outputs, and the failure
//! handlers must receive the failure event.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use inngest::dev::{Engine, EngineConfig, Happening, RunStatus, RunView};
use serde_json::{json, Value};
use support::peers::start_peer_with;
use support::Served;

async fn run_to_end(engine: &Engine, event: Value, runs: usize) -> Vec<RunView> {
    let mut happenings = engine.subscribe();
    engine.send(vec![event]);
    let mut ended = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while ended.len() < runs {
        let h = tokio::time::timeout_at(deadline, happenings.recv())
            .await
            .unwrap_or_else(|_| panic!("{runs} runs end within 30 s; ended: {ended:?}"))
            .unwrap();
        if let Happening::RunEnded { run_id, .. } = h {
            ended.push(engine.run(&run_id).unwrap());
        }
    }
    ended
}

/// The runs by function id without its app prefix, with the app id in outputs replaced by
/// `<app>`, so the JS and Rust runs can be compared.
fn by_function(runs: &[RunView], app: &str) -> BTreeMap<String, (RunStatus, Value)> {
    runs.iter()
        .filter_map(|r| {
            let name = r.function_id.strip_prefix(&format!("{app}-"))?;
            let output = r.output.clone().unwrap_or(Value::Null);
            let output = match (r.status, &output) {
                (RunStatus::Failed, o) => json!({"name": o["name"], "message": o["message"]}),
                (_, Value::String(s)) => Value::String(s.replace(app, "<app>")),
                _ => output,
            };
            Some((name.to_owned(), (r.status, output)))
        })
        .collect()
}

/// What is sent, how many runs end, and how each function's runs must end.
type Scenario = (&'static str, Value, usize, Vec<(&'static str, RunStatus, Value)>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_runs_js_and_rust_functions_to_the_same_ends() {
    let engine = Engine::new(EngineConfig {
        retry_interval: Some(Duration::from_millis(50)),
        max_finished_runs: 1000,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let engine_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(inngest::dev::serve_engine(
        engine.clone(),
        listener,
        std::future::pending(),
    ));

    let Some(peer) = start_peer_with(&engine_url).await else {
        return;
    };
    let rust = Served::start(inngest::App::new("rust-app").dev(engine_url.clone())).await;
    let client = reqwest::Client::new();
    for url in [
        format!("http://127.0.0.1:{}/api/inngest", peer.port),
        rust.url(),
    ] {
        let res = client
            .put(&url)
            .header("x-inngest-server-kind", "dev")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "sync of {url}");
    }
    let ids = engine.function_ids();
    assert!(
        ids.contains(&"peer-app-two-steps".to_owned())
            && ids.contains(&"rust-app-two-steps".to_owned()),
        "{ids:?}"
    );

    let scenarios: Vec<Scenario> = vec![
        (
            "two run steps",
            json!({"name": "test/steps", "data": {}}),
            2,
            vec![(
                "two-steps",
                RunStatus::Completed,
                json!({"a": "one", "b": "one-two"}),
            )],
        ),
        (
            "a sleep",
            json!({"name": "test/engine-sleep", "data": {}}),
            2,
            vec![("engine-sleep", RunStatus::Completed, json!("rested"))],
        ),
        (
            "a retriable error that succeeds on the second attempt",
            json!({"name": "test/engine-flaky", "data": {}}),
            2,
            vec![("engine-flaky", RunStatus::Completed, json!("recovered"))],
        ),
        // JS and Rust failures, their two failure handlers, and the Rust app's `all-failures`
        // function (triggered by every inngest/function.failed) twice.
        (
            "a NonRetriableError with a failure handler",
            json!({"name": "test/fails", "data": {}}),
            6,
            vec![
                (
                    "with-failure",
                    RunStatus::Failed,
                    json!({"name": "NonRetriableError", "message": "boom"}),
                ),
                (
                    "with-failure-failure",
                    RunStatus::Completed,
                    json!("<app>-with-failure failed: boom (notified <app>-with-failure)"),
                ),
            ],
        ),
        (
            "an invoke",
            json!({"name": "test/peer-invoke", "data": {}}),
            4,
            vec![
                ("peer-invoke", RunStatus::Completed, json!(42)),
                ("peer-child", RunStatus::Completed, json!(42)),
            ],
        ),
    ];
    for (what, event, runs, expected) in scenarios {
        let ended = run_to_end(&engine, event, runs).await;
        let js = by_function(&ended, "peer-app");
        let rs = by_function(&ended, "rust-app");
        for (function, status, output) in &expected {
            let want = (*status, output.clone());
            assert_eq!(
                js.get(*function),
                Some(&want),
                "{what}: the JS run of {function}; all: {ended:?}"
            );
            assert_eq!(
                rs.get(*function),
                Some(&want),
                "{what}: the Rust run of {function}; all: {ended:?}"
            );
        }
    }
}
