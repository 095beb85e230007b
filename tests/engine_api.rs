//! The engine's dev server API over HTTP, as tools written for the dev server use it: events
//! up to a bad one, seeded ids, the answer before any call, GraphQL runs, traces, outputs and
//! events, the `/v1` REST API, bulk cancellations, the core API of `use_api`, removing an
//! app, invoking a function, and the keys.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use inngest::engine::{Engine, EngineConfig, Happening};
use inngest::{Context, Error, NonRetriableError};
use serde_json::{json, Value};

static FLAKY: AtomicU32 = AtomicU32::new(0);

#[derive(Debug, thiserror::Error)]
#[error("upstream timed out")]
struct Upstream;

#[inngest::function(id = "order", event = "api/order", retries = 2)]
async fn order(ctx: Context) -> Result<String, Error> {
    let a: String = ctx
        .step
        .run("fetch", || async {
            if FLAKY.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(Upstream.into());
            }
            Ok("fetched".to_owned())
        })
        .await?;
    if ctx.event.data["fail"] == json!(true) {
        return Err(NonRetriableError::new("no stock").into());
    }
    Ok(format!("{a} and done"))
}

#[inngest::function(id = "nap", event = "api/nap")]
async fn nap(ctx: Context) -> Result<String, Error> {
    ctx.step
        .sleep("long-nap", Duration::from_secs(3600))
        .await?;
    Ok("rested".to_owned())
}

#[inngest::function(id = "big", event = "api/big")]
async fn big(ctx: Context) -> Result<usize, Error> {
    let a: String = ctx
        .step
        .run("a", || async { Ok("a".repeat(2_500_000)) })
        .await?;
    let b: String = ctx
        .step
        .run("b", || async { Ok("b".repeat(2_500_000)) })
        .await?;
    Ok(a.len() + b.len())
}

struct Api {
    engine: Engine,
    origin: String,
    client: reqwest::Client,
    _app: inngest::InngestService,
}

