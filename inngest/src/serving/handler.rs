//! The serve endpoint as a `tower::Service`: the method chooses the action (protocol.md
//! section 1). Mount it in any hyper or axum app, or let [`serve`](crate::serve()) run it.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use bytes::{Buf, Bytes};
use futures::FutureExt;
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use http_body::Body as HttpBody;
use http_body_util::{BodyExt, Limited};
use inngest_protocol::headers;

use crate::config::Config;
use crate::config::{Mode, Secret};
use crate::serving::call::{self, CallQuery};
use crate::serving::registry::Registry;
use crate::serving::response::{self, Body};
use crate::serving::signature::{self, SignatureError};
use crate::step::StepEnv;
use crate::BoxFuture;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The Inngest serve endpoint as a [`tower_service::Service`]. Cheap to clone.
///
/// Built by [`App::into_service`](crate::App::into_service). It answers every request it is
/// given; mount it at your serve path (`/api/inngest` by default).
#[derive(Clone)]
pub struct InngestService {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: Config,
    pub app_id: String,
    /// The app's version, sent at sync (`appVersion`).
    pub app_version: Option<String>,
    pub registry: Registry,
    pub client: reqwest::Client,
    /// What steps need from the app: its id and the event client.
    pub step_env: Arc<StepEnv>,
    /// Checkpointing for the functions that set none.
    pub checkpointing: crate::options::Checkpointing,
    /// Whether call responses are streamed (`201`, keep-alive spaces, then the envelope),
    /// and how often a space is sent.
    pub streaming: Option<std::time::Duration>,
    /// When served by `serve()`, requests to other paths get 404.
    pub check_path: bool,
    /// Routes served beside the endpoint (the embedded engine's API); holding them keeps
    /// what answers them running.
    pub beside: Option<Arc<dyn Beside>>,
}

/// Routes served beside the Inngest endpoint on the same listener: the API of the engine an
/// app runs in its own process.
pub(crate) trait Beside: Send + Sync + 'static {
    /// Whether a request to `path` is for these routes.
    fn owns(&self, path: &str) -> bool;
    /// Answers a request to one of them.
    fn handle(&self, req: Request<Bytes>) -> BoxFuture<Response<Body>>;
    /// The routes as `Any` (the edge reads its own type back).
    #[cfg_attr(not(feature = "engine"), allow(dead_code))]
    fn as_any(&self) -> &dyn std::any::Any;
    /// The server is shutting down: end the responses that never end on their own (the
    /// engine's realtime streams), so that the connections can close.
    fn shutdown(&self) {}
}

impl Inner {
    /// Sends a request to Inngest with the SDK header, the environment and the hashed signing
    /// key; refused (401/403), once more with the fallback key, if there is one (protocol.md
    /// 6.3). `request` builds the request afresh for each attempt.
    pub(crate) async fn send_signed(
        &self,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> reqwest::Result<reqwest::Response> {
        let config = &self.config;
        let keys: Vec<&Secret> = [&config.signing_key, &config.signing_key_fallback]
            .into_iter()
            .flatten()
            .collect();
        crate::client::send_with_keys(&keys, config.env.as_deref(), request).await
    }
}

impl std::fmt::Debug for InngestService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InngestService")
            .field("app_id", &self.inner.app_id)
            .field("functions", &self.inner.registry.entries().len())
            .finish_non_exhaustive()
    }
}

