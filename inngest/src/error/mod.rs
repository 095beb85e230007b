//! Errors: what a function returns, how Inngest is told whether to retry, and how errors are
//! serialized on the wire (protocol.md section 5).
//!
//! [`Error`] works like `anyhow::Error`: any `std::error::Error` converts into it with `?`, and
//! the serialized `name` is the source error's type name. The three Inngest error kinds,
//! [`NonRetriableError`], [`RetryAfterError`] and [`StepError`], convert into it and can be
//! recovered from it with [`Error::downcast_ref`].

use std::borrow::Cow;
use std::fmt;

use inngest_protocol::error::{default_error_name, SerializedError};

mod kinds;

pub use kinds::{NonRetriableError, RetryAfterError, RetryAt, StepError};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How deep a chain of causes is serialized (the JS SDK's limit).
const MAX_CAUSE_DEPTH: usize = 5;

/// The error type of Inngest functions and steps.
///
/// Any `std::error::Error + Send + Sync + 'static` converts into it with `?`. Its serialized
/// `name` is the source error's type name (`"ParseIntError"`, `"MyError"`), never a generic
/// `"Error"` when the type is known.
///
/// ```
/// use inngest::{Error, NonRetriableError};
///
/// fn parse(s: &str) -> Result<u32, Error> {
///     let n: u32 = s.parse()?; // ParseIntError -> Error
///     if n == 0 {
///         return Err(NonRetriableError::new("zero is not allowed").into());
///     }
///     Ok(n)
/// }
/// let err = parse("x").unwrap_err();
/// assert_eq!(err.name(), "ParseIntError");
/// assert!(err.is_retriable());
/// assert!(!parse("0").unwrap_err().is_retriable());
/// ```
pub struct Error {
    inner: BoxError,
    name: Cow<'static, str>,
    stack: Option<String>,
}

impl Error {
    /// Wraps any error, naming it by its type.
    pub fn new<E>(error: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let name = name_of::<E>(&error);
        let backtrace = std::backtrace::Backtrace::capture();
        let stack = (backtrace.status() == std::backtrace::BacktraceStatus::Captured)
            .then(|| trim_backtrace(&backtrace.to_string()))
            .filter(|s| !s.is_empty());
        Error {
            inner: Box::new(error),
            name,
            stack,
        }
    }

    /// An error from a message alone; its name is `"Error"`.
    pub fn msg(message: impl fmt::Display) -> Self {
        Error {
            inner: Box::new(Message(message.to_string())),
            name: Cow::Borrowed("Error"),
            stack: None,
        }
    }

    /// The name sent to Inngest: the source error's type name, or `NonRetriableError`,
    /// `RetryAfterError`, `StepError` for those kinds.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The message sent to Inngest (the source error's `Display`).
    pub fn message(&self) -> String {
        self.inner.to_string()
    }

    /// Whether Inngest may retry after this error. `false` for [`NonRetriableError`] and for
    /// a [`StepError`] (a step that already failed for good).
    pub fn is_retriable(&self) -> bool {
        !(self.is::<NonRetriableError>() || self.is::<StepError>())
    }

    /// When to retry, for a [`RetryAfterError`].
    pub fn retry_after(&self) -> Option<&RetryAt> {
        self.downcast_ref::<RetryAfterError>().map(|e| &e.at)
    }

    /// Whether the wrapped error is an `E`.
    pub fn is<E: std::error::Error + 'static>(&self) -> bool {
        self.inner.is::<E>()
    }

    /// The wrapped error as an `E`, if it is one.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.inner.downcast_ref::<E>()
    }

    /// Takes the wrapped error out as an `E`, or gives the `Error` back.
    pub fn downcast<E: std::error::Error + 'static>(self) -> Result<E, Self> {
        if self.inner.is::<E>() {
            let boxed = self.inner.downcast::<E>().ok();
            Ok(*boxed.expect("checked with is::<E>() just above"))
        } else {
            Err(self)
        }
    }

    /// The wrapped error.
    pub fn as_std(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.inner
    }

    /// The wire form `{"name","message","stack"?,"cause"?}` (protocol.md section 5).
    pub fn to_serialized(&self) -> SerializedError {
        if let Some(step) = self.downcast_ref::<StepError>() {
            return step.to_serialized();
        }
        let cause = if let Some(nr) = self.downcast_ref::<NonRetriableError>() {
            nr.cause.as_ref().map(|c| Box::new(c.to_serialized()))
        } else if let Some(ra) = self.downcast_ref::<RetryAfterError>() {
            ra.cause.as_ref().map(|c| Box::new(c.to_serialized()))
        } else {
            source_chain(self.inner.source(), MAX_CAUSE_DEPTH)
        };
        SerializedError {
            name: self.name.to_string(),
            message: self.message(),
            stack: self.stack.clone(),
            cause,
            step_id: None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("name", &self.name)
            .field("message", &self.message())
            .field("source", &self.inner)
            .finish()
    }
}