impl Api {
    async fn start(config: EngineConfig) -> Api {
        let engine = Engine::start(config.retry_interval(Duration::from_millis(50))).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(inngest::engine::serve(
            engine.clone(),
            listener,
            std::future::pending(),
        ));
        let app = inngest::App::new("api")
            .register::<order>()
            .register::<nap>()
            .register::<big>()
            .dev(origin.clone())
            .into_service()
            .unwrap();
        app.register_with(&engine).unwrap();
        Api {
            engine,
            origin,
            client: reqwest::Client::new(),
            _app: app,
        }
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let res = self
            .client
            .post(format!("{}{path}", self.origin))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let res = self
            .client
            .get(format!("{}{path}", self.origin))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn gql(&self, query: &str, variables: Value) -> (u16, Value) {
        self.post("/v0/gql", &json!({"query": query, "variables": variables}))
            .await
    }

    /// Waits until `n` runs have ended (the timeline says so).
    async fn ended(&self, happenings: &mut tokio::sync::broadcast::Receiver<Happening>, n: usize) {
        let mut ended = 0;
        while ended < n {
            let h = tokio::time::timeout(Duration::from_secs(20), happenings.recv())
                .await
                .expect("runs end within 20 s")
                .unwrap();
            if matches!(h, Happening::RunEnded { .. }) {
                ended += 1;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_received_up_to_a_bad_one_with_seeded_ids() {
    let api = Api::start(EngineConfig::default()).await;
    let (status, body) = api
        .post(
            "/e/key",
            &json!([{"name": "api/other", "data": {}}, {"data": {}}, {"name": "api/other"}]),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], 400);
    assert_eq!(body["error"], "event name is empty", "the server's message");
    let ids = body["ids"].as_array().unwrap();
    assert_eq!(
        ids.len(),
        1,
        "the event before the bad one is received: {body}"
    );
    let (status, event) = api
        .get(&format!("/v1/events/{}", ids[0].as_str().unwrap()))
        .await;
    assert_eq!((status, &event["data"]["name"]), (200, &json!("api/other")));
    let (_, listed) = api.get("/v1/events?name=api/other").await;
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        1,
        "only the first: {listed}"
    );

    // The seed header: the same ids each time (an SDK's retried request), numbered from 1.
    let send = || async {
        let res = api
            .client
            .post(format!("{}/e/key", api.origin))
            .header("x-inngest-event-id-seed", "1743130137367,AAECAwQFBgcICQ==")
            .json(&json!([{"name": "api/seeded"}, {"name": "api/seeded"}]))
            .send()
            .await
            .unwrap();
        res.json::<Value>().await.unwrap()["ids"].clone()
    };
    let (first, again) = (send().await, send().await);
    assert_eq!(first, again);
    assert_eq!(
        first[0], "01JQDAE4RQ000G40R40M30E20A",
        "the seed's time and entropy, index 1"
    );
    assert_ne!(first[0], first[1]);
}

/// A transport that holds every call until told to go on.
struct Held(
    std::sync::Arc<tokio::sync::Notify>,
    std::sync::Arc<AtomicU32>,
);

impl inngest_engine::Transport for Held {
    fn call(
        &self,
        _: &inngest_engine::Call,
    ) -> inngest_engine::BoxFuture<
        Result<inngest_engine::CallResponse, inngest_engine::TransportError>,
    > {
        let (go, calls) = (self.0.clone(), self.1.clone());
        calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            go.notified().await;
            Err(inngest_engine::TransportError::new("held"))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_to_an_event_goes_out_before_any_call_to_an_app() {
    let api = Api::start(EngineConfig::default()).await;
    let go = std::sync::Arc::new(tokio::sync::Notify::new());
    let calls = std::sync::Arc::new(AtomicU32::new(0));
    let request: inngest_protocol::register::RegisterRequest = serde_json::from_value(json!({
        "appName": "held", "url": "http://held/api", "functions": [{
            "id": "held-fn", "name": "held", "triggers": [{"event": "api/held"}],
            "steps": {"step": {"id": "step", "name": "step",
                "runtime": {"type": "http", "url": "http://held/api?fnId=held-fn&stepId=step"}}}
        }]
    }))
    .unwrap();
    api.engine
        .register(
            &request,
            std::sync::Arc::new(Held(go.clone(), calls.clone())),
        )
        .unwrap();
    let (status, body) = api.post("/e/key", &json!({"name": "api/held"})).await;
    assert_eq!(status, 200, "{body}");
    // The call is out and held: the answer did not wait for it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while calls.load(Ordering::SeqCst) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the call is made");
        tokio::task::yield_now().await;
    }
    go.notify_waiters();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_shows_runs_their_steps_outputs_and_events() {
    let api = Api::start(EngineConfig::default()).await;
    let mut happenings = api.engine.subscribe();
    let (_, sent) = api
        .post(
            "/e/key",
            &json!({"name": "api/order", "data": {"fail": true}}),
        )
        .await;
    let event_id = sent["ids"][0].as_str().unwrap().to_owned();
    api.ended(&mut happenings, 1).await;

    let (status, body) = api
        .gql(
            "query($id: ID!) { event(query: {eventId: $id}) { name functionRuns { id status } } }",
            json!({"id": event_id}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["event"]["name"], "api/order");
    let run_id = body["data"]["event"]["functionRuns"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(body["data"]["event"]["functionRuns"][0]["status"], "FAILED");

    let (_, body) = api
        .gql(
            "query($id: String!) {
               run(runID: $id) { status output trace { status childrenSpans { name status outputID
                 childrenSpans { name status outputID } } } }
               runTrigger(runID: $id) { payloads eventName } }",
            json!({"id": run_id}),
        )
        .await;
    let run = &body["data"]["run"];
    assert_eq!(run["status"], "FAILED", "{body}");
    let output: Value = serde_json::from_str(run["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["message"], "no stock");
    let step = &run["trace"]["childrenSpans"][0];
    assert_eq!(
        (&step["name"], &step["status"]),
        (&json!("fetch"), &json!("COMPLETED"))
    );
    let attempts: Vec<&Value> = step["childrenSpans"].as_array().unwrap().iter().collect();
    assert_eq!(
        attempts.len(),
        2,
        "a retried step shows its attempts: {step}"
    );
    assert_eq!(attempts[0]["status"], "FAILED");
    let payload: Value =
        serde_json::from_str(body["data"]["runTrigger"]["payloads"][0].as_str().unwrap()).unwrap();
    assert_eq!(payload["data"], json!({"fail": true}));

    let output_of = |id: &Value| {
        let id = id.as_str().unwrap().to_owned();
        let api = &api;
        async move {
            api.gql(
                "query($id: String!) { runTraceSpanOutputByID(outputID: $id) { data error { name message } } }",
                json!({"id": id}),
            )
            .await
            .1["data"]["runTraceSpanOutputByID"]
                .clone()
        }
    };
    assert_eq!(
        output_of(&step["outputID"]).await,
        json!({"data": "\"fetched\"", "error": null})
    );
    assert_eq!(
        output_of(&attempts[0]["outputID"]).await["error"],
        json!({"name": "Upstream", "message": "upstream timed out"})
    );

    let (_, body) = api
        .gql(
            "{ runs(filter: {from: \"2020-01-01T00:00:00Z\", status: [FAILED]}, orderBy: []) { totalCount edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["runs"]["totalCount"], 1, "{body}");
    assert_eq!(
        body["data"]["runs"]["edges"][0]["node"]["id"],
        json!(run_id)
    );

    // A field the engine does not implement: a GraphQL error naming it.
    let (status, body) = api
        .gql(
            "{ debugRun(query: {functionSlug: \"x\"}) { debugTraces { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 422);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("debugRun"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_api_cancels_reads_jobs_invokes_and_removes() {
    let api = Api::start(EngineConfig::default()).await;
    let mut happenings = api.engine.subscribe();
    let (_, sent) = api.post("/e/key", &json!({"name": "api/nap"})).await;
    let event_id = sent["ids"][0].as_str().unwrap();
    // Wait until the run sleeps.
    let run_id = loop {
        if let Happening::Step { run_id, .. } = happenings.recv().await.unwrap() {
            break run_id;
        }
    };
    let (status, jobs) = api.get(&format!("/v1/runs/{run_id}/jobs")).await;
    assert_eq!(status, 200);
    assert_eq!(jobs["data"][0]["kind"], "sleep", "{jobs}");
    let (_, runs) = api.get(&format!("/v1/events/{event_id}/runs")).await;
    assert_eq!(runs["data"][0]["run_id"], json!(run_id));
    let (status, actions) = api.get(&format!("/v0/runs/{run_id}/actions")).await;
    assert_eq!((status, actions), (200, json!({})));
    let (status, batch) = api.get(&format!("/v0/runs/{run_id}/batch")).await;
    assert_eq!((status, &batch[0]["name"]), (200, &json!("api/nap")));

    // A bulk cancellation of the function's runs started until now.
    let (status, body) = api
        .post(
            "/v1/cancellations",
            &json!({"app_id": "api", "function_id": "nap",
                    "started_before": inngest_protocol::time::rfc3339_millis(std::time::SystemTime::now())}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["function_id"], "api-nap");
    assert_eq!(body["data"]["cancelled_run_ids"], json!([run_id]));
    let (_, run) = api.get(&format!("/v1/runs/{run_id}")).await;
    assert_eq!(run["data"]["status"], "Cancelled");
    let (status, body) = api
        .post(
            "/v1/cancellations",
            &json!({"app_id": "api", "function_id": "nap"}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("started_before is required"))
    );

    // Invoking a function by slug: its run gets the body's data.
    let (status, body) = api
        .post("/invoke/api-order", &json!({"data": {"fail": false}}))
        .await;
    assert_eq!(status, 200, "{body}");
    let invoked = body["id"].as_str().unwrap().to_owned();
    api.ended(&mut happenings, 2).await;
    let (_, runs) = api.get(&format!("/v1/events/{invoked}/runs")).await;
    assert_eq!(runs["data"][0]["output"], "fetched and done");
    let (status, _) = api.post("/invoke/api-nope", &json!({})).await;
    assert_eq!(status, 404);

    // GET / and /dev answer; removing the app by URL removes its functions.
    let page = api
        .client
        .get(format!("{}/", api.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Inngest engine"));
    let (status, dev) = api.get("/dev").await;
    assert_eq!(
        (status, dev["functions"].as_array().map(Vec::len)),
        (200, Some(3))
    );
    let res = api
        .client
        .delete(format!(
            "{}/fn/remove?url=http://127.0.0.1/api/inngest",
            api.origin
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(api.engine.function_ids().is_empty());
    let res = api
        .client
        .delete(format!("{}/fn/remove?url=http://nowhere/", api.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_too_large_for_a_call_request_completes_through_the_core_api() {
    let api = Api::start(EngineConfig::default()).await;
    let mut happenings = api.engine.subscribe();
    let (_, sent) = api.post("/e/key", &json!({"name": "api/big"})).await;
    api.ended(&mut happenings, 1).await;
    let event_id = sent["ids"][0].as_str().unwrap();
    let (_, runs) = api.get(&format!("/v1/events/{event_id}/runs")).await;
    assert_eq!(
        (&runs["data"][0]["status"], &runs["data"][0]["output"]),
        (&json!("Completed"), &json!(5_000_000)),
        "the SDK read the steps with GET /v0/runs/<id>/actions: {}",
        runs["data"][0]["status"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_guard_the_api_as_on_the_dev_server() {
    let key = "signkey-test-12345678";
    let api = Api::start(
        EngineConfig::default()
            .signing_key(key)
            .event_keys(["right".to_owned()]),
    )
    .await;
    let (status, body) = api.post("/e/wrong", &json!({"name": "api/x"})).await;
    assert_eq!(
        (status, &body["error"]),
        (401, &json!("Event key not found"))
    );
    let (status, _) = api.post("/e/right", &json!({"name": "api/x"})).await;
    assert_eq!(status, 200);
    let res = api
        .client
        .get(format!("{}/v1/events", api.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let hashed = inngest_protocol::signature::hashed_signing_key(key);
    let res = api
        .client
        .get(format!("{}/v1/events", api.origin))
        .bearer_auth(&hashed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The page and GraphQL stay open, as on the dev server.
    let (status, _) = api.gql("{ apps { name } }", json!({})).await;
    assert_eq!(status, 200);
}
