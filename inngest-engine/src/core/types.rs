//! What the core tells its driver and its readers: calls to make, timeline entries, views of
//! runs, and the errors of its inputs.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use inngest_protocol::op::Opcode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use inngest_protocol::event::RunStatus;

/// Identifies one call the core asked for, to match its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallId(pub u64);

/// A call request to make to an app's serve endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Call {
    /// Answer it with [`Core::call_finished`](super::Core::call_finished).
    pub id: CallId,
    /// The app that serves the function (its transport).
    pub app_id: String,
    /// The function's slug.
    pub function_id: String,
    /// The run.
    pub run_id: String,
    /// `"step"` or the hashed id of the step to run.
    pub step_id: String,
    /// The 0-based attempt.
    pub attempt: u32,
    /// The dispatch generation of its queue item, sent as `x-inngest-generation-id`: an SDK
    /// checkpoints with it, and a checkpoint from a call superseded since is refused (409).
    pub generation: u32,
    /// Its queue item's id, sent as `x-inngest-job-id` (the server's job id): the same for
    /// every attempt of the item.
    pub job_id: String,
    /// This dispatch's id, sent as `x-request-id`: a ULID of the dispatch time whose random
    /// part comes from the queue item's id and generation, as the server makes it (SDKs
    /// send it back as a checkpoint's `request_id`).
    pub request_id: String,
    /// The URL to post to (with `fnId` and `stepId`).
    pub url: String,
    /// The request version stored for the run (`x-inngest-req-version`).
    pub version: i64,
    /// The JSON body (a [`CallRequest`](inngest_protocol::call::CallRequest)).
    pub body: Bytes,
    /// The W3C trace context of the event that started the run, sent as the `traceparent`
    /// and `tracestate` headers (the engine has no spans of its own: the run's spans are
    /// children of the sender's).
    pub trace: Option<TraceContext>,
}

/// A W3C trace context, as the `traceparent` and `tracestate` headers carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceContext {
    /// `traceparent`: `00-<trace id>-<span id>-<flags>`.
    pub traceparent: String,
    /// `tracestate`, if any.
    pub tracestate: Option<String>,
}

/// An SDK's answer to a call request.
#[derive(Debug, Clone, Default)]
pub struct CallResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Bytes,
}

impl CallResponse {
    /// A header's value (names are lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Why a call got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    /// What went wrong (never a secret).
    pub message: String,
}

impl TransportError {
    /// A transport error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        TransportError {
            message: message.into(),
        }
    }
}

/// What the core asks its driver to do.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Output {
    /// Make this call and hand its answer back.
    Call(Call),
    /// Make this HTTP request for a run (`step.fetch`, `step.ai.infer`) and hand its
    /// result back with [`Core::fetch_finished`](super::Core::fetch_finished).
    Fetch(super::Fetch),
    /// Something happened (for timelines, logs and tests).
    Happening(Happening),
}

/// A timeline entry: something that happened in the engine.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Happening {
    /// An event was received (sent, or emitted by the engine itself).
    Event {
        /// Its id.
        id: String,
        /// Its name.
        name: String,
    },
    /// A run started.
    RunStarted {
        /// The run.
        run_id: String,
        /// Its function's slug.
        function_id: String,
        /// The triggering event's name.
        event: String,
    },
    /// An SDK reported a step: it ran (`StepRun`), failed (`StepError`, `StepFailed`), or
    /// was found (`StepPlanned`, `Sleep`, `WaitForEvent`, ...).
    Step {
        /// The run.
        run_id: String,
        /// The step's id as the user wrote it.
        step: String,
        /// What the SDK reported.
        op: Opcode,
        /// The 0-based attempt.
        attempt: u32,
    },
    /// A call failed and will be retried.
    Retrying {
        /// The run.
        run_id: String,
        /// The attempt that failed (0-based).
        attempt: u32,
        /// When the next one comes.
        delay: Duration,
        /// The error's message.
        error: String,
    },
    /// A run ended.
    RunEnded {
        /// The run.
        run_id: String,
        /// Its function's slug.
        function_id: String,
        /// How.
        status: RunStatus,
        /// Its output, or its error once failed.
        output: Value,
    },
}

/// A run as the REST API shows it (`GET /v1/runs/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RunView {
    /// The run's id.
    pub run_id: String,
    /// Its function's slug.
    pub function_id: String,
    /// Its status.
    pub status: RunStatus,
    /// Its output, or its error once failed.
    pub output: Option<Value>,
    /// The id of the event that triggered it.
    pub event_id: String,
    /// When it started (RFC 3339).
    pub run_started_at: String,
    /// When it ended (RFC 3339).
    pub ended_at: Option<String>,
}