impl InngestService {
    pub(crate) fn new(inner: Inner) -> Self {
        InngestService {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// A reference that does not keep the service alive (the embedded engine calls the app
    /// through one, so service and engine do not keep each other alive).
    #[cfg_attr(not(feature = "engine"), allow(dead_code))]
    pub(crate) fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    #[cfg_attr(not(feature = "engine"), allow(dead_code))]
    pub(crate) fn from_inner(inner: Arc<Inner>) -> Self {
        InngestService { inner }
    }

    /// The app id this service registers as.
    pub fn app_id(&self) -> &str {
        &self.inner.app_id
    }

    /// The composite ids of the served functions, sorted.
    pub fn function_ids(&self) -> Vec<&str> {
        self.inner.registry.composite_ids()
    }

    /// Answers one request.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: HttpBody,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        self.clone().respond(parts, body).await
    }

    /// The answer to a request, given as its parts and body.
    ///
    /// A future that owns its arguments where they are (an `async fn` would copy them into a
    /// second place in its state): every request moves it into a box, and a small one is
    /// cheaper to allocate and to move.
    #[allow(clippy::manual_async_fn)]
    pub(crate) fn respond<B>(self, parts: Parts, body: B) -> impl Future<Output = Response<Body>>
    where
        B: HttpBody,
        B::Error: Into<BoxError>,
    {
        async move {
            let inner = &*self.inner;
            // Routes served beside the endpoint (the embedded engine's API) get the whole body.
            let beside = inner.beside.as_ref().filter(|b| b.owns(parts.uri.path()));
            if beside.is_none() && inner.check_path && parts.uri.path() != inner.config.serve_path {
                return response::error_message(
                    StatusCode::NOT_FOUND,
                    true,
                    "NotFound",
                    format!(
                        "nothing is served at `{}`; the Inngest endpoint is `{}`",
                        parts.uri.path(),
                        inner.config.serve_path
                    ),
                );
            }
            if beside.is_none() && !matches!(parts.method, Method::GET | Method::PUT | Method::POST)
            {
                let mut res = response::error_message(
                    StatusCode::METHOD_NOT_ALLOWED,
                    true,
                    "MethodNotAllowed",
                    format!(
                        "the Inngest endpoint answers GET, PUT and POST, not {}",
                        parts.method
                    ),
                );
                res.headers_mut().insert(
                    http::header::ALLOW,
                    http::HeaderValue::from_static("GET, PUT, POST"),
                );
                return res;
            }
            // One read of the body for both (one place in this future, which every request
            // moves into its box).
            let body = if beside.is_none() && parts.method == Method::GET {
                Bytes::new()
            } else {
                let limit = inner.config.body_limit;
                match read_body(body, limit, inner.config.body_timeout).await {
                    Ok(b) => b,
                    Err(res) => return res,
                }
            };
            if let Some(beside) = beside {
                return beside.handle(Request::from_parts(parts, body)).await;
            }
            let auth = self.authenticate(&parts, &body);
            let res = match (&parts.method, &auth) {
                (&Method::GET, _) => crate::serving::introspection::answer(inner, &auth),
                // In cloud mode nothing but introspection answers an unsigned request.
                (_, Auth::Refused(reason)) => {
                    tracing::warn!(%reason, method = %parts.method, "refused a request without a valid signature");
                    return response::error(
                        StatusCode::UNAUTHORIZED,
                        false,
                        &serde_json::json!({ "message": "Unauthorized" }),
                    );
                }
                // Boxed: a sync's future (an HTTP request to Inngest) is large, and every call's
                // future would have room for it.
                (&Method::PUT, _) => {
                    Box::pin(crate::serving::sync::handle(inner, &auth, &parts, &body)).await
                }
                _ => match CallQuery::parse(parts.uri.query()) {
                    Ok(q) if q.probe.as_deref() == Some("trust") => {
                        response::json(StatusCode::OK, &serde_json::json!({}))
                    }
                    Ok(q) if inner.streaming.is_some() => {
                        let keepalive = inner.streaming.unwrap_or_default();
                        let this = self.clone();
                        let q = q.into_owned();
                        let key = match &auth {
                            Auth::Verified(key) => Some((*key).clone()),
                            _ => None,
                        };
                        return crate::serving::streaming::respond(keepalive, async move {
                            let res = call::handle(&this.inner, &q, &parts, &body).await;
                            match key {
                                Some(key) => response::sign(res, &key).await,
                                None => res,
                            }
                        });
                    }
                    Ok(q) => call::handle(inner, &q, &parts, &body).await,
                    Err(message) => response::error_message(
                        StatusCode::BAD_REQUEST,
                        false,
                        "BadRequest",
                        message,
                    ),
                },
            };
            match auth {
                // Boxed: cloud mode only.
                Auth::Verified(key) => {
                    let signed = Box::pin(response::sign(res, key));
                    signed.await
                }
                _ => res,
            }
        }
    }

    /// In cloud mode, checks `X-Inngest-Signature` against the signing key, then the fallback.
    fn authenticate<'a>(&'a self, parts: &http::request::Parts, body: &[u8]) -> Auth<'a> {
        let c = &self.inner.config;
        let Some(primary) = c.signing_key.as_ref().filter(|_| c.mode == Mode::Cloud) else {
            return Auth::NotRequired;
        };
        let keys: Vec<&Secret> = std::iter::once(primary)
            .chain(c.signing_key_fallback.as_ref())
            .collect();
        let header = parts
            .headers
            .get(headers::X_INNGEST_SIGNATURE)
            .and_then(|h| h.to_str().ok());
        match signature::verify(&keys, header, body) {
            Ok(key) => Auth::Verified(key),
            Err(e) => Auth::Refused(e),
        }
    }
}

