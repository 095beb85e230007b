//! The event client: sends events through a sink the app configures. Over HTTP to
//! `<event api>/e/<event key>` (protocol.md section 6.5) in dev and cloud mode; into the engine
//! the app started, in embedded mode.

mod http;
mod local;

use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use inngest_protocol::event::Event;
use inngest_protocol::limits::{INTERNAL_EVENT_PREFIX, MAX_EVENTS_PER_REQUEST, MAX_EVENT_BYTES};
use serde::Serialize;
use serde_json::Value;

use crate::config::{var, Config, Mode, Overrides, Secret};
use crate::error::Error;
use crate::middleware::{DynMiddleware, Middleware, Stack};
use crate::BoxFuture;

pub(crate) use local::install_local;

/// Where a client's events go: the event API over HTTP, the engine the app started, or a
/// test's capture.
pub(crate) trait EventSink: Send + Sync + 'static {
    /// Delivers checked events; returns their ids in order.
    fn deliver(&self, events: Vec<Value>) -> BoxFuture<Result<Vec<String>, Error>>;

    /// Delivers checked events sent under a W3C trace context (feature `opentelemetry`),
    /// which the runs they start are to carry.
    fn deliver_traced(
        &self,
        events: Vec<Value>,
        trace: Option<TraceHeaders>,
    ) -> BoxFuture<Result<Vec<String>, Error>> {
        let _ = trace;
        self.deliver(events)
    }
}

/// The W3C trace context events are sent under: the `traceparent` and `tracestate` headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TraceHeaders {
    pub traceparent: String,
    pub tracestate: Option<String>,
}

/// The trace context of the current span, with the feature `opentelemetry`.
fn current_trace() -> Option<TraceHeaders> {
    #[cfg(feature = "opentelemetry")]
    return crate::otel::current();
    #[cfg(not(feature = "opentelemetry"))]
    return None;
}

/// Sends events to Inngest. Cheap to clone.
///
/// [`Client::from_env`] reads `INNGEST_EVENT_KEY`, `INNGEST_DEV`, `INNGEST_BASE_URL`,
/// `INNGEST_EVENT_API_BASE_URL` and `INNGEST_ENV` as the other SDKs do.
#[derive(Clone)]
pub struct Client {
    sink: Sink,
    /// Middleware applied to what this client sends (`transform_send_event`,
    /// `wrap_send_event`).
    middleware: Stack,
}

