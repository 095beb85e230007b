//! Errors as they cross the wire (protocol.md section 5).

use serde::{Deserialize, Serialize};

/// An error as an SDK serializes it: in a function's error answer, in the `error` of a
/// `StepError`/`StepFailed` op, and in the memo of a step that failed for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerializedError {
    /// The error's type name.
    #[serde(default = "default_error_name")]
    pub name: String,
    /// The error's message.
    #[serde(default)]
    pub message: String,
    /// A stack trace, when one was captured (`RUST_BACKTRACE=1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// The error that caused this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Box<SerializedError>>,
    /// The id of the step that failed, for a function that failed because a step did (a
    /// `StepError` it did not handle). The official TypeScript SDK's `StepError` names it
    /// `stepId` too.
    #[serde(rename = "stepId", default, skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
}

/// `"Error"`: the name of an error that has none.
pub fn default_error_name() -> String {
    "Error".to_owned()
}
