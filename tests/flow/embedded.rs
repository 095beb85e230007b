//! The embedded engine over HTTP, on real time: overlap under a concurrency limit, the event
//! API's checks, the validation at sync, and a race that ends in about a second.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::Served;

async fn served() -> Served {
    Served::start(inngest::App::new("flow").retry_interval(Duration::from_millis(20))).await
}

/// Sends events over `POST /e` and returns their ids.
async fn send(s: &Served, events: Value) -> Vec<String> {
    let res = s
        .client
        .post(format!("http://{}/e/key", s.addr))
        .json(&events)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

/// Waits (with a deadline) until the event's run has ended, through `GET /v1/events/{id}/runs`.
pub async fn ended_run(s: &Served, event_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let runs: Value = s
            .client
            .get(format!("http://{}/v1/events/{event_id}/runs", s.addr))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(run) = runs["data"]
            .as_array()
            .and_then(|r| r.first())
            .filter(|r| !matches!(r["status"].as_str(), Some("Running" | "Queued")))
        {
            return run.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the run of {event_id} ends within 30 s: {runs}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_one_never_overlaps_steps_on_real_time() {
    let s = served().await;
    let events: Vec<Value> = (0..3)
        .map(|_| json!({"name": "flow/one-at-a-time", "data": {"ms": 150}}))
        .collect();
    let ids = send(&s, json!(events)).await;
    let mut spans = Vec::new();
    for id in &ids {
        let run = ended_run(&s, id).await;
        assert_eq!(run["status"], "Completed", "{run}");
        spans.push((
            run["output"]["start"].as_u64().unwrap(),
            run["output"]["end"].as_u64().unwrap(),
        ));
    }
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "steps overlap: {spans:?}");
    }
}

#[tokio::test]
async fn post_e_refuses_reserved_names_and_returns_the_engines_ids() {
    let s = served().await;
    let base = format!("http://{}", s.addr);
    let res = s
        .client
        .post(format!("{base}/e/key"))
        .json(&json!([
            {"name": "flow/ok", "id": "my-id", "data": {}},
            {"name": "inngest/function.failed", "data": {"function_id": "x"}}
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], 400);
    assert_eq!(
        body["error"],
        "event name is reserved for internal use: inngest/function.failed"
    );
    let ids = body["ids"].as_array().unwrap();
    assert_eq!(
        ids.len(),
        1,
        "the event before the refused one was received"
    );
    assert_ne!(ids[0], "my-id", "the engine's own id");
    assert_eq!(ids[0].as_str().unwrap().len(), 26);
    let many: Vec<Value> = (0..5001).map(|_| json!({"name": "flow/ok"})).collect();
    let res = s
        .client
        .post(format!("{base}/e/key"))
        .json(&many)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"],
        "Cannot have more than 5000 events in a batch"
    );
}

#[tokio::test]
async fn an_invalid_function_is_refused_at_sync_with_the_servers_message() {
    let s = served().await;
    let payload = json!({"appName": "bad-app", "url": "http://127.0.0.1:1/api", "functions": [{
        "id": "bad-app-f", "name": "f", "triggers": [{"event": "x", "expression": "event.data.a =="}],
        "debounce": {"period": "0s"},
        "steps": {"step": {"id": "step", "name": "step", "runtime": {"type": "http", "url": "http://127.0.0.1:1/api?fnId=bad-app-f&stepId=step"}}}
    }]});
    // Posts a sync body; the status and the JSON answer.
    let sync = |body: String| async {
        let res = s
            .client
            .post(format!("http://{}/fn/register", s.addr))
            .body(body)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json::<Value>().await.unwrap())
    };
    let (status, body) = sync(payload.to_string()).await;
    assert_eq!(status, 400);
    let error = body["error"].as_str().unwrap();
    assert!(
        error.starts_with(
            "At least one function is invalid: bad-app-f: invalid trigger expression on 'x': "
        ),
        "{error}"
    );
    assert!(
        error.ends_with("The debounce period of '0s' is less than the min of: 1s"),
        "{error}"
    );
    // The dev server's public error: the message, no data, the status.
    assert_eq!(body, json!({"error": error, "data": null, "status": 400}));
    // A payload it cannot read is `{"error"}` alone, as the dev server answers it.
    let (status, body) = sync("{not json".to_owned()).await;
    assert_eq!(status, 400);
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with("Invalid request: "), "{error}");
    assert_eq!(body, json!({"error": error}));
}

