//! The event client: sends events, signals and realtime messages through a sink the app
//! configures. Over HTTP in dev and cloud mode: events to `<event api>/e/<event key>`
//! (protocol.md section 6.5), signals to `<api>/v1/signals` and messages to
//! `<api>/v1/realtime/publish` (protocol-2.md sections 3 and 5); into the engine the app
//! started, in embedded mode.

mod api;
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

pub(crate) use api::send_with_keys;
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

    /// Sends a signal; returns the run it resumed, or `None` when no run waits for it.
    fn signal(&self, signal: String, data: Value) -> BoxFuture<Result<Option<String>, Error>> {
        let _ = (signal, data);
        Box::pin(async { Err(Error::msg("this client does not send signals")) })
    }

    /// Publishes a realtime message.
    fn publish(&self, message: Publish) -> BoxFuture<Result<(), Error>> {
        let _ = message;
        Box::pin(async { Err(Error::msg("this client does not publish realtime messages")) })
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

/// A realtime message to publish.
#[derive(Debug, Clone)]
pub(crate) struct Publish {
    pub channel: String,
    pub topic: String,
    pub data: Value,
    /// The run publishing it, if a run is.
    pub run_id: Option<String>,
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
    /// `POST <origin>/e/<key>`, and the Inngest API for signals and realtime messages.
    Http(Arc<http::HttpSink>, Arc<api::ApiClient>),
    /// Anything else: an engine in this process, a capture.
    Local(Arc<dyn EventSink>),
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sink {
            Sink::Http(http, api) => f
                .debug_struct("Client")
                .field("events", http)
                .field("api", api)
                .finish(),
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

    /// A client for the Inngest dev server at `origin` (no event key needed); its API is at
    /// the same origin.
    pub fn dev(origin: impl Into<String>) -> Client {
        let origin = origin.into().trim_end_matches('/').to_owned();
        Client::http(
            http::HttpSink::new(origin.clone(), None, None, false),
            api::ApiClient::new(origin, None, None, None),
        )
    }

    /// A client for Inngest Cloud with this event key. Signals and realtime messages go to
    /// the Inngest API with the signing key of `INNGEST_SIGNING_KEY` (and
    /// `INNGEST_SIGNING_KEY_FALLBACK`), or the one given with [`Client::with_signing_key`].
    pub fn cloud(event_key: impl Into<String>) -> Client {
        Client::http(
            http::HttpSink::new(
                "https://inn.gs".to_owned(),
                Some(Secret::new(event_key.into())),
                var("INNGEST_ENV"),
                true,
            ),
            api::ApiClient::new(
                "https://api.inngest.com".to_owned(),
                var("INNGEST_SIGNING_KEY").map(Secret::new),
                var("INNGEST_SIGNING_KEY_FALLBACK").map(Secret::new),
                var("INNGEST_ENV"),
            ),
        )
    }

    /// Sends to another event API origin (a self-hosted server).
    pub fn with_event_api(self, origin: impl Into<String>) -> Client {
        match &self.sink {
            Sink::Http(http, api) => Client {
                sink: Sink::Http(Arc::new(http.with_origin(origin.into())), api.clone()),
                middleware: self.middleware.clone(),
            },
            Sink::Local(_) => self,
        }
    }

    /// Sends signals and realtime messages to another Inngest API origin (a self-hosted
    /// server).
    pub fn with_api(self, origin: impl Into<String>) -> Client {
        match &self.sink {
            Sink::Http(http, api) => Client {
                sink: Sink::Http(http.clone(), Arc::new(api.at(origin.into()))),
                middleware: self.middleware.clone(),
            },
            Sink::Local(_) => self,
        }
    }

    /// Authenticates signals and realtime messages with this signing key.
    pub fn with_signing_key(self, key: impl Into<String>) -> Client {
        match &self.sink {
            Sink::Http(http, api) => Client {
                sink: Sink::Http(
                    http.clone(),
                    Arc::new(api.with_keys(Secret::new(key.into()), None)),
                ),
                middleware: self.middleware.clone(),
            },
            Sink::Local(_) => self,
        }
    }

    fn http(sink: http::HttpSink, api: api::ApiClient) -> Client {
        Client {
            sink: Sink::Http(Arc::new(sink), Arc::new(api)),
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
        Client::http(
            http::HttpSink::new(
                config.event_origin.clone(),
                config.event_key.clone(),
                config.env.clone(),
                config.mode == Mode::Cloud,
            ),
            api::ApiClient::new(
                config.api_origin.clone(),
                config.signing_key.clone(),
                config.signing_key_fallback.clone(),
                config.env.clone(),
            ),
        )
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
            Sink::Http(http, _) => {
                let http = http.clone();
                Box::pin(async move { http.post(events, trace.as_ref()).await })
            }
            Sink::Local(sink) => sink.deliver_traced(events, trace),
        }
    }

    /// Sends a signal with `data` (any JSON): the run waiting for it with
    /// [`wait_for_signal`](crate::step::Step::wait_for_signal) resumes. Returns that run's id,
    /// or `None` when no run waits for the signal (or its wait timed out).
    pub async fn send_signal<T: Serialize>(
        &self,
        signal: &str,
        data: T,
    ) -> Result<Option<String>, Error> {
        if signal.trim().is_empty() {
            return Err(Error::msg("a signal needs a name"));
        }
        let data = serde_json::to_value(data).map_err(|e| {
            Error::msg(format!(
                "the data of the signal `{signal}` does not serialize to JSON: {e}"
            ))
        })?;
        match &self.sink {
            Sink::Http(_, api) => api.send_signal(signal.to_owned(), data).await,
            Sink::Local(sink) => sink.signal(signal.to_owned(), data).await,
        }
    }

    /// Publishes `data` on a realtime `channel` and `topic`, now (not as a step: it is
    /// published again when the function is replayed; use
    /// [`realtime_publish`](crate::step::Step::realtime_publish) in a function).
    pub async fn publish<T: Serialize>(
        &self,
        channel: &str,
        topic: &str,
        data: T,
    ) -> Result<(), Error> {
        self.publish_for(channel, topic, data, None).await
    }

    /// Publishes for a run.
    pub(crate) async fn publish_for<T: Serialize>(
        &self,
        channel: &str,
        topic: &str,
        data: T,
        run_id: Option<&str>,
    ) -> Result<(), Error> {
        if channel.is_empty() || topic.is_empty() {
            return Err(Error::msg("a realtime message needs a channel and a topic"));
        }
        let data = serde_json::to_value(data).map_err(|e| {
            Error::msg(format!(
                "the realtime message for `{channel}`/`{topic}` does not serialize to JSON: {e}"
            ))
        })?;
        let message = Publish {
            channel: channel.to_owned(),
            topic: topic.to_owned(),
            data,
            run_id: run_id.map(str::to_owned),
        };
        match &self.sink {
            Sink::Http(_, api) => api.publish(message).await,
            Sink::Local(sink) => sink.publish(message).await,
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

/// Sends a signal with the client configured from the environment (see
/// [`Client::send_signal`]): returns the run it resumed, or `None` when no run waits for it.
///
/// ```no_run
/// # async fn f() -> Result<(), inngest::Error> {
/// let resumed = inngest::send_signal("order-123-approved", serde_json::json!({"by": "ann"})).await?;
/// # Ok(()) }
/// ```
pub async fn send_signal<T: Serialize>(signal: &str, data: T) -> Result<Option<String>, Error> {
    global()?.send_signal(signal, data).await
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