impl<E> From<E> for Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        Error::new(error)
    }
}

impl AsRef<dyn std::error::Error + Send + Sync> for Error {
    fn as_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.inner
    }
}

/// The name of an error type, as sent to Inngest: the last path segment without generics
/// (`my_crate::MyError` → `MyError`); when that is the generic `Error`, the module path too
/// (`std::io::error::Error` → `io::Error`). The three Inngest kinds report their own names.
fn name_of<E: std::error::Error + 'static>(error: &E) -> Cow<'static, str> {
    let any: &dyn std::any::Any = error;
    if any.is::<NonRetriableError>() {
        return Cow::Borrowed("NonRetriableError");
    }
    if any.is::<RetryAfterError>() {
        return Cow::Borrowed("RetryAfterError");
    }
    if any.is::<StepError>() {
        return Cow::Borrowed("StepError");
    }
    if any.is::<Message>() {
        return Cow::Borrowed("Error");
    }
    Cow::Owned(type_name_short(std::any::type_name::<E>()))
}

fn type_name_short(full: &str) -> String {
    let base = full.split('<').next().unwrap_or(full);
    let segments: Vec<&str> = base.split("::").filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => "Error".to_owned(),
        [.., module, last] if *last == "Error" => {
            // `std::io::error::Error` reads better as `io::Error`.
            let module = if *module == "error" && segments.len() >= 3 {
                segments[segments.len() - 3]
            } else {
                module
            };
            format!("{module}::Error")
        }
        [.., last] => (*last).to_owned(),
    }
}

