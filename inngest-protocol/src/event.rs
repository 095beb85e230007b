//! Events as functions receive them, and the typed payload of `inngest/function.failed`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An Inngest event: `{"id","name","data","user","ts"}` (protocol.md section 2).
///
/// `E` is the type of `data`; it defaults to raw JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event<E = Value> {
    /// The event's id (a ULID from Inngest); also its idempotency key when sending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The event's name, e.g. `"user/signup"`.
    pub name: String,
    /// The event's payload.
    pub data: E,
    /// User information attached to the event (`{}` when none).
    #[serde(default = "empty_object", skip_serializing_if = "is_empty_object")]
    pub user: Value,
    /// When the event happened, in milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<i64>,
    /// The version of the event's schema, if the sender set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<String>,
}

impl<E> Event<E> {
    /// A new event with this name and data, to send.
    ///
    /// ```
    /// use inngest_protocol::event::Event;
    /// #[derive(serde::Serialize)]
    /// struct Signup { user_id: String }
    ///
    /// let event = Event::new("user/signup", Signup { user_id: "42".into() })
    ///     .with_id("signup-42") // an idempotency key: sent twice, run once
    ///     .with_ts(1_712_345_678_901)
    ///     .with_version("2024-01-01");
    /// assert_eq!(event.id.as_deref(), Some("signup-42"));
    /// ```
    pub fn new(name: impl Into<String>, data: E) -> Self {
        Event {
            id: None,
            name: name.into(),
            data,
            user: empty_object(),
            ts: None,
            v: None,
        }
    }

    /// Sets the id, which Inngest uses as an idempotency key.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets when the event happened, in milliseconds since the Unix epoch (now, by default).
    pub fn with_ts(mut self, ts: i64) -> Self {
        self.ts = Some(ts);
        self
    }

    /// Attaches user information.
    pub fn with_user(mut self, user: Value) -> Self {
        self.user = user;
        self
    }

    /// Sets the version of the event's schema.
    pub fn with_version(mut self, v: impl Into<String>) -> Self {
        self.v = Some(v.into());
        self
    }
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

fn is_empty_object(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.is_empty())
}

/// The name of the event Inngest emits when a function fails for good.
pub const FUNCTION_FAILED_EVENT: &str = "inngest/function.failed";

/// The data of `inngest/function.failed` (protocol.md section 7.3), typed by the failed
/// function's event data `E`.
///
/// Failure handlers declared with `#[inngest::on_failure(f)]` receive
/// `Context<FunctionFailed<E>>`, where the macro checks at compile time that `E` is `f`'s
/// event type. A function triggered by `event = "inngest/function.failed"` with
/// `Context<FunctionFailed>` receives every failure in the environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionFailed<E = Value> {
    /// The composite id of the function that failed, `"<app-id>-<function-id>"`.
    pub function_id: String,
    /// The id of the run that failed.
    pub run_id: String,
    /// Why it failed.
    pub error: FailureError,
    /// The event that triggered the failed run (the first one, for a batch).
    pub event: Event<E>,
    /// Every event that triggered the failed run (empty when Inngest did not send them).
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event<E>>,
    /// Set when the failed run was invoked by another function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// The name of the event Inngest emits when a run is cancelled.
pub const FUNCTION_CANCELLED_EVENT: &str = "inngest/function.cancelled";

/// The data of `inngest/function.cancelled` (protocol.md section 7.3), typed by the cancelled
/// function's event data `E`. Cancel handlers declared with `#[inngest::on_cancel(f)]`
/// receive `Context<FunctionCancelled<E>>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCancelled<E = Value> {
    /// The composite id of the function whose run was cancelled.
    pub function_id: String,
    /// The id of the cancelled run.
    pub run_id: String,
    /// The event that triggered the cancelled run.
    pub event: Event<E>,
    /// Every event that triggered the cancelled run.
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event<E>>,
    /// Set when the cancelled run was invoked by another function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// The error of a failed run, as Inngest records it: `{error, name, message, stack?, cause?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureError {
    /// The error's name (`"NonRetriableError"`, the Rust error type's name, ...).
    #[serde(default = "crate::error::default_error_name")]
    pub name: String,
    /// The error's message.
    #[serde(default)]
    pub message: String,
    /// A stack trace, when one was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// The transport-level summary Inngest adds, e.g. `"invalid status code: 500"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause, as recorded (raw JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Value>,
    /// The id of the step that failed, when the run failed because a step failed for good
    /// and the function did not handle it (`stepId` in the function's error).
    #[serde(rename = "stepId", default, skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
}

/// The name of the event Inngest emits when a run ends, whatever its status.
pub const FUNCTION_FINISHED_EVENT: &str = "inngest/function.finished";

/// The name of the event that starts an invoked run (`step.invoke`).
pub const FUNCTION_INVOKED_EVENT: &str = "inngest/function.invoked";

/// The name of the event a cron trigger fires.
pub const SCHEDULED_TIMER_EVENT: &str = "inngest/scheduled.timer";

/// How a run ended, as `_inngest.status` of the lifecycle events says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RunStatus {
    /// Scheduled, waiting to start: delayed by a throttle, a concurrency limit, its start time
    /// (an event `ts` in the future, a cron jitter) or a priority (never in a lifecycle event).
    Queued,
    /// Still going (never in a lifecycle event).
    Running,
    /// Returned a value.
    Completed,
    /// Failed for good.
    Failed,
    /// Cancelled.
    Cancelled,
    /// Never started: skipped by a rate limit, an idempotency key or a singleton (never in a
    /// lifecycle event).
    Skipped,
}

