//! The engine's HTTP surface, on the same listener as `/api/inngest`: the Inngest dev
//! server's endpoints, so any SDK and any tool written for the dev server work with it.
//!
//! - `POST /e/{key}`: one event or an array; answers `{"ids": [...], "status": 200}`
//! - `POST /fn/register`: an app in any language registers its functions
//! - `GET /health`
//! - `GET /v1/runs/{id}`, `DELETE /v1/runs/{id}`, `GET /v1/events/{id}/runs`

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use serde_json::{json, Value};

use super::engine::Engine;
use crate::serving::response::{self, Body};

/// Whether `path` belongs to the engine.
pub(crate) fn owns(path: &str) -> bool {
    path.starts_with("/e/")
        || path == "/fn/register"
        || path == "/health"
        || path.starts_with("/v1/runs/")
        || path.starts_with("/v1/events/")
}

/// Answers a request to one of the engine's paths.
pub(crate) fn handle(engine: &Engine, method: &Method, path: &str, body: &Bytes) -> Response<Body> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        (&Method::POST, ["e", _key]) => {
            let events = match serde_json::from_slice::<Value>(body) {
                Ok(Value::Array(events)) => events,
                Ok(one @ Value::Object(_)) => vec![one],
                Ok(_) | Err(_) => {
                    return response::json(
                        StatusCode::BAD_REQUEST,
                        &json!({"ids": [], "status": 400, "error": "the body must be an event object or an array of events"}),
                    )
                }
            };
            if let Some(bad) = events
                .iter()
                .position(|e| e["name"].as_str().is_none_or(str::is_empty))
            {
                return response::json(
                    StatusCode::BAD_REQUEST,
                    &json!({"ids": [], "status": 400, "error": format!("event {bad} has no name")}),
                );
            }
            let ids = engine.send(events);
            response::json(StatusCode::OK, &json!({"ids": ids, "status": 200}))
        }
        (&Method::POST, ["fn", "register"]) => {
            let payload: Value = match serde_json::from_slice(body) {
                Ok(p) => p,
                Err(e) => {
                    return response::json(
                        StatusCode::BAD_REQUEST,
                        &json!({"error": format!("invalid register payload: {e}")}),
                    )
                }
            };
            match engine.register(&payload, Arc::new(engine.http_transport())) {
                Ok(n) => response::json(
                    StatusCode::OK,
                    &json!({"ok": true, "modified": true, "message": format!("registered {n} functions")}),
                ),
                Err(e) => response::json(StatusCode::BAD_REQUEST, &json!({"error": e})),
            }
        }
        (&Method::GET, ["health"]) => {
            response::json(StatusCode::OK, &json!({"status": 200, "message": "OK"}))
        }
        (&Method::GET, ["v1", "runs", id]) => match engine.run(id) {
            Some(run) => response::json(StatusCode::OK, &json!({"data": run})),
            None => response::json(
                StatusCode::NOT_FOUND,
                &json!({"error": format!("no run `{id}`")}),
            ),
        },
        (&Method::DELETE, ["v1", "runs", id]) => {
            if engine.cancel(id) {
                response::json(
                    StatusCode::OK,
                    &json!({"data": {"run_id": id, "status": "Cancelled"}}),
                )
            } else {
                response::json(
                    StatusCode::NOT_FOUND,
                    &json!({"error": format!("no running run `{id}`")}),
                )
            }
        }
        (&Method::GET, ["v1", "events", id, "runs"]) => {
            response::json(StatusCode::OK, &json!({"data": engine.runs_for_event(id)}))
        }
        _ => response::json(
            StatusCode::NOT_FOUND,
            &json!({"error": format!("no route for {method} {path}")}),
        ),
    }
}

/// Reads a request to the engine's HTTP surface whole (within `limit` bytes and `timeout`)
/// and answers it.
pub(crate) async fn answer<B>(
    engine: &Engine,
    req: http::Request<B>,
    limit: usize,
    timeout: std::time::Duration,
) -> Response<Body>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    match crate::serving::handler::read_body(&parts, body, limit, timeout).await {
        Ok(body) => handle(engine, &parts.method, parts.uri.path(), &body),
        Err(res) => res,
    }
}

/// The engine's HTTP surface as a `tower::Service`, for [`serve_engine`](super::serve_engine).
#[derive(Clone, Debug)]
pub(crate) struct EngineService {
    engine: Engine,
}

impl EngineService {
    pub(crate) fn new(engine: Engine) -> Self {
        EngineService { engine }
    }
}

impl<B> tower_service::Service<http::Request<B>> for EngineService
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Body>;
    type Error = std::convert::Infallible;
    type Future = crate::function::BoxFuture<Result<Response<Body>, std::convert::Infallible>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let engine = self.engine.clone();
        Box::pin(async move {
            Ok(answer(
                &engine,
                req,
                crate::app::config::DEFAULT_BODY_LIMIT,
                crate::app::config::DEFAULT_BODY_TIMEOUT,
            )
            .await)
        })
    }
}
