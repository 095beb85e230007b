//! The event client: sends events to `<event api>/e/<event key>` (protocol.md section 6.5).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use inngest_protocol::event::{Event, SendEventsResponse};
use inngest_protocol::headers;
use inngest_protocol::limits::{INTERNAL_EVENT_PREFIX, MAX_EVENTS_PER_REQUEST, MAX_EVENT_BYTES};
use serde::Serialize;
use serde_json::Value;

use crate::app::config::{var, Config, Mode, Overrides, Secret};
use crate::error::Error;
use crate::serving::response::SDK_HEADER_VALUE;

/// The event key the dev server accepts when none is set.
const DEV_EVENT_KEY: &str = "NO_EVENT_KEY_SET";
/// Attempts per send (the first and four retries), from a 100 ms base.
const ATTEMPTS: u32 = 5;
const BACKOFF_BASE: Duration = Duration::from_millis(100);

/// Sends events to Inngest. Cheap to clone.
///
/// [`Client::from_env`] reads `INNGEST_EVENT_KEY`, `INNGEST_DEV`, `INNGEST_BASE_URL`,
/// `INNGEST_EVENT_API_BASE_URL` and `INNGEST_ENV` as the other SDKs do.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    /// Events go straight to the embedded engine instead of over HTTP.
    engine: Option<crate::dev::Engine>,
    /// Events are recorded here instead of sent (`inngest::testing`).
    capture: Option<Arc<std::sync::Mutex<Vec<Value>>>>,
    http: reqwest::Client,
    origin: String,
    key: Option<Secret>,
    env: Option<String>,
    cloud: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("origin", &self.inner.origin)
            .field("has_event_key", &self.inner.key.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client configured from the environment.
    pub fn from_env() -> Result<Client, Error> {
        let config = Config::resolve(&Overrides::default())?;
        Ok(Client::from_config(&config))
    }

    /// A client for the Inngest dev server at `origin` (no event key needed).
    pub fn dev(origin: impl Into<String>) -> Client {
        Client::build(
            origin.into().trim_end_matches('/').to_owned(),
            None,
            None,
            false,
        )
    }

    /// A client for Inngest Cloud with this event key.
    pub fn cloud(event_key: impl Into<String>) -> Client {
        Client::build(
            "https://inn.gs".to_owned(),
            Some(Secret::new(event_key.into())),
            var("INNGEST_ENV"),
            true,
        )
    }

    /// Sends to another event API origin (a self-hosted server).
    pub fn with_event_api(self, origin: impl Into<String>) -> Client {
        let i = &self.inner;
        Client::build(
            origin.into().trim_end_matches('/').to_owned(),
            i.key.clone(),
            i.env.clone(),
            i.cloud,
        )
    }

    /// A client that delivers to an engine in this process.
    pub fn embedded(engine: crate::dev::Engine) -> Client {
        let mut c = Client::build(String::new(), None, None, false);
        if let Some(inner) = Arc::get_mut(&mut c.inner) {
            inner.engine = Some(engine);
        }
        c
    }

    /// A client that records events instead of sending them; ids are `test-event-<n>`.
    pub(crate) fn capturing(into: Arc<std::sync::Mutex<Vec<Value>>>) -> Client {
        let mut c = Client::build(String::new(), None, None, false);
        if let Some(inner) = Arc::get_mut(&mut c.inner) {
            inner.capture = Some(into);
        }
        c
    }

    pub(crate) fn from_config(config: &Config) -> Client {
        if config.mode == Mode::Embedded {
            if let Some(engine) = EMBEDDED.get() {
                return Client::embedded(engine.clone());
            }
        }
        Client::build(
            config.event_origin.clone(),
            config.event_key.clone(),
            config.env.clone(),
            config.mode == Mode::Cloud,
        )
    }

    fn build(origin: String, key: Option<Secret>, env: Option<String>, cloud: bool) -> Client {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Client {
            inner: Arc::new(ClientInner {
                engine: None,
                capture: None,
                http,
                origin,
                key,
                env,
                cloud,
            }),
        }
    }

    /// Sends one event; returns its id.
    pub async fn send<E: Serialize>(&self, event: &Event<E>) -> Result<String, Error> {
        let mut ids = self.send_many(std::slice::from_ref(event)).await?;
        ids.pop()
            .ok_or_else(|| Error::msg("the event API returned no id for the event"))
    }

    /// Sends events in one request; returns their ids in order.
    pub async fn send_many<E: Serialize>(&self, events: &[Event<E>]) -> Result<Vec<String>, Error> {
        let body = self.encode(events)?;
        if let Some(captured) = &self.inner.capture {
            let events: Vec<Value> = serde_json::from_slice(&body).map_err(Error::new)?;
            let mut all = captured.lock().unwrap_or_else(|p| p.into_inner());
            let first = all.len();
            all.extend(events);
            return Ok((first..all.len())
                .map(|i| format!("test-event-{i}"))
                .collect());
        }
        if let Some(engine) = &self.inner.engine {
            let events: Vec<Value> = serde_json::from_slice(&body).map_err(Error::new)?;
            return Ok(engine.send(events));
        }
        self.post(body).await
    }

    /// Checks and serializes events: named, not in the reserved `inngest/` namespace, `data`
    /// an object, each at most 512 KB; `ts` is set to now when missing, as the JS SDK does.
    pub(crate) fn encode<E: Serialize>(&self, events: &[Event<E>]) -> Result<Vec<u8>, Error> {
        if events.is_empty() {
            return Err(Error::msg("no events to send"));
        }
        if events.len() > MAX_EVENTS_PER_REQUEST {
            return Err(Error::msg(format!(
                "{} events in one request; Inngest accepts at most {MAX_EVENTS_PER_REQUEST}",
                events.len()
            )));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64;
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            let mut value = serde_json::to_value(event).map_err(Error::new)?;
            let name = event.name.trim();
            if name.is_empty() {
                return Err(Error::msg("an event needs a name"));
            }
            if name.starts_with(INTERNAL_EVENT_PREFIX) {
                return Err(Error::msg(format!(
                    "the event name `{name}` is in the `{INTERNAL_EVENT_PREFIX}` namespace, which Inngest reserves"
                )));
            }
            match value.get_mut("data") {
                Some(data @ Value::Null) => *data = Value::Object(Default::default()),
                Some(Value::Object(_)) => {}
                _ => {
                    return Err(Error::msg(format!(
                        "the data of the event `{name}` must serialize to a JSON object"
                    )))
                }
            }
            if let Some(map) = value.as_object_mut() {
                map.entry("ts").or_insert(Value::from(now));
            }
            let size = serde_json::to_vec(&value).map_err(Error::new)?.len();
            if size > MAX_EVENT_BYTES {
                return Err(Error::msg(format!(
                    "the event `{name}` is {size} bytes; Inngest accepts events of at most {MAX_EVENT_BYTES} bytes"
                )));
            }
            out.push(value);
        }
        serde_json::to_vec(&out).map_err(Error::new)
    }

    fn url(&self) -> Result<String, Error> {
        let key = match (&self.inner.key, self.inner.cloud) {
            (Some(k), _) => k.expose().to_owned(),
            (None, false) => DEV_EVENT_KEY.to_owned(),
            (None, true) => {
                return Err(Error::msg(
                    "no event key: set INNGEST_EVENT_KEY to send events to Inngest Cloud (or INNGEST_DEV=1 for the dev server)",
                ))
            }
        };
        Ok(format!("{}/e/{key}", self.inner.origin))
    }

    /// POSTs, retrying network errors and 5xx answers with exponential backoff and jitter.
    /// The event-id seed stays the same across retries, so Inngest deduplicates them.
    async fn post(&self, body: Vec<u8>) -> Result<Vec<String>, Error> {
        let url = self.url()?;
        let shown = redact(&url);
        let seed = id_seed();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .inner
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header(headers::X_INNGEST_SDK, SDK_HEADER_VALUE)
                .header(headers::X_INNGEST_EVENT_ID_SEED, &seed)
                .body(body.clone());
            if let Some(env) = &self.inner.env {
                req = req.header(headers::X_INNGEST_ENV, env);
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

static GLOBAL: OnceLock<Client> = OnceLock::new();
static EMBEDDED: OnceLock<crate::dev::Engine> = OnceLock::new();

/// The embedded engine this process serves, once `serve()` has started it.
pub(crate) fn embedded() -> Option<crate::dev::Engine> {
    EMBEDDED.get().cloned()
}

/// Makes `inngest::send` deliver to this process's embedded engine (the first one served).
pub(crate) fn set_embedded(engine: crate::dev::Engine) {
    let _ = EMBEDDED.set(engine);
}

fn global() -> Result<&'static Client, Error> {
    if let Some(c) = GLOBAL.get() {
        return Ok(c);
    }
    let client = Client::from_env()?;
    Ok(GLOBAL.get_or_init(|| client))
}

/// Sends one event with the client configured from the environment; returns its id.
pub async fn send<E: Serialize>(event: &Event<E>) -> Result<String, Error> {
    global()?.send(event).await
}

/// Sends events with the client configured from the environment; returns their ids.
pub async fn send_many<E: Serialize>(events: &[Event<E>]) -> Result<Vec<String>, Error> {
    global()?.send_many(events).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_events_and_refuses_bad_ones() {
        let c = Client::dev("http://127.0.0.1:8288/");
        let mut stamped = Event::new("user/signup", json!({"a": 1}));
        stamped.ts = Some(5);
        let body = c.encode(&[stamped]).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            json!([{"name": "user/signup", "data": {"a": 1}, "ts": 5}])
        );
        let body = c.encode(&[Event::new("x/y", Value::Null)]).unwrap();
        let sent: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(sent[0]["data"], json!({}));
        assert!(
            sent[0]["ts"].as_i64().unwrap() > 1_600_000_000_000,
            "ts is set to now"
        );
        assert_eq!(
            c.encode(&[Event::new("x", json!([1]))])
                .unwrap_err()
                .to_string(),
            "the data of the event `x` must serialize to a JSON object"
        );
        assert_eq!(
            c.encode(&[Event::new("inngest/function.failed", json!({}))]).unwrap_err().to_string(),
            "the event name `inngest/function.failed` is in the `inngest/` namespace, which Inngest reserves"
        );
        let big = json!({"blob": "x".repeat(MAX_EVENT_BYTES)});
        assert!(c
            .encode(&[Event::new("big", big)])
            .unwrap_err()
            .to_string()
            .contains("at most 524288 bytes"));
        assert_eq!(c.url().unwrap(), "http://127.0.0.1:8288/e/NO_EVENT_KEY_SET");
    }

    #[test]
    fn cloud_needs_an_event_key_and_hides_it() {
        let c = Client::build("https://inn.gs".into(), None, None, true);
        assert!(c.url().unwrap_err().to_string().starts_with("no event key"));
        let c = Client::cloud("secret-key");
        assert_eq!(c.url().unwrap(), "https://inn.gs/e/secret-key");
        assert_eq!(
            redact("https://inn.gs/e/secret-key"),
            "https://inn.gs/e/***"
        );
        assert_eq!(
            redact("error sending request for url (https://inn.gs/e/k)"),
            "error sending request for url (https://inn.gs/e/***)"
        );
        assert!(!format!("{c:?}").contains("secret-key"));
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
