//! The Inngest API over HTTP, for what the client sends besides events: signals (`POST
//! <api>/v1/signals`, protocol-2.md section 3) and realtime messages (`POST
//! <api>/v1/realtime/publish`, section 5). Authenticated with the hashed signing key, and
//! once more with the fallback key when refused (401/403).

use std::time::Duration;

use inngest_protocol::headers;
use inngest_protocol::signal::{SendSignalRequest, SendSignalResponse};
use serde::Deserialize;
use serde_json::Value;

use super::Publish;
use crate::config::Secret;
use crate::error::Error;
use crate::sdk::SDK_HEADER_VALUE;

/// Sends a request to Inngest with the SDK header, the environment and the first key hashed;
/// refused (401/403), once more with each further key (the fallback; protocol.md 6.3).
/// `request` builds the request afresh for each attempt.
pub(crate) async fn send_with_keys(
    keys: &[&Secret],
    env: Option<&str>,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> reqwest::Result<reqwest::Response> {
    let mut keys = keys.iter().peekable();
    loop {
        let mut req = request().header(headers::X_INNGEST_SDK, SDK_HEADER_VALUE);
        if let Some(key) = keys.next() {
            req = req.bearer_auth(inngest_protocol::signature::hashed_signing_key(
                key.expose(),
            ));
        }
        if let Some(env) = env {
            req = req.header(headers::X_INNGEST_ENV, env);
        }
        let res = req.send().await?;
        let refused = matches!(res.status().as_u16(), 401 | 403);
        if !(refused && keys.peek().is_some()) {
            return Ok(res);
        }
    }
}

/// The Inngest API at an origin.
pub(crate) struct ApiClient {
    http: reqwest::Client,
    origin: String,
    /// The signing key, then its fallback.
    keys: Vec<Secret>,
    env: Option<String>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("origin", &self.origin)
            .field("signing_keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// The `data` of a `/v1` answer, or its error.
#[derive(Deserialize)]
struct Answer<T> {
    data: Option<T>,
    error: Option<String>,
}

impl ApiClient {
    pub(crate) fn new(
        origin: String,
        signing_key: Option<Secret>,
        fallback: Option<Secret>,
        env: Option<String>,
    ) -> ApiClient {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        ApiClient {
            http,
            origin: origin.trim_end_matches('/').to_owned(),
            keys: signing_key.into_iter().chain(fallback).collect(),
            env,
        }
    }

    /// The same API at another origin.
    pub(crate) fn at(&self, origin: String) -> ApiClient {
        ApiClient {
            http: self.http.clone(),
            origin: origin.trim_end_matches('/').to_owned(),
            keys: self.keys.clone(),
            env: self.env.clone(),
        }
    }

    /// The same API with another signing key (and fallback).
    pub(crate) fn with_keys(&self, signing_key: Secret, fallback: Option<Secret>) -> ApiClient {
        ApiClient {
            http: self.http.clone(),
            origin: self.origin.clone(),
            keys: std::iter::once(signing_key).chain(fallback).collect(),
            env: self.env.clone(),
        }
    }

    /// POSTs `body`, with each key in turn while the API refuses it.
    async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, Error> {
        let keys: Vec<&Secret> = self.keys.iter().collect();
        send_with_keys(&keys, self.env.as_deref(), || {
            self.http
                .post(url)
                .header("content-type", content_type)
                .body(body.clone())
        })
        .await
        .map_err(|e| Error::msg(format!("calling {url} failed: {e}")))
    }

    /// `POST /v1/signals`: the run the signal resumed, or `None` (404) when no run waits for
    /// it.
    pub(crate) async fn send_signal(
        &self,
        signal: String,
        data: Value,
    ) -> Result<Option<String>, Error> {
        let url = format!("{}/v1/signals", self.origin);
        let body = serde_json::to_vec(&SendSignalRequest { signal, data }).map_err(Error::new)?;
        let res = self.post(&url, "application/json", body).await?;
        let status = res.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let text = res.text().await.unwrap_or_default();
        let answer = serde_json::from_str::<Answer<SendSignalResponse>>(&text).ok();
        match answer {
            Some(Answer {
                data: Some(data), ..
            }) if status.is_success() => Ok(Some(data.run_id)),
            Some(Answer {
                error: Some(error), ..
            }) => Err(Error::msg(format!(
                "Failed to send signal: {status}: {error}"
            ))),
            _ => Err(Error::msg(format!(
                "Failed to send signal: {status}: {}",
                text.chars().take(500).collect::<String>()
            ))),
        }
    }

    /// `POST /v1/realtime/publish?channel=&topic=[&run_id=]`.
    pub(crate) async fn publish(&self, message: Publish) -> Result<(), Error> {
        let mut url = url::Url::parse(&format!("{}/v1/realtime/publish", self.origin))
            .map_err(|e| Error::msg(format!("the Inngest API origin is not a URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("channel", &message.channel)
            .append_pair("topic", &message.topic);
        if let Some(run_id) = &message.run_id {
            url.query_pairs_mut().append_pair("run_id", run_id);
        }
        let body = serde_json::to_vec(&message.data).map_err(Error::new)?;
        let res = self.post(url.as_str(), "application/json", body).await?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        let text = res.text().await.unwrap_or_default();
        Err(Error::msg(format!(
            "Failed to publish to realtime: {status}: {}",
            text.trim().chars().take(500).collect::<String>()
        )))
    }
}
