//! The JSON shapes of the Inngest protocol (protocol.md), as plain serde types. Behaviour lives
//! elsewhere; these only describe what crosses the wire.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::SerializedError;
use crate::step::id::StepId;

/// The body of a call request (protocol.md section 2).
#[derive(Debug, Deserialize)]
pub struct CallRequest {
    /// The first triggering event.
    pub event: Value,
    /// Every triggering event.
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<Value>,
    /// Memoized steps by hashed id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub steps: HashMap<String, Value>,
    /// The stored request version (`-1` on the first call).
    #[serde(default)]
    pub version: Option<i64>,
    /// Deprecated copy of `ctx.use_api`.
    #[serde(default)]
    pub use_api: bool,
    /// The call's context.
    pub ctx: CallContext,
}

/// `ctx` of a call request.
#[derive(Debug, Deserialize)]
pub struct CallContext {
    /// The function's UUID on the server.
    #[serde(default)]
    pub fn_id: Option<String>,
    /// The run's id.
    pub run_id: String,
    /// The environment's name.
    #[serde(default)]
    pub env: Option<String>,
    /// `"step"` or a hashed step id.
    #[serde(default)]
    pub step_id: Option<String>,
    /// The 0-based attempt of this queue item.
    #[serde(default)]
    pub attempt: u32,
    /// `retries + 1`; when missing, no attempt counts as the last.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// The order in which memoized steps finished.
    #[serde(default)]
    pub stack: Option<CallStack>,
    /// Whether immediate execution of a new step is disabled.
    #[serde(default)]
    pub disable_immediate_execution: bool,
    /// Whether the steps must be fetched from the API.
    #[serde(default)]
    pub use_api: bool,
}

/// `ctx.stack`.
#[derive(Debug, Deserialize)]
pub struct CallStack {
    /// Hashed ids of memoized steps in the order they finished.
    #[serde(default, deserialize_with = "null_as_default")]
    pub stack: Vec<String>,
    /// The stack index of this call.
    #[serde(default)]
    pub current: Option<i64>,
}

/// Reads `null` as the default: Go marshals a nil slice or map as `null`, and older servers
/// sent `"stack": null` (the JS SDK reads it as `[]` too).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Opcode names (protocol.md section 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Opcode {
    /// A `run` step executed in this request.
    StepRun,
    /// A step failed and attempts remain.
    StepError,
    /// A step failed for good.
    StepFailed,
    /// A step was found but not run.
    StepPlanned,
    /// A sleep.
    Sleep,
    /// A wait for an event.
    WaitForEvent,
    /// An invocation of another function.
    InvokeFunction,
    /// The function's result inside a 206.
    RunComplete,
}

/// One op of a 206 response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Op {
    /// The hashed step id.
    pub id: String,
    /// What happened.
    pub op: Opcode,
    /// The user's step id.
    pub name: String,
    /// The name shown in the UI.
    #[serde(rename = "displayName")]
    pub display_name: String,
    /// The step's output (`StepRun`), which may be `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The step's error (`StepError`, `StepFailed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SerializedError>,
    /// Opcode-specific options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opts: Option<Value>,
    /// The user's id and repeat index.
    pub userland: Userland,
}

impl Op {
    /// An op for the step `id` with nothing else set.
    pub(crate) fn new(op: Opcode, id: &StepId) -> Op {
        Op {
            id: id.hashed(),
            op,
            name: id.user.clone(),
            display_name: id.user.clone(),
            data: None,
            error: None,
            opts: None,
            userland: Userland {
                id: id.user.clone(),
                index: (id.index > 0).then_some(id.index),
            },
        }
    }
}

/// `userland` of an op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Userland {
    /// The user's step id.
    pub id: String,
    /// The repeat index, for a repeated id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

/// The body of `POST /fn/register` (protocol.md section 1.2).
#[derive(Debug, Serialize)]
pub struct RegisterRequest {
    /// The absolute serve URL.
    pub url: String,
    /// Protocol version, `"0.1"`.
    pub v: &'static str,
    /// `"ping"`.
    #[serde(rename = "deployType")]
    pub deploy_type: &'static str,
    /// `"rust:v<version>"`.
    pub sdk: String,
    /// The HTTP framework.
    pub framework: &'static str,
    /// The app id.
    #[serde(rename = "appName")]
    pub app_name: String,
    /// The functions.
    pub functions: Vec<FunctionConfig>,
}