#[derive(Clone)]
enum Sink {
    /// `POST <origin>/e/<key>`.
    Http(Arc<http::HttpSink>),
    /// Anything else: an engine in this process, a capture.
    Local(Arc<dyn EventSink>),
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sink {
            Sink::Http(http) => http.fmt(f),
            Sink::Local(_) => f.debug_struct("Client").finish_non_exhaustive(),
        }
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
        Client::http(http::HttpSink::new(
            origin.into().trim_end_matches('/').to_owned(),
            None,
            None,
            false,
        ))
    }

    /// A client for Inngest Cloud with this event key.
    pub fn cloud(event_key: impl Into<String>) -> Client {
        Client::http(http::HttpSink::new(
            "https://inn.gs".to_owned(),
            Some(Secret::new(event_key.into())),
            var("INNGEST_ENV"),
            true,
        ))
    }

    /// Sends to another event API origin (a self-hosted server).
    pub fn with_event_api(self, origin: impl Into<String>) -> Client {
        match &self.sink {
            Sink::Http(http) => Client {
                sink: Sink::Http(Arc::new(http.with_origin(origin.into()))),
                middleware: self.middleware.clone(),
            },
            Sink::Local(_) => self,
        }
    }

    fn http(sink: http::HttpSink) -> Client {
        Client {
            sink: Sink::Http(Arc::new(sink)),
            middleware: Stack::default(),
        }
    }

    /// A client that delivers through `sink`.
    pub(crate) fn with_sink(sink: Arc<dyn EventSink>) -> Client {
        Client {
            sink: Sink::Local(sink),
            middleware: Stack::default(),
        }
    }

    /// The same client, with `middleware` applied to what it sends
    /// ([`transform_send_event`](Middleware::transform_send_event) and
    /// [`wrap_send_event`](Middleware::wrap_send_event), after the middleware added before):
    /// the encryption middleware, for instance, encrypts the events' `data.encrypted`.
    pub fn with_middleware(mut self, middleware: impl Middleware) -> Client {
        let added: Arc<dyn DynMiddleware> = Arc::new(middleware);
        self.middleware = self.middleware.then(vec![added]);
        self
    }

    /// The client for a configuration: HTTP to the event API, or, in embedded mode, the
    /// engine the app in this process starts (events sent before it starts wait for it).
    pub(crate) fn from_config(config: &Config) -> Client {
        if config.mode == Mode::Embedded {
            return Client::with_sink(Arc::new(local::Deferred));
        }
        Client::http(http::HttpSink::new(
            config.event_origin.clone(),
            config.event_key.clone(),
            config.env.clone(),
            config.mode == Mode::Cloud,
        ))
    }

    /// Sends one event; returns its id.
    pub async fn send<E: Serialize>(&self, event: &Event<E>) -> Result<String, Error> {
        let mut ids = self.send_many(std::slice::from_ref(event)).await?;
        ids.pop()
            .ok_or_else(|| Error::msg("the event API returned no id for the event"))
    }

    /// Sends events in one request; returns their ids in order.
    pub async fn send_many<E: Serialize>(&self, events: &[Event<E>]) -> Result<Vec<String>, Error> {
        let events = encode(events)?;
        if self.middleware.is_empty() {
            return self.deliver(events).await;
        }
        self.middleware
            .send_events(None, events, |events| self.deliver(events))
            .await
    }

    /// Delivers checked events as they are (no middleware), under the current span's trace
    /// context (feature `opentelemetry`).
    pub(crate) fn deliver(&self, events: Vec<Value>) -> BoxFuture<Result<Vec<String>, Error>> {
        let trace = current_trace();
        match &self.sink {
            Sink::Http(http) => {
                let http = http.clone();
                Box::pin(async move { http.post(events, trace.as_ref()).await })
            }
            Sink::Local(sink) => sink.deliver_traced(events, trace),
        }
    }
}

/// Checks and serializes events: named, not in the reserved `inngest/` namespace, `data`
/// an object, each at most 512 KB; `ts` is set to now when missing, as the JS SDK does.
pub(crate) fn encode<E: Serialize>(events: &[Event<E>]) -> Result<Vec<Value>, Error> {
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
    Ok(out)
}

static GLOBAL: OnceLock<Client> = OnceLock::new();

fn global() -> Result<&'static Client, Error> {
    if let Some(c) = GLOBAL.get() {
        return Ok(c);
    }
    let client = Client::from_env()?;
    Ok(GLOBAL.get_or_init(|| client))
}

/// Sends one event with the client configured from the environment; returns its id.
///
/// In embedded mode the event goes into the engine that the app of this process starts, whether
/// this is called before, while or after `serve()` starts (sent before, it waits for it).
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
        let mut stamped = Event::new("user/signup", json!({"a": 1}));
        stamped.ts = Some(5);
        assert_eq!(
            encode(&[stamped]).unwrap(),
            vec![json!({"name": "user/signup", "data": {"a": 1}, "ts": 5})]
        );
        let sent = encode(&[Event::new("x/y", Value::Null)]).unwrap();
        assert_eq!(sent[0]["data"], json!({}));
        assert!(
            sent[0]["ts"].as_i64().unwrap() > 1_600_000_000_000,
            "ts is set to now"
        );
        assert_eq!(
            encode(&[Event::new("x", json!([1]))])
                .unwrap_err()
                .to_string(),
            "the data of the event `x` must serialize to a JSON object"
        );
        assert_eq!(
            encode(&[Event::new("inngest/function.failed", json!({}))]).unwrap_err().to_string(),
            "the event name `inngest/function.failed` is in the `inngest/` namespace, which Inngest reserves"
        );
        let big = json!({"blob": "x".repeat(MAX_EVENT_BYTES)});
        assert!(encode(&[Event::new("big", big)])
            .unwrap_err()
            .to_string()
            .contains("at most 524288 bytes"));
    }
}
