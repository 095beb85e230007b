//! The engine's HTTP API: the Inngest dev server's endpoints, so any SDK and any tool written
//! for the dev server work with it.
//!
//! - `POST /e/{key}`: one event or an array; answers `{"ids": [...], "status": 200}`
//! - `POST /fn/register`: an app in any language syncs its functions
//! - `GET /health`
//! - `GET /v1/runs/{id}`, `DELETE /v1/runs/{id}`, `GET /v1/events/{id}/runs`

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use inngest_protocol::event::SendEventsResponse;
use inngest_protocol::register::{RegisterRequest, RegisterResponse};
use serde::Serialize;
use serde_json::{json, Value};

use super::engine::{Engine, EngineError};
use super::transport::BoxFuture;

/// The largest request body the API reads.
const BODY_LIMIT: usize = 8 * 1024 * 1024;
/// How long a request body may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The engine's HTTP API as a `tower::Service`.
#[derive(Clone, Debug)]
pub struct EngineService {
    engine: Engine,
}

impl EngineService {
    /// The API of `engine`.
    pub fn new(engine: Engine) -> Self {
        EngineService { engine }
    }

    /// Whether a request to `path` is for the engine's API (an app serving the engine
    /// in-process routes these here and the rest to itself).
    pub fn owns(path: &str) -> bool {
        path.starts_with("/e/")
            || path == "/fn/register"
            || path == "/health"
            || path.starts_with("/v1/runs/")
            || path.starts_with("/v1/events/")
    }

    /// Answers one request.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        let body = match read(&parts, body).await {
            Ok(body) => body,
            Err(res) => return res,
        };
        let seed = parts
            .headers
            .get(inngest_protocol::headers::X_INNGEST_EVENT_ID_SEED)
            .and_then(|v| v.to_str().ok());
        route(&self.engine, &parts.method, parts.uri.path(), &body, seed)
    }
}

/// Reads a whole body within the limit and the timeout.
async fn read<B>(parts: &http::request::Parts, body: B) -> Result<Bytes, Response<Full<Bytes>>>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    let too_large = || {
        json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            &json!({"error": format!("the request body is over the limit of {BODY_LIMIT} bytes")}),
        )
    };
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, BODY_LIMIT).collect()).await {
        Err(_) => Err(json_response(
            StatusCode::REQUEST_TIMEOUT,
            &json!({"error": "the request body did not arrive in time"}),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": format!("the request body could not be read: {e}")}),
        )),
    }
}

fn route(
    engine: &Engine,
    method: &Method,
    path: &str,
    body: &Bytes,
    seed: Option<&str>,
) -> Response<Full<Bytes>> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        (&Method::POST, ["e", _key]) => send_events(engine, body, seed),
        (&Method::POST, ["fn", "register"]) => register(engine, body),
        (&Method::GET, ["health"]) => {
            json_response(StatusCode::OK, &json!({"status": 200, "message": "OK"}))
        }
        (&Method::GET, ["v1", "runs", id]) => match engine.run(id) {
            Some(run) => json_response(StatusCode::OK, &json!({ "data": run })),
            None => json_response(
                StatusCode::NOT_FOUND,
                &json!({"error": format!("no run `{id}`")}),
            ),
        },
        (&Method::DELETE, ["v1", "runs", id]) => {
            if engine.cancel(id) {
                json_response(
                    StatusCode::OK,
                    &json!({"data": {"run_id": id, "status": "Cancelled"}}),
                )
            } else {
                json_response(
                    StatusCode::NOT_FOUND,
                    &json!({"error": format!("no running run `{id}`")}),
                )
            }
        }
        (&Method::GET, ["v1", "events", id, "runs"]) => json_response(
            StatusCode::OK,
            &json!({ "data": engine.runs_for_event(id) }),
        ),
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": format!("no route for {method} {path}")}),
        ),
    }
}

fn send_events(engine: &Engine, body: &Bytes, seed: Option<&str>) -> Response<Full<Bytes>> {
    let events = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(events)) => events,
        Ok(one @ Value::Object(_)) => vec![one],
        _ => return events_refused(EngineError::Event(crate::core::EventError::NotEvents)),
    };
    // As the server: the events before a refused one are received, and their ids returned.
    match engine.send_seeded(events, seed) {
        (ids, None) => json_response(
            StatusCode::OK,
            &SendEventsResponse {
                ids,
                status: 200,
                error: None,
            },
        ),
        (ids, Some(e)) => events_refused_after(ids, EngineError::Event(e)),
    }
}

fn events_refused(e: EngineError) -> Response<Full<Bytes>> {
    events_refused_after(Vec::new(), e)
}

fn events_refused_after(ids: Vec<String>, e: EngineError) -> Response<Full<Bytes>> {
    json_response(
        StatusCode::BAD_REQUEST,
        &SendEventsResponse {
            ids,
            status: 400,
            error: Some(e.to_string()),
        },
    )
}

fn register(engine: &Engine, body: &Bytes) -> Response<Full<Bytes>> {
    let refused = |error: String| {
        json_response(
            StatusCode::BAD_REQUEST,
            &RegisterResponse {
                error: Some(error),
                ..RegisterResponse::default()
            },
        )
    };
    let request: RegisterRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return refused(format!("invalid register payload: {e}")),
    };
    match engine.register_http(&request) {
        Ok(synced) => json_response(
            StatusCode::OK,
            &RegisterResponse {
                ok: true,
                modified: true,
                message: Some(format!("registered {} functions", synced.functions)),
                error: None,
            },
        ),
        Err(e) => refused(e.to_string()),
    }
}

fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut res = Response::new(Full::new(Bytes::from(bytes)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    res
}

impl<B> tower_service::Service<Request<B>> for EngineService
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(req).await) })
    }
}
