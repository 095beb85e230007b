//! How the engine makes the HTTP requests a run asks Inngest to make (`step.fetch`,
//! `step.ai.infer`): [`HttpFetcher`] over the network, or any [`Fetcher`] a test provides.

use std::time::Duration;

use bytes::Bytes;
use inngest_protocol::limits::MAX_SDK_RESPONSE_BYTES;

use super::transport::BoxFuture;
use crate::core::{FetchRequest, FetchResponse, TransportError};

/// Makes the HTTP requests of `step.fetch` and `step.ai.infer`.
pub trait Fetcher: Send + Sync + 'static {
    /// Sends `request` and returns the response (of any status), or why there is none.
    fn fetch(&self, request: &FetchRequest) -> BoxFuture<Result<FetchResponse, TransportError>>;
}

impl std::fmt::Debug for dyn Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fetcher")
    }
}

/// Makes requests over the network as the server's gateway does: redirects followed, the
/// response read up to 8 MiB (more is an error), cut after a timeout.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    client: reqwest::Client,
}

impl Default for HttpFetcher {
    fn default() -> Self {
        HttpFetcher::new(inngest_protocol::limits::CALL_TIMEOUT)
    }
}

impl HttpFetcher {
    /// A fetcher whose requests are cut after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        HttpFetcher { client }
    }
}

impl Fetcher for HttpFetcher {
    fn fetch(&self, request: &FetchRequest) -> BoxFuture<Result<FetchResponse, TransportError>> {
        let client = self.client.clone();
        let request = request.clone();
        Box::pin(async move {
            let method = reqwest::Method::from_bytes(request.method.as_bytes())
                .map_err(|e| TransportError::new(format!("invalid http method: {e}")))?;
            let mut req = client.request(method, &request.url);
            for (name, value) in &request.headers {
                req = req.header(name, value);
            }
            if let Some(body) = request.body {
                req = req.body(body);
            }
            let mut res = req
                .send()
                .await
                .map_err(|e| TransportError::new(describe(&e)))?;
            let status = res.status().as_u16();
            let headers = res
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = res
                .chunk()
                .await
                .map_err(|e| TransportError::new(describe(&e)))?
            {
                if body.len() + chunk.len() > MAX_SDK_RESPONSE_BYTES {
                    return Err(TransportError::new(
                        "http response size is greater than the limit",
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(FetchResponse {
                status,
                headers,
                body: Bytes::from(body),
            })
        })
    }
}

/// A reqwest error with its causes (`error sending request for url (...)` alone does not say
/// that the connection was refused).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