/// What the request's signature established.
#[derive(Debug)]
pub(crate) enum Auth<'a> {
    /// Dev mode: signatures are not checked.
    NotRequired,
    /// Cloud mode, signed with this key.
    Verified(&'a Secret),
    /// Cloud mode, and the signature is missing or wrong.
    Refused(SignatureError),
}

/// Reads the whole body, answering 413 when it is over the limit (by `Content-Length` at once,
/// or while reading, so a lying length cannot get past it).
pub(crate) async fn read_body<B>(
    body: B,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, Response<Body>>
where
    B: HttpBody,
    B::Error: Into<BoxError>,
{
    let too_large = || {
        response::error_message(
            StatusCode::PAYLOAD_TOO_LARGE,
            true,
            "PayloadTooLarge",
            format!("the request body is over the limit of {limit} bytes"),
        )
    };
    // The declared length, as the body knows it (hyper's from `Content-Length`): no look-up
    // of the header.
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    let collect = std::pin::pin!(whole(Limited::new(body, limit)));
    let read = crate::serving::deadline::within(timeout, collect);
    let Ok(read) = read.await else {
        return Err(response::error_message(
            StatusCode::REQUEST_TIMEOUT,
            false,
            "RequestTimeout",
            format!(
                "the request body did not arrive within {}",
                crate::timestr::format(timeout)
            ),
        ));
    };
    match read {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(e) => Err(response::error_message(
            StatusCode::BAD_REQUEST,
            false,
            "BadRequest",
            format!("the request body could not be read: {e}"),
        )),
    }
}

/// The data of every frame of `body`, in one piece: a body that comes in one chunk (most do,
/// with their headers) is that chunk, neither copied nor queued; one of several chunks is
/// joined as it comes. Trailers are dropped.
async fn whole<B: HttpBody>(body: B) -> Result<Bytes, B::Error> {
    let mut body = std::pin::pin!(body);
    let mut first = Bytes::new();
    let mut joined: Option<bytes::BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let Ok(mut data) = frame?.into_data() else {
            continue;
        };
        let len = data.remaining();
        let chunk = data.copy_to_bytes(len);
        match &mut joined {
            Some(all) => all.extend_from_slice(&chunk),
            None if first.is_empty() => first = chunk,
            None => {
                let mut all = bytes::BytesMut::with_capacity(first.len() + chunk.len());
                all.extend_from_slice(&first);
                all.extend_from_slice(&chunk);
                joined = Some(all);
            }
        }
    }
    Ok(joined.map_or(first, bytes::BytesMut::freeze))
}

impl<B> tower_service::Service<Request<B>> for InngestService
where
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (parts, body) = req.into_parts();
        // Mapped, not awaited in another future: the answer's future is the whole box.
        Box::pin(self.clone().respond(parts, body).map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Frame;
    use http_body_util::StreamBody;

    fn body_of(
        frames: Vec<Frame<Bytes>>,
    ) -> StreamBody<impl futures::Stream<Item = Result<Frame<Bytes>, Infallible>>> {
        StreamBody::new(futures::stream::iter(frames.into_iter().map(Ok)))
    }

    #[tokio::test]
    async fn a_body_in_one_chunk_is_that_chunk_and_more_are_joined() {
        let chunk = Bytes::from_static(b"{\"event\":{}}");
        let one = whole(body_of(vec![Frame::data(chunk.clone())]))
            .await
            .unwrap();
        assert_eq!(one, chunk);
        assert_eq!(one.as_ptr(), chunk.as_ptr(), "not copied");

        let mut trailers = http::HeaderMap::new();
        trailers.insert("x-t", http::HeaderValue::from_static("1"));
        let frames = vec![
            Frame::data(Bytes::from_static(b"ab")),
            Frame::data(Bytes::new()),
            Frame::data(Bytes::from_static(b"cd")),
            Frame::data(Bytes::from_static(b"e")),
            Frame::trailers(trailers),
        ];
        assert_eq!(whole(body_of(frames)).await.unwrap(), "abcde");
        assert_eq!(whole(body_of(Vec::new())).await.unwrap(), "");
    }
}