/// One function of a register payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionConfig {
    /// `"<app>-<fn>"`.
    pub id: String,
    /// The display name.
    pub name: String,
    /// The triggers.
    pub triggers: Vec<TriggerConfig>,
    /// Its single HTTP step.
    pub steps: BTreeMap<String, StepConfig>,
    /// Concurrency limits, at most two.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub concurrency: Vec<ConcurrencyConfig>,
    /// The throttle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleConfig>,
    /// The rate limit.
    #[serde(rename = "rateLimit", skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitConfig>,
    /// The debounce.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debounce: Option<DebounceConfig>,
    /// The idempotency key expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<String>,
    /// Batching.
    #[serde(rename = "batchEvents", skip_serializing_if = "Option::is_none")]
    pub batch_events: Option<BatchEventsConfig>,
    /// The events that cancel a run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cancel: Vec<CancelConfig>,
    /// The run priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<PriorityConfig>,
    /// Start and finish timeouts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<TimeoutsConfig>,
    /// The singleton.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub singleton: Option<SingletonConfig>,
}

/// A trigger of a function config: an event (with an optional expression) or a cron schedule
/// (with an optional jitter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TriggerConfig {
    /// The event name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The CEL expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// The cron schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// The cron jitter, a time string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<String>,
}

/// An entry of `concurrency`: `{limit, key?, scope?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConcurrencyConfig {
    /// Steps running at once.
    pub limit: u32,
    /// The key expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `"fn"`, `"env"` or `"account"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'static str>,
}

/// `throttle`: `{limit, period, burst?, key?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThrottleConfig {
    /// Runs started per period.
    pub limit: u32,
    /// The period, a time string.
    pub period: String,
    /// Runs that may start at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// The key expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// `rateLimit`: `{limit, period, key?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RateLimitConfig {
    /// Runs started per period.
    pub limit: u32,
    /// The period, a time string.
    pub period: String,
    /// The key expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// `debounce`: `{period, key?, timeout?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DebounceConfig {
    /// The quiet period, a time string.
    pub period: String,
    /// The key expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The longest delay, a time string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `batchEvents`: `{maxSize, timeout, key?, if?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchEventsConfig {
    /// The largest batch.
    #[serde(rename = "maxSize")]
    pub max_size: u32,
    /// How long a batch waits to fill, a time string.
    pub timeout: String,
    /// The key expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The expression an event must match to be batched.
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub if_expression: Option<String>,
}

/// An entry of `cancel`: `{event, if?, timeout?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancelConfig {
    /// The cancelling event's name.
    pub event: String,
    /// The expression over `event` and `async`.
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub if_expression: Option<String>,
    /// How long the run listens, a time string or an RFC 3339 time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `priority`: `{run}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriorityConfig {
    /// The priority expression.
    pub run: String,
}

/// `timeouts`: `{start?, finish?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeoutsConfig {
    /// The longest wait before starting, a time string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// The longest run once started, a time string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish: Option<String>,
}

/// `singleton`: `{key?, mode}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SingletonConfig {
    /// The key expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `"skip"` or `"cancel"`.
    pub mode: &'static str,
}

/// `steps.step` of a function config.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepConfig {
    /// `"step"`.
    pub id: &'static str,
    /// `"step"`.
    pub name: &'static str,
    /// How Inngest calls it.
    pub runtime: StepRuntime,
    /// How many times Inngest retries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<StepRetries>,
}

/// `runtime` of a step config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRuntime {
    /// `"http"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `<serve url>?fnId=<id>&stepId=step`.
    pub url: String,
}

/// `retries` of a step config: `attempts` is the number of retries (protocol.md 1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StepRetries {
    /// Retries after the first attempt.
    pub attempts: u32,
}

