//! Compatibility with real peers: the engine, served on its own like the Inngest dev server,
//! runs the same functions from the official TypeScript SDK, the official Python SDK and the
//! Rust SDK, each app registered over HTTP exactly as with the dev server
//! (`INNGEST_DEV=<engine URL>`, then a PUT to the app). The runs must end with the same
//! statuses and outputs, and the failure handlers must receive the failure event. The
//! TypeScript and Rust SDKs checkpoint (their default) and take fewer call requests.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use inngest::engine::{Engine, EngineConfig, RunStatus, RunView};
use serde_json::{json, Value};
use support::peers::{self, Peer};
use support::Served;

async fn run_to_end(engine: &Engine, event: Value, runs: usize) -> Vec<RunView> {
    support::run_to_end(engine, event, runs, Duration::from_secs(30)).await
}

/// The runs by function id without its app prefix, with the app id in outputs replaced by
/// `<app>`, so the runs of the JS, Python and Rust apps can be compared.
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

/// What is sent, how many runs end per app, and how each function's runs must end.
type Scenario = (
    &'static str,
    Value,
    usize,
    Vec<(&'static str, RunStatus, Value)>,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_runs_js_python_and_rust_functions_to_the_same_ends() {
    let engine = Engine::start(
        EngineConfig::default()
            .retry_interval(Duration::from_millis(50))
            .max_finished_runs(1000),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let engine_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(inngest::engine::serve(
        engine.clone(),
        listener,
        std::future::pending(),
    ));

    // Each peer is skipped when it cannot be installed or started (unless
    // INNGEST_REQUIRE_PEERS=1); with none, there is nothing to compare the Rust app with.
    let (js, py) = tokio::join!(
        peers::start(&peers::JS, &engine_url),
        peers::start(&peers::PY, &engine_url)
    );
    let started: Vec<(&str, &str, Peer)> = [("JS", "peer-app", js), ("Python", "py-app", py)]
        .into_iter()
        .filter_map(|(sdk, app, peer)| Some((sdk, app, peer?)))
        .collect();
    if started.is_empty() {
        return;
    }
    let rust = Served::start(inngest::App::new("rust-app").dev(engine_url.clone())).await;
    let mut apps: Vec<(&str, &str, String)> = started
        .iter()
        .map(|(sdk, app, peer)| (*sdk, *app, peer.url()))
        .collect();
    apps.push(("Rust", "rust-app", rust.url()));
    let client = reqwest::Client::new();
    for (_, _, url) in &apps {
        let res = client
            .put(url)
            .header("x-inngest-server-kind", "dev")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "sync of {url}");
    }
    let ids = engine.function_ids();
    for (sdk, app, _) in &apps {
        for function in [
            "two-steps",
            "with-failure",
            "with-failure-failure",
            "peer-child",
        ] {
            assert!(
                ids.contains(&format!("{app}-{function}")),
                "the {sdk} app registered {function}: {ids:?}"
            );
        }
    }

    let scenarios: Vec<Scenario> = vec![
        (
            "two run steps",
            json!({"name": "test/steps", "data": {}}),
            1,
            vec![(
                "two-steps",
                RunStatus::Completed,
                json!({"a": "one", "b": "one-two"}),
            )],
        ),
        (
            "a sleep",
            json!({"name": "test/engine-sleep", "data": {}}),
            1,
            vec![("engine-sleep", RunStatus::Completed, json!("rested"))],
        ),
        (
            "a retriable error that succeeds on the second attempt",
            json!({"name": "test/engine-flaky", "data": {}}),
            1,
            vec![("engine-flaky", RunStatus::Completed, json!("recovered"))],
        ),
        // Per app: the failure, its failure handler, and a run of the Rust app's
        // `all-failures` function (triggered by every inngest/function.failed).
        (
            "a NonRetriableError with a failure handler",
            json!({"name": "test/fails", "data": {}}),
            3,
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
        // Per app: the invoker and the invoked child.
        (
            "an invoke",
            json!({"name": "test/peer-invoke", "data": {}}),
            2,
            vec![
                ("peer-invoke", RunStatus::Completed, json!(42)),
                ("peer-child", RunStatus::Completed, json!(42)),
            ],
        ),
    ];
    for (what, event, runs_per_app, expected) in scenarios {
        let ended = run_to_end(&engine, event, runs_per_app * apps.len()).await;
        if what == "two run steps" {
            // The TypeScript and Rust SDKs checkpoint (on by default): the two steps and the
            // end in one call request. Python does not: one call per step, then the end.
            for (sdk, app, _) in &apps {
                let run = ended
                    .iter()
                    .find(|r| r.function_id == format!("{app}-two-steps"))
                    .unwrap();
                let calls = if *sdk == "Python" { 3 } else { 1 };
                assert_eq!(
                    engine.run_calls(&run.run_id),
                    Some(calls),
                    "{what}: the {sdk} run's call requests"
                );
            }
        }
        for (sdk, app, _) in &apps {
            let runs = by_function(&ended, app);
            for (function, status, output) in &expected {
                let want = (*status, output.clone());
                assert_eq!(
                    runs.get(*function),
                    Some(&want),
                    "{what}: the {sdk} run of {function}; all: {ended:?}"
                );
            }
        }
    }
}