#[tokio::test]
async fn a_race_of_a_second_against_a_week_ends_in_about_a_second() {
    let s = served().await;
    let start = Instant::now();
    let ids = send(&s, json!({"name": "flow/race", "data": {}})).await;
    let run = ended_run(&s, &ids[0]).await;
    assert_eq!(run["status"], "Completed");
    assert_eq!(run["output"], "the sleep won");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_request_sent_again_with_its_event_id_seed_starts_nothing_twice() {
    let s = served().await;
    let post = || {
        s.client
            .post(format!("http://{}/e/key", s.addr))
            .header("x-inngest-event-id-seed", "1743130137367,eii2YKXRVTJPuA==")
            .json(&json!([{"name": "flow/idempotent", "data": {"user": "seeded", "n": 1}}]))
            .send()
    };
    let first: Value = post().await.unwrap().json().await.unwrap();
    let again: Value = post().await.unwrap().json().await.unwrap();
    assert_eq!(
        first["ids"], again["ids"],
        "the same ids for the same request"
    );
    let run = ended_run(&s, first["ids"][0].as_str().unwrap()).await;
    assert_eq!(run["status"], "Completed");
    let runs: Value = s
        .client
        .get(format!(
            "http://{}/v1/events/{}/runs",
            s.addr,
            first["ids"][0].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["data"].as_array().unwrap().len(), 1, "one run: {runs}");
}

/// The runs of events, once each has one that ended, through the REST API.
async fn ended_runs(s: &Served, ids: &[String]) -> Vec<Value> {
    let mut runs = Vec::new();
    for id in ids {
        runs.push(ended_run(s, id).await);
    }
    runs
}

#[tokio::test]
async fn over_http_a_debounce_runs_once_with_the_last_event() {
    let s = served().await;
    let ids = send(
        &s,
        json!([
            {"name": "flow/quick-debounce", "data": {"user": "a", "n": 1}},
            {"name": "flow/quick-debounce", "data": {"user": "a", "n": 2}}
        ]),
    )
    .await;
    let run = ended_run(&s, &ids[1]).await;
    assert_eq!(run["output"], 2);
    let first: Value = s
        .client
        .get(format!("http://{}/v1/events/{}/runs", s.addr, ids[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["data"], json!([]), "the first event started no run");
}

#[tokio::test]
async fn over_http_a_throttle_spaces_starts() {
    let s = served().await;
    let ids = send(
        &s,
        json!([{"name": "flow/quick-throttle"}, {"name": "flow/quick-throttle"}]),
    )
    .await;
    let runs = ended_runs(&s, &ids).await;
    let mut starts: Vec<u64> = runs.iter().map(|r| r["output"].as_u64().unwrap()).collect();
    starts.sort();
    assert!(starts[1] - starts[0] >= 900, "a second apart: {starts:?}");
}

#[tokio::test]
async fn over_http_batches_and_rate_limits() {
    let s = served().await;
    let ids = send(
        &s,
        json!([
            {"name": "flow/quick-batch", "data": {"user": "a", "n": 1}},
            {"name": "flow/quick-batch", "data": {"user": "a", "n": 2}},
            {"name": "flow/quick-batch", "data": {"user": "a", "n": 3}},
            {"name": "flow/rate-limited", "data": {"user": "http", "n": 1}},
            {"name": "flow/rate-limited", "data": {"user": "http", "n": 2}}
        ]),
    )
    .await;
    let runs = ended_runs(&s, &ids).await;
    assert_eq!(runs[0]["output"], json!([1, 2]));
    assert_eq!(runs[2]["output"], json!([3]), "cut by its 1 s timeout");
    assert_eq!(runs[3]["status"], "Completed");
    assert_eq!(runs[4]["status"], "Skipped");
}

#[tokio::test]
async fn over_http_a_finish_timeout_cancels_and_wildcards_trigger() {
    let s = served().await;
    let ids = send(
        &s,
        json!([{"name": "flow/quick-timeout"}, {"name": "flow/wild.card"}]),
    )
    .await;
    let runs = ended_runs(&s, &ids).await;
    assert_eq!(runs[0]["status"], "Cancelled");
    assert_eq!(runs[1]["output"], "flow/wild.card");
}

#[tokio::test]
async fn a_call_to_an_app_that_never_answers_is_cut_at_the_call_timeout() {
    use inngest::engine::{Engine, EngineConfig, RunStatus};
    // An app that accepts connections and never answers.
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", hanging.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hanging.accept().await {
            held.push(socket);
        }
    });
    let engine = Engine::start(
        EngineConfig::default()
            .call_timeout(Duration::from_millis(300))
            .retry_interval(Duration::from_millis(10))
            .log_timeline(false),
    )
    .unwrap();
    let request = serde_json::from_value(json!({"appName": "hang", "url": url, "functions": [{
        "id": "hang-f", "name": "f", "triggers": [{"event": "hang/go"}],
        "steps": {"step": {"id": "step", "name": "step",
            "runtime": {"type": "http", "url": format!("{url}?fnId=hang-f&stepId=step")},
            "retries": {"attempts": 1}}}
    }]}))
    .unwrap();
    engine.register_http(&request).unwrap();
    let start = Instant::now();
    let ids = engine.send(vec![json!({"name": "hang/go"})]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let run = loop {
        let run = engine.runs_for_event(&ids[0]).pop();
        if let Some(run) = run.filter(|r| r.status == RunStatus::Failed) {
            break run;
        }
        assert!(Instant::now() < deadline, "the run fails within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let message = run.output.unwrap()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("timed out"), "{message}");
    assert!(
        start.elapsed() >= Duration::from_millis(600),
        "two attempts of 300 ms"
    );
}
