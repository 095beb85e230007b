//! The engine's HTTP API: the Inngest dev server's endpoints, so any SDK and any tool written
//! for the dev server work with it, and the page of runs. One module per area:
//!
//! - [`events`]: `POST /e/{key}`, `POST /invoke/{slug}`, `GET /v1/events`, `GET
//!   /v1/events/{id}`, `GET /v1/events/{id}/runs`
//! - [`runs`]: `GET|DELETE /v1/runs/{id}`, `GET /v1/runs/{id}/jobs`, `POST
//!   /v1/cancellations`, and the core API of `use_api`: `GET /v0/runs/{id}/actions|batch`
//! - [`apps`]: `POST /fn/register`, `DELETE /fn/remove`, `GET /dev`, `GET /health`
//! - [`graphql`]: `POST /v0/gql`, the dev server's run and event queries
//! - [`signals`]: `POST /v1/signals`
//! - [`checkpoint`]: `POST /v1/checkpoint/{runId}/async`
//! - [`realtime`]: `POST /v1/realtime/publish`, `POST /v1/realtime/token`, `GET
//!   /v1/realtime/sse`
//! - [`ui`]: the page of runs at `/`
//!
//! With a signing key, the dev server's routes require it (`Authorization: Bearer`, the key
//! or its hash); with event keys, `POST /e/{key}` requires one of them. As on the dev server,
//! the page and `POST /v0/gql` are open.

mod apps;
mod auth;
mod checkpoint;
mod events;
mod graphql;
mod realtime;
mod reply;
mod runs;
mod signals;
mod ui;

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::json;

use super::engine::Engine;
use super::transport::BoxFuture;
use reply::json_response;

/// The largest request body the API reads.
const BODY_LIMIT: usize = 8 * 1024 * 1024;
/// How long a request body may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of the API's responses: whole, or streamed (`GET /v1/realtime/sse`).
pub type ApiBody = http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>;

/// The engine's HTTP API as a `tower::Service`.
#[derive(Clone)]
pub struct EngineService {
    engine: Engine,
    schema: graphql::Schema,
}

impl std::fmt::Debug for EngineService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineService")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

/// A request as the routes read it.
pub(crate) struct Req<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a http::HeaderMap,
    pub body: &'a Bytes,
}

impl Req<'_> {
    /// A query parameter's value (decoded).
    pub fn param(&self, name: &str) -> Option<String> {
        let query = self.query?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Every value of a repeated query parameter (decoded).
    pub fn params(&self, name: &str) -> Vec<String> {
        url::form_urlencoded::parse(self.query.unwrap_or_default().as_bytes())
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl EngineService {
    /// The API of `engine`.
    pub fn new(engine: Engine) -> Self {
        EngineService {
            schema: graphql::schema(engine.downgrade()),
            engine,
        }
    }

    /// Whether a request to `path` is for the engine's API or its page (an app serving the
    /// engine in-process routes these here and the rest to itself).
    pub fn owns(path: &str) -> bool {
        path == "/"
            || path == "/dev"
            || path == "/health"
            || path.starts_with("/e/")
            || path.starts_with("/fn/")
            || path.starts_with("/invoke/")
            || path.starts_with("/v0/")
            || path.starts_with("/v1/")
            || path.starts_with("/ui/")
    }

    /// Answers one request.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<ApiBody>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        let body = match read(&parts, body).await {
            Ok(body) => body,
            Err(res) => return res.map(BodyExt::boxed_unsync),
        };
        let req = Req {
            method: &parts.method,
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            body: &body,
        };
        if let Some(refused) = auth::check(&self.engine, &req) {
            return refused.map(BodyExt::boxed_unsync);
        }
        let mut res = match (req.method, req.path) {
            (&Method::GET, "/v1/realtime/sse") => realtime::sse(&self.engine, &req),
            _ => self.route(&req).await.map(BodyExt::boxed_unsync),
        };
        res.headers_mut().insert(
            "x-inngest-server-kind",
            http::HeaderValue::from_static("dev"),
        );
        res
    }

    async fn route(&self, req: &Req<'_>) -> Response<Full<Bytes>> {
        let engine = &self.engine;
        let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        match (req.method, parts.as_slice()) {
            (&Method::GET, [""]) => ui::page(),
            (&Method::GET, ["ui", "app.js"]) => ui::script(),
            (&Method::GET, ["ui", "style.css"]) => ui::style(),
            (&Method::GET, ["ui", "timeline"]) => ui::timeline(engine, req).await,
            (&Method::POST, ["e", key]) => events::send(engine, req, key),
            (&Method::POST, ["invoke", slug]) => events::invoke(engine, req, slug),
            (&Method::GET, ["v1", "events"]) => events::list(engine, req),
            (&Method::GET, ["v1", "events", id]) => events::get(engine, id),
            (&Method::GET, ["v1", "events", id, "runs"]) => events::runs(engine, id),
            (&Method::GET, ["v1", "runs", id]) => runs::get(engine, id),
            (&Method::DELETE, ["v1", "runs", id]) => runs::cancel(engine, id),
            (&Method::GET, ["v1", "runs", id, "jobs"]) => runs::jobs(engine, id),
            (&Method::POST, ["v1", "cancellations"]) => runs::cancellation(engine, req),
            (&Method::POST, ["v1", "signals"]) => signals::receive(engine, req),
            (&Method::POST, ["v1", "checkpoint", run_id, "async"]) => {
                checkpoint::save_async(engine, req, run_id)
            }
            (&Method::POST, ["v1", "realtime", "publish"]) => realtime::publish(engine, req),
            (&Method::POST, ["v1", "realtime", "token"]) => realtime::token(engine, req),
            (&Method::GET, ["v0", "runs", id, "actions"]) => runs::actions(engine, id),
            (&Method::GET, ["v0", "runs", id, "batch"]) => runs::batch(engine, id),
            (&Method::DELETE, ["v0", "runs", id]) => runs::cancel_v0(engine, id),
            (&Method::POST, ["v0", "gql"]) => graphql::execute(&self.schema, req).await,
            (&Method::GET, ["v0", "gql"]) => graphql::playground(),
            (&Method::POST, ["fn", "register"]) => apps::register(engine, req),
            (&Method::DELETE, ["fn", "remove"]) => apps::remove(engine, req),
            (&Method::GET, ["dev"]) => apps::info(engine),
            (&Method::GET, ["health"]) => {
                json_response(StatusCode::OK, &json!({"status": 200, "message": "OK"}))
            }
            _ => json_response(
                StatusCode::NOT_FOUND,
                &json!({"error": format!("no route for {} {}", req.method, req.path)}),
            ),
        }
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

impl<B> tower_service::Service<Request<B>> for EngineService
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ApiBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<ApiBody>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(req).await) })
    }
}
