//! The three Inngest error kinds: [`NonRetriableError`], [`RetryAfterError`] (with
//! [`RetryAt`]) and [`StepError`].

use std::fmt;
use std::time::{Duration, SystemTime};

use inngest_protocol::error::{default_error_name, SerializedError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Error;

/// An error that must not be retried: the run fails at once and Inngest emits
/// `inngest/function.failed`.
///
/// ```
/// use inngest::{Error, NonRetriableError};
/// let err: Error = NonRetriableError::new("banned users get no welcome").into();
/// assert_eq!(err.name(), "NonRetriableError");
/// assert!(!err.is_retriable());
/// ```
#[derive(Debug)]
pub struct NonRetriableError {
    pub(super) message: String,
    pub(super) cause: Option<Error>,
}

impl NonRetriableError {
    /// A non-retriable error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        NonRetriableError {
            message: message.into(),
            cause: None,
        }
    }

    /// Attaches the error that caused this one; it is serialized as `cause`.
    pub fn with_cause(mut self, cause: impl Into<Error>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    /// The cause, if one was attached.
    pub fn cause(&self) -> Option<&Error> {
        self.cause.as_ref()
    }
}

impl fmt::Display for NonRetriableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NonRetriableError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_ref()
            .map(|c| c.as_std() as &(dyn std::error::Error + 'static))
    }
}

/// When a [`RetryAfterError`] asks to be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAt {
    /// After this long.
    After(Duration),
    /// At this time.
    At(SystemTime),
}

impl RetryAt {
    /// The `Retry-After` header value: whole seconds (at least 1) for a delay, an RFC 3339
    /// UTC date for a time.
    pub fn header_value(&self) -> String {
        match self {
            RetryAt::After(d) => {
                let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
                secs.max(1).to_string()
            }
            RetryAt::At(t) => inngest_protocol::time::rfc3339(*t),
        }
    }
}

/// A retriable error that tells Inngest when to retry (sent as `Retry-After`).
///
/// ```
/// use std::time::Duration;
/// use inngest::{Error, RetryAfterError};
/// let err: Error = RetryAfterError::new("rate limited", Duration::from_secs(30)).into();
/// assert_eq!(err.retry_after().unwrap().header_value(), "30");
/// ```
#[derive(Debug)]
pub struct RetryAfterError {
    pub(super) message: String,
    pub(super) at: RetryAt,
    pub(super) cause: Option<Error>,
}

impl RetryAfterError {
    /// Retry after `delay`.
    pub fn new(message: impl Into<String>, delay: Duration) -> Self {
        RetryAfterError {
            message: message.into(),
            at: RetryAt::After(delay),
            cause: None,
        }
    }

    /// Retry at `time`.
    pub fn at(message: impl Into<String>, time: SystemTime) -> Self {
        RetryAfterError {
            message: message.into(),
            at: RetryAt::At(time),
            cause: None,
        }
    }

    /// Attaches the error that caused this one; it is serialized as `cause`.
    pub fn with_cause(mut self, cause: impl Into<Error>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    /// When to retry.
    pub fn retry_at(&self) -> RetryAt {
        self.at
    }
}

impl fmt::Display for RetryAfterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RetryAfterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_ref()
            .map(|c| c.as_std() as &(dyn std::error::Error + 'static))
    }
}

/// A step that failed for good, raised where the step is awaited. If the function does not
/// handle it, the run fails without further retries.
///
/// `name`, `message`, `stack` and `cause` are those of the error the step's code returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepError {
    /// The name of the step's error (`"NonRetriableError"`, `"MyError"`, ...).
    pub name: String,
    /// The message of the step's error.
    pub message: String,
    /// Its stack trace, if one was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// Its cause, as recorded (raw JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Value>,
    /// The id of the step that failed, as written in the function (`"load-user"`); sent as
    /// `stepId` when the function fails with this error, so that the failure event says which
    /// step failed.
    #[serde(rename = "stepId", default, skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
}

impl StepError {
    /// The wire form; the name is the step error's own (what the step's code failed with).
    pub(super) fn to_serialized(&self) -> SerializedError {
        SerializedError {
            name: "StepError".to_owned(),
            message: self.message.clone(),
            stack: self.stack.clone(),
            cause: Some(Box::new(SerializedError {
                name: self.name.clone(),
                message: self.message.clone(),
                stack: None,
                cause: self
                    .cause
                    .as_ref()
                    .filter(|c| is_complete(c))
                    .and_then(|c| serde_json::from_value::<SerializedError>(c.clone()).ok())
                    .map(Box::new),
                step_id: None,
            })),
            step_id: self.step_id.clone(),
        }
    }

    /// Reads a memoized `{"error": ...}` value of the step `step_id`. Missing fields get
    /// defaults rather than failing, because other SDKs and the server itself write these
    /// objects.
    pub(crate) fn from_memo(value: &Value, step_id: &str) -> StepError {
        let step_id = Some(step_id.to_owned());
        if let Value::String(message) = value {
            // Some SDKs store a bare message.
            return StepError {
                name: default_error_name(),
                message: message.clone(),
                stack: None,
                cause: None,
                step_id,
            };
        }
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        StepError {
            name: text("name").unwrap_or_else(default_error_name),
            message: text("message")
                .or_else(|| text("error"))
                .unwrap_or_else(|| value.to_string()),
            stack: text("stack"),
            cause: value.get("cause").filter(|c| !c.is_null()).cloned(),
            step_id,
        }
    }
}

/// Whether a recorded cause names its `name` and `message` at every level: the SDK passes on
/// only such causes, though `SerializedError` reads a missing field as its default.
fn is_complete(cause: &Value) -> bool {
    cause.get("name").is_some()
        && cause.get("message").is_some()
        && cause
            .get("cause")
            .is_none_or(|inner| inner.is_null() || is_complete(inner))
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StepError {}