/// The unauthenticated introspection body of `GET` (protocol.md section 1.1).
#[derive(Debug, Serialize)]
pub struct Introspection {
    /// `null`: the request was not signed.
    pub authentication_succeeded: Option<bool>,
    /// Extra facts about this SDK.
    pub extra: IntrospectionExtra,
    /// How many functions are served (failure handlers included).
    pub function_count: usize,
    /// Whether an event key is configured.
    pub has_event_key: bool,
    /// Whether a signing key is configured.
    pub has_signing_key: bool,
    /// Whether a fallback signing key is configured.
    pub has_signing_key_fallback: bool,
    /// `"dev"` or `"cloud"`.
    pub mode: &'static str,
    /// `"2024-05-24"`.
    pub schema_version: &'static str,
}

/// `extra` of the introspection body.
#[derive(Debug, Serialize)]
pub struct IntrospectionExtra {
    /// `"rust"`.
    pub sdk_language: &'static str,
    /// The SDK's version.
    pub sdk_version: &'static str,
    /// Whether the Inngest server is embedded in this process.
    pub embedded: bool,
}

/// The body of a PUT (sync) request.
#[derive(Debug, Default, Deserialize)]
pub struct SyncRequest {
    /// The URL Inngest wants the app to register with.
    #[serde(default)]
    pub url: Option<String>,
}

/// The body of the answer to a PUT.
#[derive(Debug, Serialize)]
pub struct SyncResponse {
    /// What happened.
    pub message: String,
    /// Whether the app's configuration changed.
    pub modified: bool,
}

/// The register endpoint's answer.
#[derive(Debug, Default, Deserialize)]
pub struct RegisterResponse {
    /// Whether the configuration changed.
    #[serde(default)]
    pub modified: bool,
    /// A message.
    #[serde(default)]
    pub message: Option<String>,
    /// An error.
    #[serde(default)]
    pub error: Option<String>,
}

/// The authenticated introspection body of `GET`, for a request signed with a valid key
/// (protocol.md section 1.1). Keys appear only as hashes.
#[derive(Debug, Serialize)]
pub struct AuthenticatedIntrospection {
    /// `true`.
    pub authentication_succeeded: bool,
    /// The Inngest API origin.
    pub api_origin: String,
    /// The app id.
    pub app_id: String,
    /// What this SDK supports.
    pub capabilities: Capabilities,
    /// The branch environment.
    pub env: Option<String>,
    /// The event API origin.
    pub event_api_origin: String,
    /// Hex SHA-256 of the event key.
    pub event_key_hash: Option<String>,
    /// The HTTP framework.
    pub framework: &'static str,
    /// How many functions are served.
    pub function_count: usize,
    /// Whether an event key is configured.
    pub has_event_key: bool,
    /// Whether a signing key is configured.
    pub has_signing_key: bool,
    /// Whether a fallback signing key is configured.
    pub has_signing_key_fallback: bool,
    /// `"cloud"`.
    pub mode: &'static str,
    /// `"2024-05-24"`.
    pub schema_version: &'static str,
    /// `"rust"`.
    pub sdk_language: &'static str,
    /// The SDK's version.
    pub sdk_version: &'static str,
    /// The configured serve origin.
    pub serve_origin: Option<String>,
    /// The serve path.
    pub serve_path: String,
    /// The hashed signing key (as sent in `Authorization`).
    pub signing_key_hash: Option<String>,
    /// The hashed fallback signing key.
    pub signing_key_fallback_hash: Option<String>,
}

/// `capabilities` of the introspection and in-band sync bodies.
#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    /// `"v1"`.
    pub in_band_sync: &'static str,
    /// `"v1"`.
    pub trust_probe: &'static str,
}

/// The body of an in-band sync answer (protocol.md section 1.3).
#[derive(Debug, Serialize)]
pub struct InBandSync {
    /// The app id.
    pub app_id: String,
    /// What this SDK supports.
    pub capabilities: Capabilities,
    /// The branch environment.
    pub env: Option<String>,
    /// The HTTP framework.
    pub framework: &'static str,
    /// The functions.
    pub functions: Vec<FunctionConfig>,
    /// The authenticated introspection.
    pub inspection: AuthenticatedIntrospection,
    /// The hosting platform, if known.
    pub platform: Option<String>,
    /// `"inngest"`.
    pub sdk_author: &'static str,
    /// `"rust"`.
    pub sdk_language: &'static str,
    /// The SDK's version.
    pub sdk_version: &'static str,
    /// The URL Inngest calls.
    pub url: String,
}
