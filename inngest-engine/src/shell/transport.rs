//! How the engine calls an app's serve endpoint: over HTTP (any SDK, any language), or
//! in-process through any `tower::Service` (an app in the same process, no sockets).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use inngest_protocol::headers::{
    X_INNGEST_GENERATION_ID, X_INNGEST_JOB_ID, X_INNGEST_REQ_VERSION, X_INNGEST_SIGNATURE,
    X_INNGEST_STEP_ID, X_REQUEST_ID, X_RUN_ID,
};
use inngest_protocol::limits::{CALL_TIMEOUT, MAX_SDK_RESPONSE_BYTES};

use crate::core::{Call, CallResponse, TransportError};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Calls an app's serve endpoint.
pub trait Transport: Send + Sync + 'static {
    /// Posts the call request and returns the answer.
    fn call(&self, call: &Call) -> BoxFuture<Result<CallResponse, TransportError>>;
}

/// The call as an HTTP request, with the headers the server's HTTP driver sends.
fn request(call: &Call) -> Result<http::Request<Full<Bytes>>, TransportError> {
    let mut req = http::Request::post(call.url.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(X_INNGEST_STEP_ID, call.step_id.as_str())
        .header(X_INNGEST_REQ_VERSION, call.version.max(0).to_string())
        .header(X_RUN_ID, call.run_id.as_str())
        .header(X_REQUEST_ID, call.request_id.as_str())
        .header(X_INNGEST_JOB_ID, call.job_id.as_str());
    if call.generation > 0 {
        req = req.header(X_INNGEST_GENERATION_ID, call.generation.to_string());
    }
    if let Some(trace) = &call.trace {
        req = req.header("traceparent", trace.traceparent.as_str());
        if let Some(state) = &trace.tracestate {
            req = req.header("tracestate", state.as_str());
        }
    }
    req.body(Full::new(call.body.clone()))
        .map_err(|e| TransportError::new(format!("bad call URL {}: {e}", call.url)))
}

fn headers(map: &http::HeaderMap) -> BTreeMap<String, String> {
    map.iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect()
}

/// Calls over HTTP as the Inngest executor does: signed with `X-Inngest-Signature` when a
/// signing key is set, cut after the call timeout (2 h), the answer at most 8 MiB.
#[derive(Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    signing_key: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("signed", &self.signing_key.is_some())
            .finish()
    }
}

impl Default for HttpTransport {
    fn default() -> Self {
        HttpTransport::new(CALL_TIMEOUT, None)
    }
}

impl HttpTransport {
    /// A transport whose calls are cut after `timeout`, signed with `signing_key` if set.
    pub fn new(timeout: Duration, signing_key: Option<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        HttpTransport {
            client,
            signing_key,
            timeout,
        }
    }
}

impl Transport for HttpTransport {
    fn call(&self, call: &Call) -> BoxFuture<Result<CallResponse, TransportError>> {
        let client = self.client.clone();
        let signature = self.signing_key.as_ref().map(|key| {
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            inngest_protocol::signature::signature_header(key, &call.body, t)
        });
        let request = request(call);
        let url = call.url.clone();
        let timeout = self.timeout;
        let failed = move |url: &str, e: reqwest::Error| {
            if e.is_timeout() {
                TransportError::new(format!(
                    "calling {url} timed out: the app did not answer within {timeout:?}"
                ))
            } else {
                TransportError::new(format!("calling {url} failed: {e}"))
            }
        };
        Box::pin(async move {
            let request = request?;
            let (parts, body) = request.into_parts();
            let mut req = client.post(&url).headers(parts.headers).body(
                body.collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default(),
            );
            if let Some(signature) = signature {
                req = req.header(X_INNGEST_SIGNATURE, signature);
            }
            let mut res = req.send().await.map_err(|e| failed(&url, e))?;
            let status = res.status().as_u16();
            let headers = headers(res.headers());
            let mut body = Vec::new();
            while let Some(chunk) = res.chunk().await.map_err(|e| failed(&url, e))? {
                if body.len() + chunk.len() > MAX_SDK_RESPONSE_BYTES {
                    return Err(TransportError::new(format!(
                        "output_too_large: the answer of {url} is over {MAX_SDK_RESPONSE_BYTES} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(CallResponse {
                status,
                headers,
                body: Bytes::from(body),
            })
        })
    }
}

/// Calls an app in this process through its `tower::Service` (an SDK's serve endpoint),
/// without sockets.
#[derive(Clone)]
pub struct ServiceTransport<S> {
    service: S,
}

impl<S> std::fmt::Debug for ServiceTransport<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceTransport").finish_non_exhaustive()
    }
}

impl<S> ServiceTransport<S> {
    /// Calls through `service`.
    pub fn new(service: S) -> Self {
        ServiceTransport { service }
    }
}

impl<S, B> Transport for ServiceTransport<S>
where
    S: tower_service::Service<http::Request<Full<Bytes>>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Error: std::fmt::Display,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn call(&self, call: &Call) -> BoxFuture<Result<CallResponse, TransportError>> {
        let mut service = self.service.clone();
        let request = request(call);
        Box::pin(async move {
            std::future::poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(|e| TransportError::new(format!("the app is not ready: {e}")))?;
            let res = service
                .call(request?)
                .await
                .map_err(|e| TransportError::new(format!("the app failed: {e}")))?;
            let status = res.status().as_u16();
            let headers = headers(res.headers());
            let body = Limited::new(res.into_body(), MAX_SDK_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| TransportError::new(format!("reading the app's answer failed: {e}")))?
                .to_bytes();
            Ok(CallResponse {
                status,
                headers,
                body,
            })
        })
    }
}