/// The user's part of a backtrace: without the frames of this conversion at the top, and cut
/// where the SDK's executor and the async runtime begin; at most 4 KiB.
fn trim_backtrace(full: &str) -> String {
    const INTERNAL_TOP: [&str; 4] = [
        "inngest::error::",
        "<inngest::error::",
        "<T as core::convert::Into",
        "core::convert::",
    ];
    const RUNTIME: [&str; 3] = [
        "inngest::function::run_erased",
        "inngest::execution::",
        "catch_unwind",
    ];
    let mut frames: Vec<String> = Vec::new();
    for line in full.lines() {
        let t = line.trim_start();
        let is_frame = t
            .split_once(": ")
            .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
        if is_frame {
            let symbol = t.split_once(": ").map_or("", |(_, s)| s);
            if RUNTIME.iter().any(|r| symbol.contains(r)) {
                break;
            }
            if frames.is_empty() && INTERNAL_TOP.iter().any(|p| symbol.starts_with(p)) {
                continue;
            }
            frames.push(format!("    at {symbol}"));
        } else if let Some(last) = frames.last_mut() {
            if last.lines().count() < 2 {
                last.push_str(&format!(" ({})", t.trim_start_matches("at ")));
            }
        }
    }
    let mut out = frames.join("\n");
    if out.len() > 4096 {
        let mut cut = 4096;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

fn source_chain(
    source: Option<&(dyn std::error::Error + 'static)>,
    depth: usize,
) -> Option<Box<SerializedError>> {
    let source = source?;
    if depth == 0 {
        return None;
    }
    Some(Box::new(SerializedError {
        name: default_error_name(),
        message: source.to_string(),
        stack: None,
        cause: source_chain(source.source(), depth - 1),
        step_id: None,
    }))
}

/// An error made from a message alone (see [`Error::msg`]).
#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::time::{Duration, SystemTime};

    /// The wire JSON without the stack, which depends on `RUST_BACKTRACE`.
    fn wire(err: &Error) -> Value {
        let mut v = serde_json::to_value(err.to_serialized()).unwrap();
        v.as_object_mut().unwrap().remove("stack");
        v
    }

    #[derive(Debug, thiserror::Error)]
    #[error("the mailing list refused {0}")]
    struct MailError(String);

    #[derive(Debug, thiserror::Error)]
    #[error("could not send")]
    struct Outer(#[source] MailError);

    #[test]
    fn custom_error_keeps_its_type_name() {
        let err: Error = MailError("a@b.c".into()).into();
        assert_eq!(err.name(), "MailError");
        assert_eq!(err.to_string(), "the mailing list refused a@b.c");
        assert_eq!(
            wire(&err),
            serde_json::json!({"name": "MailError", "message": "the mailing list refused a@b.c"})
        );
    }

    #[test]
    fn std_errors_named_error_keep_their_module() {
        let io: Error = std::io::Error::other("disk on fire").into();
        assert_eq!(io.name(), "io::Error");
        let json: Error = serde_json::from_str::<u8>("x").unwrap_err().into();
        assert_eq!(json.name(), "serde_json::Error");
        let parse: Error = "x".parse::<u8>().unwrap_err().into();
        assert_eq!(parse.name(), "ParseIntError");
    }

    #[test]
    fn source_chain_becomes_cause() {
        let err: Error = Outer(MailError("x".into())).into();
        assert_eq!(
            wire(&err),
            serde_json::json!({
                "name": "Outer", "message": "could not send",
                "cause": {"name": "Error", "message": "the mailing list refused x"}
            })
        );
    }

    #[test]
    fn non_retriable_with_cause_round_trips() {
        let err: Error = NonRetriableError::new("banned")
            .with_cause(MailError("y".into()))
            .into();
        assert_eq!(err.name(), "NonRetriableError");
        assert!(!err.is_retriable());
        let mut json = wire(&err);
        json["cause"].as_object_mut().unwrap().remove("stack");
        assert_eq!(
            json,
            serde_json::json!({
                "name": "NonRetriableError", "message": "banned",
                "cause": {"name": "MailError", "message": "the mailing list refused y"}
            })
        );
        let back: SerializedError = serde_json::from_value(json).unwrap();
        assert_eq!(back.cause.unwrap().name, "MailError");
        let recovered = err.downcast::<NonRetriableError>().unwrap();
        assert_eq!(recovered.cause().unwrap().name(), "MailError");
    }

    #[test]
    fn retry_after_header_values() {
        let err: Error = RetryAfterError::new("later", Duration::from_millis(1500)).into();
        assert!(err.is_retriable());
        assert_eq!(err.retry_after().unwrap().header_value(), "2");
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let err: Error = RetryAfterError::at("later", at).into();
        assert_eq!(
            err.retry_after().unwrap().header_value(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            RetryAt::After(Duration::ZERO).header_value(),
            "1",
            "Inngest clamps to at least one second"
        );
    }

    #[test]
    fn step_error_from_memo_and_back() {
        let memo = serde_json::json!({"name": "MailError", "message": "boom", "stack": "at x"});
        let step = StepError::from_memo(&memo, "send");
        assert_eq!(step.name, "MailError");
        assert_eq!(step.stack.as_deref(), Some("at x"));
        let err: Error = step.clone().into();
        assert_eq!(err.name(), "StepError");
        assert!(!err.is_retriable());
        assert_eq!(err.to_string(), "boom");
        assert_eq!(err.downcast_ref::<StepError>(), Some(&step));
        let json = serde_json::to_value(err.to_serialized()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "StepError", "message": "boom", "stack": "at x", "stepId": "send",
                "cause": {"name": "MailError", "message": "boom"}
            })
        );
    }

    #[test]
    fn a_recorded_cause_is_passed_on_only_when_complete() {
        let cause = |cause: Value| {
            let memo = serde_json::json!({"name": "E", "message": "m", "cause": cause});
            let json =
                serde_json::to_value(Error::from(StepError::from_memo(&memo, "s")).to_serialized());
            json.unwrap()["cause"].get("cause").cloned()
        };
        let complete = serde_json::json!({"name": "Io", "message": "disk", "cause": null});
        assert_eq!(
            cause(complete),
            Some(serde_json::json!({"name": "Io", "message": "disk"}))
        );
        assert_eq!(cause(serde_json::json!({"message": "nameless"})), None);
        let deep = serde_json::json!({"name": "A", "message": "a", "cause": {"name": "B"}});
        assert_eq!(cause(deep), None);
    }

    #[test]
    fn backtraces_keep_only_the_users_frames() {
        let full = "   0: inngest::error::Error::new
             at ./src/error.rs:55:25
   1: <inngest::error::Error as core::convert::From<E>>::from
             at ./src/error.rs:163:9
   2: my_app::load_user::{{closure}}
             at ./src/main.rs:12:5
   3: inngest::function::run_erased::{{closure}}
             at ./inngest/src/function.rs:161:35
   4: tokio::runtime::task::core::Core<T,S>::poll
";
        assert_eq!(
            trim_backtrace(full),
            "    at my_app::load_user::{{closure}} (./src/main.rs:12:5)"
        );
    }

    #[test]
    fn message_errors() {
        let err = Error::msg("plain");
        assert_eq!(err.name(), "Error");
        assert_eq!(format!("{err}"), "plain");
        assert!(format!("{err:?}").contains("plain"));
    }
}
