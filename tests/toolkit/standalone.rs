//! The engine served on its own, in front of the JS peer and a Rust app.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use inngest::engine::{Engine, EngineConfig, Happening, RunStatus, RunView};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::support::peers;
use crate::support::Served;

/// A local stand-in for an API and a model provider: `POST /echo` answers what it got;
/// `POST /v1/chat/completions` answers as the request's `model` says (`good`: a completion,
/// `busy`: 429, `garbage`: a 200 that is not JSON). Records every request's path and
/// `authorization` header.
struct FakeProvider {
    origin: String,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl FakeProvider {
    async fn start() -> FakeProvider {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let record = record.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let record = record.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let auth = parts
                                .headers
                                .get("authorization")
                                .map(|v| v.to_str().unwrap().to_owned())
                                .unwrap_or_default();
                            record
                                .lock()
                                .unwrap()
                                .push((parts.uri.path().to_owned(), auth));
                            let body = body.collect().await.unwrap().to_bytes();
                            let request: Value =
                                serde_json::from_slice(&body).unwrap_or(Value::Null);
                            let (status, text) = match parts.uri.path() {
                                "/echo" => (
                                    200,
                                    json!({"got": request, "agent": parts.headers["user-agent"].to_str().unwrap()})
                                        .to_string(),
                                ),
                                _ => match request["model"].as_str() {
                                    Some("good") => (
                                        200,
                                        json!({"id": "c1", "choices": [{"index": 0,
                                            "message": {"role": "assistant", "content": "hello"}}]})
                                        .to_string(),
                                    ),
                                    Some("busy") => (429, r#"{"error":"rate limited"}"#.to_owned()),
                                    _ => (200, "<html>not json</html>".to_owned()),
                                },
                            };
                            let mut res = hyper::Response::new(Full::new(Bytes::from(text)));
                            *res.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                            res.headers_mut().insert(
                                "content-type",
                                hyper::header::HeaderValue::from_static("application/json"),
                            );
                            Ok::<_, std::convert::Infallible>(res)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        FakeProvider { origin, seen }
    }
}

/// The engine served on its own, as the Inngest dev server.
async fn standalone_engine() -> (Engine, String) {
    let engine = Engine::start(
        EngineConfig::default()
            .retry_interval(Duration::from_millis(50))
            .log_timeline(false),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(inngest::engine::serve(
        engine.clone(),
        listener,
        std::future::pending(),
    ));
    (engine, url)
}

/// Sends `event` and waits until `runs` runs of `function` (in any app) have ended; while
/// they run, answers each `peer-signal` run's wait with `POST /v1/signals` (404 until it
/// waits).
async fn run_to_end(
    engine: &Engine,
    engine_url: &str,
    event: Value,
    function: &str,
    runs: usize,
) -> Vec<RunView> {
    let mut happenings = engine.subscribe();
    engine.send(vec![event]).unwrap();
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut ended = Vec::new();
    while ended.len() < runs {
        let happening = tokio::time::timeout_at(deadline, happenings.recv())
            .await
            .unwrap_or_else(|_| panic!("{runs} runs end within 30 s; ended: {ended:?}"))
            .unwrap();
        match happening {
            Happening::RunStarted {
                run_id,
                function_id,
                ..
            } if function_id.ends_with("-peer-signal") => {
                let client = client.clone();
                let url = format!("{engine_url}/v1/signals");
                tokio::spawn(async move {
                    let body = json!({"signal": format!("peer-signal-{run_id}"), "data": {"value": "yes"}});
                    loop {
                        let res = client.post(&url).json(&body).send().await.unwrap();
                        match res.status().as_u16() {
                            200 => {
                                let answer: Value = res.json().await.unwrap();
                                assert_eq!(answer["data"], json!({"run_id": run_id}));
                                return;
                            }
                            404 => tokio::time::sleep(Duration::from_millis(20)).await,
                            other => panic!("POST /v1/signals answered {other}"),
                        }
                    }
                });
            }
            Happening::RunEnded {
                run_id,
                function_id,
                ..
            } if function_id.ends_with(&format!("-{function}")) => {
                ended.push(engine.run(&run_id).unwrap());
            }
            _ => {}
        }
    }
    ended
}

/// Each app's run of `function`: its status and output (a failure's name and message).
fn outcome(runs: &[RunView], app: &str, function: &str) -> Option<(RunStatus, Value)> {
    let run = runs
        .iter()
        .find(|r| r.function_id == format!("{app}-{function}"))?;
    let output = run.output.clone().unwrap_or(Value::Null);
    let output = match run.status {
        RunStatus::Failed => json!({"message": output["message"]}),
        _ => output,
    };
    Some((run.status, output))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_runs_js_and_rust_signals_fetches_and_inferences_to_the_same_ends() {
    let (engine, engine_url) = standalone_engine().await;
    let provider = FakeProvider::start().await;
    let js = peers::start(&peers::JS, &engine_url).await;
    let rust = Served::start(inngest::App::new("rust-app").dev(engine_url.clone())).await;
    let mut apps = vec![("rust-app", rust.url())];
    if let Some(js) = &js {
        apps.push(("peer-app", js.url()));
    }
    let client = reqwest::Client::new();
    for (_, url) in &apps {
        let res = client
            .put(url)
            .header("x-inngest-server-kind", "dev")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "sync of {url}");
    }
    let base = format!("{}/v1", provider.origin);
    let scenarios: Vec<(&str, Value, &str, (RunStatus, Value))> = vec![
        (
            "a signal",
            json!({"name": "test/peer-signal", "data": {}}),
            "peer-signal",
            (RunStatus::Completed, json!("got yes")),
        ),
        (
            "a fetch",
            json!({"name": "test/peer-fetch", "data": {"url": format!("{}/echo", provider.origin)}}),
            "peer-fetch",
            (
                RunStatus::Completed,
                json!({"status": 200, "body": {"got": {"n": 1}, "agent": "Inngest"}}),
            ),
        ),
        (
            "an inference",
            json!({"name": "test/peer-ai", "data": {"base_url": base, "model": "good"}}),
            "peer-ai",
            (RunStatus::Completed, json!("hello")),
        ),
        (
            "an inference rate limited on every attempt",
            json!({"name": "test/peer-ai", "data": {"base_url": base, "model": "busy"}}),
            "peer-ai",
            (
                RunStatus::Failed,
                json!({"message": "Error making AI request: unsuccessful status code: 429"}),
            ),
        ),
        (
            "an inference answered with a body that is not JSON",
            json!({"name": "test/peer-ai", "data": {"base_url": base, "model": "garbage"}}),
            "peer-ai",
            (
                RunStatus::Failed,
                json!({"message": format!(
                    "error wrapping ai result in map: {}",
                    serde_json::from_str::<Value>("<html>not json</html>").unwrap_err()
                )}),
            ),
        ),
    ];
    for (what, event, function, expected) in scenarios {
        let ended = run_to_end(&engine, &engine_url, event, function, apps.len()).await;
        for (app, _) in &apps {
            assert_eq!(
                outcome(&ended, app, function),
                Some(expected.clone()),
                "{what}: the run of {app}; all: {ended:?}"
            );
        }
    }
    // A fetch to a host that refuses connections: retried, then the step fails with a
    // GatewayError (unhandled here, it fails the run), the same for every app.
    let event = json!({"name": "test/peer-fetch", "data": {"url": "http://127.0.0.1:1/nothing"}});
    let ended = run_to_end(&engine, &engine_url, event, "peer-fetch", apps.len()).await;
    let first = outcome(&ended, apps[0].0, "peer-fetch").unwrap();
    assert_eq!(first.0, RunStatus::Failed);
    let message = first.1["message"].as_str().unwrap();
    assert!(
        message.starts_with("Error making gateway request: ") && message.contains("127.0.0.1:1"),
        "{message}"
    );
    for (app, _) in &apps {
        assert_eq!(
            outcome(&ended, app, "peer-fetch").as_ref(),
            Some(&first),
            "{app}"
        );
    }
    let seen = provider.seen.lock().unwrap().clone();
    let inferences: Vec<&(String, String)> = seen
        .iter()
        .filter(|(path, _)| path == "/v1/chat/completions")
        .collect();
    // Per app: one good call, two rate-limited attempts and two garbage ones (retries = 1).
    assert_eq!(inferences.len(), 5 * apps.len(), "{seen:?}");
    assert!(inferences.iter().all(|(_, auth)| auth == "Bearer sk-peer"));
}

#[tokio::test]
async fn post_v1_signals_answers_as_the_server() {
    let (_engine, engine_url) = standalone_engine().await;
    let client = reqwest::Client::new();
    let url = format!("{engine_url}/v1/signals");
    let res = client
        .post(&url)
        .json(&json!({"signal": "nobody-waits", "data": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "No signal found", "data": null, "status": 404})
    );
    for bad in ["not json", r#"{"signal": 5}"#, "[]"] {
        let res = client.post(&url).body(bad).send().await.unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({"error": "Invalid signal data", "data": null, "status": 400})
        );
    }
    let res = client
        .post(&url)
        .json(&json!({"signal": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "Failed to receive signal"
    );
}