impl RunStatus {
    /// Whether the run has not ended (queued or running).
    pub fn is_active(self) -> bool {
        matches!(self, RunStatus::Queued | RunStatus::Running)
    }

    /// `"Queued"`, `"Running"`, `"Completed"`, `"Failed"`, `"Cancelled"` or `"Skipped"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "Queued",
            RunStatus::Running => "Running",
            RunStatus::Completed => "Completed",
            RunStatus::Failed => "Failed",
            RunStatus::Cancelled => "Cancelled",
            RunStatus::Skipped => "Skipped",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The data of `inngest/function.finished`, `.failed` and `.cancelled` as the server builds it
/// (`functionFinishedData`, protocol.md 7.3): `result` on success, `error` (and the raw
/// `result`) on failure, neither on cancellation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionFinishedData {
    /// The composite id of the function, `"<app-id>-<function-id>"`.
    pub function_id: String,
    /// The run's id.
    pub run_id: String,
    /// The run's first triggering event.
    pub event: Value,
    /// Every triggering event.
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub events: Vec<Value>,
    /// The function's output, or its raw error output when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Why the run failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<FailureError>,
    /// Set when the run was invoked: the invoker's `<run id>.<hashed step id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// `{"status": "Completed" | "Failed" | "Cancelled"}`.
    #[serde(rename = "_inngest")]
    pub inngest: FinishedMeta,
}

/// `_inngest` of a lifecycle event's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedMeta {
    /// How the run ended.
    pub status: RunStatus,
}

/// `data._inngest` of an `inngest/function.invoked` event (server `pkg/event/invoke.go`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokeMeta {
    /// The slug of the function to run.
    pub fn_id: String,
    /// `<invoker run id>.<hashed step id>`: the finished event carries it back.
    pub correlation_id: String,
    /// The invoker's app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_app_id: Option<String>,
    /// The invoker's function slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_fn_id: Option<String>,
    /// The invoker's function version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_fn_v: Option<i64>,
    /// When the invoker stops waiting (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire: Option<String>,
    /// The invoker's run id (the "group id").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// The invoking step's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The answer of the event API, `POST /e/{key}` (protocol.md 6.5): the ids in request order,
/// and on failure an `error` and the ids accepted before the bad event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendEventsResponse {
    /// The ids of the accepted events, in request order.
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub ids: Vec<String>,
    /// The HTTP status, repeated.
    #[serde(default)]
    pub status: u16,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const JS: &str = include_str!("../tests/fixtures/function_failed_js_sdk.json");
    const ELIXIR: &str = include_str!("../tests/fixtures/function_failed_elixir_sdk.json");

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Billing {
        billing_plan: String,
    }

    #[test]
    fn deserializes_the_js_sdk_fixture_typed() {
        let event: Event<FunctionFailed<Billing>> = serde_json::from_str(JS).unwrap();
        assert_eq!(event.name, FUNCTION_FAILED_EVENT);
        assert_eq!(event.id.as_deref(), Some("01H0TPW7KB4KCR739TG2J3FTHT"));
        assert_eq!(event.ts, Some(1_684_523_589_227));
        let failed = event.data;
        assert_eq!(
            failed.function_id,
            "my-gcp-cloud-functions-app-hello-inngest"
        );
        assert_eq!(failed.run_id, "01H0TPSJ576QY54R6JJ8MEX6JH");
        assert_eq!(failed.error.name, "Error");
        assert_eq!(
            failed.error.error.as_deref(),
            Some("invalid status code: 500")
        );
        assert!(failed
            .error
            .message
            .starts_with("taylor@ok.com is already a list member"));
        assert!(failed
            .error
            .stack
            .as_deref()
            .unwrap()
            .contains("InngestFunction.runFn"));
        assert_eq!(failed.event.data.billing_plan, "pro");
        assert_eq!(failed.event.name, "user.signup");
        assert_eq!(failed.event.user["external_id"], "6463da8211cdbbcb191dd7da");
    }

    #[test]
    fn deserializes_the_elixir_sdk_fixture_untyped() {
        let event: Event<FunctionFailed> = serde_json::from_str(ELIXIR).unwrap();
        let failed = event.data;
        assert_eq!(failed.function_id, "retriable-fn");
        assert_eq!(failed.run_id, "01HGF86PM90KRQQP27VJZK4BXP");
        assert_eq!(failed.error.name, "Error");
        assert_eq!(failed.error.stack, None);
        assert!(failed.error.message.contains("YOLO!!!"));
        assert_eq!(failed.event.name, "test/plug.retriable");
        assert_eq!(failed.event.data, serde_json::json!({}));
        assert_eq!(failed.event.ts, Some(1_701_318_974_082));
    }

    #[test]
    fn deserializes_a_cancellation() {
        let raw = serde_json::json!({
            "id": "01C", "name": "inngest/function.cancelled", "ts": 1,
            "data": {
                "function_id": "app-send-welcome", "run_id": "01R",
                "event": {"id": "01E", "name": "user/signup", "data": {"billingPlan": "free"}, "user": {}, "ts": 1},
                "_inngest": {"status": "Cancelled"}
            }
        });
        let event: Event<FunctionCancelled<Billing>> = serde_json::from_value(raw).unwrap();
        assert_eq!(event.data.function_id, "app-send-welcome");
        assert_eq!(event.data.event.data.billing_plan, "free");
        assert_eq!(event.data.correlation_id, None);
    }

    #[test]
    fn sent_event_omits_unset_fields() {
        let e = Event::new("user/signup", serde_json::json!({"a": 1}));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"name": "user/signup", "data": {"a": 1}})
        );
    }
}
