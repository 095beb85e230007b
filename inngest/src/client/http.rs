//! The HTTP sink: `POST <event api>/e/<event key>`, retried on network errors and 5xx.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use inngest_protocol::event::SendEventsResponse;
use inngest_protocol::headers;
use serde_json::Value;

use crate::config::Secret;
use crate::error::Error;
use crate::sdk::SDK_HEADER_VALUE;

/// The event key the dev server accepts when none is set.
const DEV_EVENT_KEY: &str = "NO_EVENT_KEY_SET";
/// Attempts per send (the first and four retries), from a 100 ms base.
const ATTEMPTS: u32 = 5;
const BACKOFF_BASE: Duration = Duration::from_millis(100);

/// Sends events to an event API.
pub(crate) struct HttpSink {
    http: reqwest::Client,
    origin: String,
    key: Option<Secret>,
    env: Option<String>,
    cloud: bool,
}

impl std::fmt::Debug for HttpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("origin", &self.origin)
            .field("has_event_key", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpSink {
    pub(crate) fn new(
        origin: String,
        key: Option<Secret>,
        env: Option<String>,
        cloud: bool,
    ) -> HttpSink {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        HttpSink {
            http,
            origin,
            key,
            env,
            cloud,
        }
    }

    /// The same sink, for another origin.
    pub(crate) fn with_origin(&self, origin: String) -> HttpSink {
        HttpSink {
            http: self.http.clone(),
            origin: origin.trim_end_matches('/').to_owned(),
            key: self.key.clone(),
            env: self.env.clone(),
            cloud: self.cloud,
        }
    }

    fn url(&self) -> Result<String, Error> {
        let key = match (&self.key, self.cloud) {
            (Some(k), _) => k.expose().to_owned(),
            (None, false) => DEV_EVENT_KEY.to_owned(),
            (None, true) => {
                return Err(Error::msg(
                    "no event key: set INNGEST_EVENT_KEY to send events to Inngest Cloud (or INNGEST_DEV=1 for the dev server)",
                ))
            }
        };
        Ok(format!("{}/e/{key}", self.origin))
    }

    /// POSTs, retrying network errors and 5xx answers with exponential backoff and jitter.
    /// The event-id seed stays the same across retries, so Inngest deduplicates them.
    pub(crate) async fn post(
        &self,
        events: Vec<Value>,
        trace: Option<&super::TraceHeaders>,
    ) -> Result<Vec<String>, Error> {
        let body = serde_json::to_vec(&events).map_err(Error::new)?;
        let url = self.url()?;
        let shown = redact(&url);
        let seed = id_seed();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header(headers::X_INNGEST_SDK, SDK_HEADER_VALUE)
                .header(headers::X_INNGEST_EVENT_ID_SEED, &seed)
                .body(body.clone());
            if let Some(env) = &self.env {
                req = req.header(headers::X_INNGEST_ENV, env);
            }
            // W3C trace context: the server links the runs the events start to it.
            if let Some(trace) = trace {
                req = req.header("traceparent", &trace.traceparent);
                if let Some(state) = &trace.tracestate {
                    req = req.header("tracestate", state);
                }
            }
            let retry = match req.send().await {
                Ok(res) => {
                    let status = res.status();
                    let text = res.text().await.unwrap_or_default();
                    let parsed: Option<SendEventsResponse> = serde_json::from_str(&text).ok();
                    if status.is_success() {
                        return Ok(parsed.map(|p| p.ids).unwrap_or_default());
                    }
                    let reason = parsed
                        .and_then(|p| p.error)
                        .unwrap_or_else(|| text.chars().take(500).collect());
                    let message =
                        format!("sending events to {shown} failed with {status}: {reason}");
                    if !status.is_server_error() {
                        return Err(Error::msg(message));
                    }
                    message
                }
                Err(e) => format!(
                    "sending events to {shown} failed: {}",
                    redact(&e.to_string())
                ),
            };
            if attempt >= ATTEMPTS {
                return Err(Error::msg(format!("{retry} (after {ATTEMPTS} attempts)")));
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
}

/// `base * 2^(attempt-1)`, plus up to as much again of jitter.
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_BASE * 2u32.pow(attempt.saturating_sub(1).min(10));
    base + base.mul_f64(fastrand::f64())
}

/// `"<unix ms>,<base64 of 10 random bytes>"`.
fn id_seed() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let bytes: [u8; 10] = std::array::from_fn(|_| fastrand::u8(..));
    format!(
        "{ms},{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Hides the event key in a URL shown in errors and logs.
fn redact(text: &str) -> String {
    match text.find("/e/") {
        Some(i) => {
            let end = text[i + 3..]
                .find(['/', '?', ' ', ')'])
                .map_or(text.len(), |j| i + 3 + j);
            format!("{}/e/***{}", &text[..i], &text[end..])
        }
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_needs_an_event_key_and_hides_it() {
        let c = HttpSink::new("https://inn.gs".into(), None, None, true);
        assert!(c.url().unwrap_err().to_string().starts_with("no event key"));
        let c = HttpSink::new(
            "https://inn.gs".into(),
            Some(Secret::new("secret-key".into())),
            None,
            true,
        );
        assert_eq!(c.url().unwrap(), "https://inn.gs/e/secret-key");
        let dev = HttpSink::new("http://127.0.0.1:8288".into(), None, None, false);
        assert_eq!(
            dev.url().unwrap(),
            "http://127.0.0.1:8288/e/NO_EVENT_KEY_SET"
        );
        assert_eq!(
            redact("https://inn.gs/e/secret-key"),
            "https://inn.gs/e/***"
        );
        assert_eq!(
            redact("error sending request for url (https://inn.gs/e/k)"),
            "error sending request for url (https://inn.gs/e/***)"
        );
        assert!(!format!("{c:?}").contains("secret-key"));
        assert!(!format!("{:?}", crate::Client::cloud("secret-key")).contains("secret-key"));
    }

    #[test]
    fn seeds_and_backoff() {
        let seed = id_seed();
        let (ms, rand) = seed.split_once(',').unwrap();
        assert!(ms.parse::<u128>().unwrap() > 1_600_000_000_000);
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(rand)
                .unwrap()
                .len(),
            10
        );
        for attempt in 1..=4 {
            let b = backoff(attempt);
            let base = BACKOFF_BASE * 2u32.pow(attempt - 1);
            assert!(b >= base && b <= base * 2, "{attempt}: {b:?}");
        }
    }
}
