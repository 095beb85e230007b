//! The register payload (protocol.md section 1.2): `POST <api>/fn/register` with the app's
//! function configs. The SDK writes it; the engine reads it from any SDK, so reading is
//! lenient where the official SDKs differ (PY's `appname`, a number for `concurrency`, Go's
//! top-level `retries`, `step=step` URLs).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::null_as_default;

/// The id, name and `steps` key of a function's single HTTP step.
pub const FUNCTION_STEP_ID: &str = "step";

/// The body of `POST /fn/register`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// The absolute serve URL.
    #[serde(default)]
    pub url: String,
    /// Protocol version: `"0.1"` (JS, PY, Rust) or `"1"` (Go); not checked.
    #[serde(default)]
    pub v: String,
    /// `"ping"`, or `"connect"` for WebSocket workers.
    #[serde(rename = "deployType", default)]
    pub deploy_type: String,
    /// `"<lang>:v<semver>"`, e.g. `"rust:v0.1.0"`, `"js:v4.2.0"`.
    #[serde(default)]
    pub sdk: String,
    /// The HTTP framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// The app id (PY sends `appname`).
    #[serde(rename = "appName", alias = "appname", default)]
    pub app_name: String,
    /// The app's version, when the SDK sets one.
    #[serde(
        rename = "appVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub app_version: Option<String>,
    /// What the SDK supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Value>,
    /// The functions.
    #[serde(default, deserialize_with = "null_as_default")]
    pub functions: Vec<FunctionConfig>,
}

/// The register endpoint's answer (`{"ok", "modified", "message"?, "error"?}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterResponse {
    /// Whether the sync succeeded.
    #[serde(default)]
    pub ok: bool,
    /// Whether the configuration changed.
    #[serde(default)]
    pub modified: bool,
    /// A message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// An error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One function of a register payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionConfig {
    /// The slug, `"<app-id>-<function-id>"`.
    pub id: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// What the function does, for people (the dashboard); not read by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The triggers.
    #[serde(default, deserialize_with = "null_as_default")]
    pub triggers: Vec<TriggerConfig>,
    /// Its single HTTP step.
    #[serde(default, deserialize_with = "null_as_default")]
    pub steps: BTreeMap<String, StepConfig>,
    /// Go's sugar for `steps.step.retries.attempts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Concurrency limits, at most two (read from a number, an object or an array).
    #[serde(
        default,
        deserialize_with = "concurrency_any",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub concurrency: Vec<ConcurrencyConfig>,
    /// The throttle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleConfig>,
    /// The rate limit.
    #[serde(rename = "rateLimit", default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitConfig>,
    /// The debounce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debounce: Option<DebounceConfig>,
    /// The idempotency key expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<String>,
    /// Batching.
    #[serde(
        rename = "batchEvents",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub batch_events: Option<BatchEventsConfig>,
    /// The events that cancel a run.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cancel: Vec<CancelConfig>,
    /// The run priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<PriorityConfig>,
    /// Start and finish timeouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<TimeoutsConfig>,
    /// The singleton.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub singleton: Option<SingletonConfig>,
    /// Checkpointing settings (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Value>,
}

impl FunctionConfig {
    /// The function's HTTP step (`steps.step`, else the first step).
    pub fn step(&self) -> Option<&StepConfig> {
        self.steps
            .get(FUNCTION_STEP_ID)
            .or_else(|| self.steps.values().next())
    }

    /// Retries after the first attempt: the step's, else Go's top-level `retries`, else
    /// the server's default; capped at the server's maximum.
    pub fn retries(&self) -> u32 {
        self.step()
            .and_then(|s| s.retries)
            .map(|r| r.attempts)
            .or(self.retries)
            .unwrap_or(crate::limits::DEFAULT_RETRIES)
            .min(crate::limits::MAX_RETRIES)
    }
}

/// A trigger: an event (with an optional expression) or a cron schedule (with an optional
/// jitter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerConfig {
    /// The event name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The CEL expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// The cron schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// The cron jitter, a time string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<String>,
}

/// Where a concurrency limit applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ConcurrencyScope {
    /// Runs of this function.
    Fn,
    /// Every function of the environment that uses the same key.
    Env,
    /// Every function of the account that uses the same key.
    Account,
}

impl ConcurrencyScope {
    /// `"fn"`, `"env"` or `"account"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConcurrencyScope::Fn => "fn",
            ConcurrencyScope::Env => "env",
            ConcurrencyScope::Account => "account",
        }
    }
}

/// An entry of `concurrency`: `{limit, key?, scope?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcurrencyConfig {
    /// Steps running at once.
    pub limit: u32,
    /// The key expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Where the limit applies (`fn` when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ConcurrencyScope>,
}