/// A synced app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AppView {
    /// The app's id.
    pub id: String,
    /// Its serve URL.
    pub url: String,
    /// Its SDK, `"<lang>:v<version>"`.
    pub sdk: String,
    /// The slugs of its functions.
    pub functions: Vec<String>,
}

/// One step of a run as it happened: an op an SDK reported, with how it ended. Its JSON (the
/// API's, times in RFC 3339 with milliseconds) reads back exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StepRecord {
    /// The hashed step id.
    pub id: String,
    /// The step's id as the user wrote it.
    pub name: String,
    /// What the SDK reported.
    pub op: Opcode,
    /// The 0-based attempt.
    pub attempt: u32,
    /// The op's options (a sleep's duration, a wait's event, an invoke's target).
    pub opts: Option<Value>,
    /// When it was reported.
    #[serde(serialize_with = "rfc3339", deserialize_with = "parse_time")]
    pub at: SystemTime,
    /// When Inngest finished it (a sleep ended, a wait matched or timed out).
    #[serde(serialize_with = "rfc3339_opt", deserialize_with = "parse_time_opt")]
    pub resumed_at: Option<SystemTime>,
    /// Its output (or the memo it resumed with).
    pub output: Option<Value>,
    /// Its error.
    pub error: Option<Value>,
}

fn rfc3339<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&inngest_protocol::time::rfc3339_millis(*t))
}

/// An RFC 3339 time, to the nearest millisecond (what [`rfc3339`] wrote).
fn parse_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
    let text = String::deserialize(d)?;
    let t = inngest_protocol::time::parse_rfc3339(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {text:?}")))?;
    let nanos = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let ms = u64::try_from((nanos + 500_000) / 1_000_000).unwrap_or(u64::MAX);
    Ok(inngest_protocol::time::from_unix_millis(ms))
}

fn parse_time_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "parse_time")] SystemTime);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

fn rfc3339_opt<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

/// Why a sync was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// The payload names no app.
    #[error("the register payload has no `appName`")]
    NoAppName,
    /// A function has no id.
    #[error("a function has no `id`")]
    NoFunctionId,
    /// Two functions of the payload share an id.
    #[error("the function id `{0}` is used more than once")]
    DuplicateFunction(String),
    /// A function has no step URL to call.
    #[error("the function `{0}` has no step URL")]
    NoStepUrl(String),
    /// A function's configuration is invalid: the server's message and its reasons.
    #[error("At least one function is invalid: {function}: {}", reasons.join("; "))]
    InvalidFunction {
        /// The function's slug.
        function: String,
        /// Why, in the server's words (one line per problem).
        reasons: Vec<String>,
    },
}

/// Why events were refused, with the server's messages (`pkg/api`, `pkg/event`,
/// `pkg/eventstream`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The body is not an event or a list of events.
    #[error("Request body must contain an event object or an array of event objects")]
    NotEvents,
    /// More events than one request may carry.
    #[error("Cannot have more than {max} events in a batch")]
    TooMany {
        /// The most events a request may carry.
        max: usize,
    },
    /// An event is over the size limit.
    #[error("Event is over the max size: Max {max} bytes / Size {size} bytes", max = inngest_protocol::limits::ABSOLUTE_MAX_EVENT_BYTES)]
    TooLarge {
        /// Its position in the request.
        index: usize,
        /// Its size in bytes.
        size: usize,
    },
    /// An event is not a JSON object.
    #[error("event {index} is not a JSON object")]
    NotAnObject {
        /// Its position in the request.
        index: usize,
    },
    /// An event has no name.
    #[error("event name is empty")]
    NoName {
        /// Its position in the request.
        index: usize,
    },
    /// An event's name is in the `inngest/` namespace, which only Inngest may send.
    #[error("event name is reserved for internal use: {name}")]
    Reserved {
        /// Its position in the request.
        index: usize,
        /// Its name.
        name: String,
    },
    /// An event's `ts` is before 1980.
    #[error("timestamp is before Jan 1, 1980")]
    TsBefore1980 {
        /// Its position in the request.
        index: usize,
    },
    /// An event's `ts` is after 2100.
    #[error("timestamp is after Jan 1, 2100")]
    TsAfter2100 {
        /// Its position in the request.
        index: usize,
    },
}
