//! How the engine calls an SDK's serve endpoint: over HTTP (any SDK, any language), or
//! in-process (this app's own functions, no sockets).

use std::collections::HashMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::function::BoxFuture;
use crate::serving::handler::InngestService;
use crate::serving::response::SDK_HEADER_VALUE;

/// An SDK's answer to a call request.
#[derive(Debug, Clone)]
pub struct CallResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: HashMap<String, String>,
    /// The body.
    pub body: Bytes,
}

/// Calls an SDK's serve endpoint.
pub trait Transport: Send + Sync + 'static {
    /// POSTs a call request body to `url` (which carries `fnId` and `stepId`).
    fn call(&self, url: String, body: Vec<u8>) -> BoxFuture<Result<CallResponse, String>>;
}

/// Calls over HTTP, exactly as the Inngest executor does: signed with
/// `X-Inngest-Signature` when a signing key is set.
#[derive(Debug, Clone, Default)]
pub struct HttpTransport {
    client: reqwest::Client,
    signing_key: Option<crate::app::config::Secret>,
}

impl HttpTransport {
    /// Signs every call request with `key`, as Inngest Cloud does.
    pub fn signed(key: impl Into<String>) -> Self {
        HttpTransport {
            client: reqwest::Client::default(),
            signing_key: Some(crate::app::config::Secret::new(key.into())),
        }
    }
}

impl Transport for HttpTransport {
    fn call(&self, url: String, body: Vec<u8>) -> BoxFuture<Result<CallResponse, String>> {
        let client = self.client.clone();
        let signature = self
            .signing_key
            .as_ref()
            .map(|key| crate::serving::signature::signature_header(key, &body));
        Box::pin(async move {
            let step_id = url::Url::parse(&url)
                .ok()
                .and_then(|u| {
                    u.query_pairs()
                        .find(|(k, _)| k == "stepId")
                        .map(|(_, v)| v.into_owned())
                })
                .unwrap_or_else(|| "step".to_owned());
            let mut req = client.post(&url);
            if let Some(signature) = signature {
                req = req.header("x-inngest-signature", signature);
            }
            let res = req
                .header("content-type", "application/json")
                .header("x-inngest-step-id", step_id)
                .header("x-inngest-req-version", "2")
                .body(body)
                .send()
                .await
                .map_err(|e| format!("calling {url} failed: {e}"))?;
            let status = res.status().as_u16();
            let headers = res
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let body = res
                .bytes()
                .await
                .map_err(|e| format!("reading {url} failed: {e}"))?;
            Ok(CallResponse {
                status,
                headers,
                body,
            })
        })
    }
}

/// Calls this process's own serve endpoint without sockets.
#[derive(Debug, Clone)]
pub struct InProcessTransport {
    service: std::sync::Weak<crate::serving::handler::Inner>,
}

impl InProcessTransport {
    /// Calls `service` directly (without keeping it alive).
    pub fn new(service: &InngestService) -> Self {
        InProcessTransport {
            service: service.downgrade(),
        }
    }
}

impl Transport for InProcessTransport {
    fn call(&self, url: String, body: Vec<u8>) -> BoxFuture<Result<CallResponse, String>> {
        let service = self.service.upgrade().map(InngestService::from_inner);
        Box::pin(async move {
            let service = service.ok_or("the app is no longer served")?;
            let uri: http::Uri = url
                .parse()
                .map_err(|e| format!("bad call URL {url}: {e}"))?;
            let req = http::Request::post(uri)
                .header("content-type", "application/json")
                .header("x-inngest-sdk", SDK_HEADER_VALUE)
                .body(Full::new(Bytes::from(body)))
                .map_err(|e| e.to_string())?;
            let res = service.handle(req).await;
            let status = res.status().as_u16();
            let headers = res
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let body = match res.into_body().collect().await {
                Ok(c) => c.to_bytes(),
                Err(never) => match never {},
            };
            Ok(CallResponse {
                status,
                headers,
                body,
            })
        })
    }
}