/// Reads `concurrency` in every form the server reads: a number, one object, an array, or
/// `{"fn": [...], "step": [...]}` (the step limits, then the function limits).
fn concurrency_any<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ConcurrencyConfig>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Any {
        Limit(u32),
        One(ConcurrencyConfig),
        Many(Vec<ConcurrencyConfig>),
        Split {
            #[serde(default, rename = "fn")]
            function: Vec<ConcurrencyConfig>,
            #[serde(default)]
            step: Vec<ConcurrencyConfig>,
        },
        Null(()),
    }
    Ok(match Any::deserialize(d)? {
        Any::Limit(0) | Any::Null(()) => Vec::new(),
        Any::Limit(limit) => vec![ConcurrencyConfig {
            limit,
            key: None,
            scope: None,
        }],
        Any::One(c) => vec![c],
        Any::Many(cs) => cs,
        Any::Split { function, step } => step.into_iter().chain(function).collect(),
    })
}

/// `throttle`: `{limit, period, burst?, key?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleConfig {
    /// Runs started per period.
    pub limit: u32,
    /// The period, a time string.
    pub period: String,
    /// Runs that may start at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// The key expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// `rateLimit`: `{limit, period, key?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitConfig {
    /// Runs started per period.
    pub limit: u32,
    /// The period, a time string.
    pub period: String,
    /// The key expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// `debounce`: `{period, key?, timeout?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebounceConfig {
    /// The quiet period, a time string.
    pub period: String,
    /// The key expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The longest delay, a time string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `batchEvents`: `{maxSize, timeout, key?, if?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchEventsConfig {
    /// The largest batch.
    #[serde(rename = "maxSize")]
    pub max_size: u32,
    /// How long a batch waits to fill, a time string.
    pub timeout: String,
    /// The key expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The expression an event must match to be batched.
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub if_expression: Option<String>,
}

/// An entry of `cancel`: `{event, if?, timeout?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelConfig {
    /// The cancelling event's name.
    pub event: String,
    /// The expression over `event` and `async`.
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub if_expression: Option<String>,
    /// How long the run listens, a time string or an RFC 3339 time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `priority`: `{run}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityConfig {
    /// The priority expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

/// `timeouts`: `{start?, finish?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutsConfig {
    /// The longest wait before starting, a time string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// The longest run once started, a time string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<String>,
}

/// What a singleton does with a new run while one runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SingletonMode {
    /// The new run is skipped.
    Skip,
    /// The running one is cancelled.
    Cancel,
}

impl SingletonMode {
    /// `"skip"` or `"cancel"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SingletonMode::Skip => "skip",
            SingletonMode::Cancel => "cancel",
        }
    }
}

/// `singleton`: `{key?, mode}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SingletonConfig {
    /// The key expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Skip or cancel.
    pub mode: SingletonMode,
}

/// `steps.step` of a function config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepConfig {
    /// `"step"`.
    #[serde(default)]
    pub id: String,
    /// `"step"`.
    #[serde(default)]
    pub name: String,
    /// How Inngest calls it.
    pub runtime: StepRuntime,
    /// How many times Inngest retries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<StepRetries>,
}

/// `runtime` of a step config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRuntime {
    /// `"http"` (or `"ws"` for Connect workers).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `<serve url>?fnId=<id>&stepId=step`.
    #[serde(default)]
    pub url: String,
}

/// `retries` of a step config: `attempts` is the number of retries (protocol.md 1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRetries {
    /// Retries after the first attempt.
    pub attempts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_each_sdk_sends() {
        let payload: RegisterRequest = serde_json::from_value(json!({
            "url": "http://x/api", "v": "1", "sdk": "py:v0.5.19", "appname": "py-app",
            "functions": [
                {"id": "py-app-a", "triggers": [{"event": "a"}], "concurrency": 3,
                 "steps": {"step": {"id": "step", "name": "step", "runtime": {"type": "http", "url": "http://x/api?fnId=py-app-a&step=step"}, "retries": {"attempts": 0}}}},
                {"id": "py-app-b", "triggers": null, "concurrency": {"fn": [{"limit": 2, "key": "event.data.k", "scope": "env"}]},
                 "retries": 7, "steps": {"step": {"runtime": {"url": "http://x"}}}},
                {"id": "py-app-c", "concurrency": [{"limit": 1}], "singleton": {"mode": "cancel"}, "steps": {}}
            ]
        }))
        .unwrap();
        assert_eq!(payload.app_name, "py-app");
        let f = &payload.functions;
        assert_eq!(f[0].concurrency[0].limit, 3);
        assert_eq!(f[0].retries(), 0);
        assert_eq!(f[1].concurrency[0].scope, Some(ConcurrencyScope::Env));
        assert_eq!(f[1].retries(), 7);
        assert!(f[1].triggers.is_empty());
        assert_eq!(f[2].singleton.as_ref().unwrap().mode, SingletonMode::Cancel);
        assert_eq!(f[2].retries(), crate::limits::DEFAULT_RETRIES);
        assert!(f[2].step().is_none());
    }
}
