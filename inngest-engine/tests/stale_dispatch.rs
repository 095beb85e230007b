//! The stale-dispatch fence through the engine's API (protocol-2.md section 1.3): calls carry
//! `x-inngest-generation-id`, and `POST /v1/checkpoint/{runId}/async` answers 409 for a call
//! superseded since, as the server does. On Tokio's paused time: the engine's clock moves 10 s
//! without the test waiting.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use inngest_engine::{BoxFuture, Engine, EngineConfig, EngineService, ServiceTransport};
use inngest_protocol::call::CallRequest;
use inngest_protocol::register::RegisterRequest;
use inngest_protocol::step_id::hash;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

/// A call request the app received, and how to answer it.
struct Received {
    request: Request<Full<Bytes>>,
    reply: oneshot::Sender<Response<Full<Bytes>>>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.request.headers().get(name)?.to_str().ok()
    }

    async fn ctx(&self) -> inngest_protocol::call::CallContext {
        let body = self
            .request
            .body()
            .clone()
            .collect()
            .await
            .unwrap()
            .to_bytes();
        serde_json::from_slice::<CallRequest>(&body).unwrap().ctx
    }

    fn answer(self, status: u16, body: Value) {
        let res = Response::builder()
            .status(status)
            .header("x-inngest-sdk", "fake:v1")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        let _ = self.reply.send(res);
    }
}

/// The app: hands each call request to the test, which answers it when it likes.
#[derive(Clone)]
struct App(mpsc::UnboundedSender<Received>);

impl tower_service::Service<Request<Full<Bytes>>> for App {
    type Response = Response<Full<Bytes>>;
    type Error = String;
    type Future = BoxFuture<Result<Response<Full<Bytes>>, String>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), String>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Full<Bytes>>) -> Self::Future {
        let (reply, answer) = oneshot::channel();
        let _ = self.0.send(Received { request, reply });
        Box::pin(async move { answer.await.map_err(|e| e.to_string()) })
    }
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn checkpoint(api: &EngineService, run_id: &str, body: Value) -> (u16, String) {
    let req = Request::post(format!("/v1/checkpoint/{run_id}/async"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let res = tower_service::Service::call(&mut api.clone(), req)
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(start_paused = true)]
async fn a_checkpoint_from_a_superseded_call_is_409_with_the_servers_body() {
    let engine = Engine::start(
        EngineConfig::default()
            .retry_interval(Duration::from_secs(1))
            .log_timeline(false),
    )
    .unwrap();
    let api = EngineService::new(engine.clone());
    let (tx, mut calls) = mpsc::unbounded_channel();
    let app: RegisterRequest = serde_json::from_value(json!({"appName": "app",
        "url": "http://app/api", "functions": [{"id": "app-f", "name": "f",
        "triggers": [{"event": "f/go"}], "steps": {"step": {"id": "step", "name": "step",
        "runtime": {"type": "http", "url": "http://app/api?fnId=app-f&stepId=step"}}}}]}))
    .unwrap();
    engine
        .register(&app, Arc::new(ServiceTransport::new(App(tx))))
        .unwrap();
    engine
        .send(vec![json!({"name": "f/go", "data": {}})])
        .unwrap();

    // The first call is generation 1; it fails, and its retry is generation 2 of the same
    // queue item.
    let first = calls.recv().await.unwrap();
    let started = millis(SystemTime::now());
    assert_eq!(first.header("x-inngest-generation-id"), Some("1"));
    let ctx = first.ctx().await;
    let (run_id, qi_id) = (ctx.run_id.clone(), ctx.qi_id.clone().unwrap());
    // The queue item's id (`x-inngest-job-id`) is the one `qi_id` names; the dispatch's id
    // (`x-request-id`) is a ULID of the dispatch time.
    let job_id = first.header("x-inngest-job-id").unwrap().to_owned();
    assert_eq!(qi_id, format!("{job_id}::local"));
    let first_request = first.header("x-request-id").unwrap().to_owned();
    let ulid = ulid::Ulid::from_string(&first_request).unwrap();
    assert!((ulid.timestamp_ms() as i64 - started).abs() < 1_000);
    first.answer(500, json!({"name": "Error", "message": "timed out"}));
    let retry = calls.recv().await.unwrap();
    assert_eq!(retry.header("x-inngest-generation-id"), Some("2"));
    assert_eq!(retry.ctx().await.qi_id.as_deref(), Some(qi_id.as_str()));
    // The retry is the same queue item, dispatched again under another request id.
    assert_eq!(retry.header("x-inngest-job-id"), Some(job_id.as_str()));
    let retry_request = retry.header("x-request-id").unwrap();
    assert_eq!(retry_request.len(), 26);
    assert_ne!(retry_request, first_request);

    // 11 s into the first call, its SDK checkpoints: refused, nothing saved.
    tokio::time::advance(Duration::from_secs(10)).await;
    let body = |generation: i64, started: i64| {
        json!({"run_id": run_id, "fn_id": "app-f", "qi_id": qi_id, "generation_id": generation,
            "request_started_at": started, "steps": [{"op": "StepRun", "id": hash("a"),
            "name": "a", "data": 1}], "ts": started})
    };
    let (status, text) = checkpoint(&api, &run_id, body(1, started)).await;
    assert_eq!(status, 409);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"error": "stale dispatch: dispatch generation 1 does not match queue item generation 2",
            "data": {"run_id": run_id}, "status": 409})
    );
    assert_eq!(engine.run_history(&run_id), Some(vec![]));

    // The retry's own checkpoint is saved, however late.
    let (status, text) = checkpoint(&api, &run_id, body(2, started)).await;
    assert_eq!((status, text.as_str()), (200, ""));
    assert_eq!(engine.run_history(&run_id).unwrap().len(), 1);

    // Once the retry is answered its queue item is gone: a late checkpoint of it is stale,
    // one within 10 s of its start is taken on trust, as on the server.
    retry.answer(206, json!([{"op": "StepRun", "id": hash("b"), "data": 2}]));
    let next = calls.recv().await.unwrap();
    assert_eq!(next.header("x-inngest-generation-id"), Some("1"));
    assert_ne!(next.ctx().await.qi_id.as_deref(), Some(qi_id.as_str()));
    assert_ne!(next.header("x-inngest-job-id"), Some(job_id.as_str()));
    let (status, text) = checkpoint(&api, &run_id, body(2, started)).await;
    assert_eq!(status, 409);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"error": "stale dispatch: queue item not found", "data": {"run_id": run_id},
            "status": 409})
    );
    // (The engine's clock is 11 s past `started`: this call began 6 s ago.)
    let (status, _) = checkpoint(&api, &run_id, body(2, started + 5_000)).await;
    assert_eq!(status, 200);
    next.answer(200, json!("done"));
}
