//! Checkpointing (protocol-2.md section 1): an SDK runs `step.run` steps in the call request
//! and posts their results to `POST <api>/v1/checkpoint/{runId}/async` as it goes, instead
//! of returning to Inngest after each step.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::op::{Op, Opcode};

/// The path of the async checkpoint endpoint of a run (`/v1/checkpoint/{runId}/async`), the
/// run id percent-encoded.
pub fn async_path(run_id: &str) -> String {
    let encoded: String = url_encode(run_id);
    format!("/v1/checkpoint/{encoded}/async")
}

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The id of the `RunComplete` op an SDK ends a checkpointed run with: `sha1("complete")`.
pub const RUN_COMPLETE_STEP_ID: &str = "complete";

/// The body of `POST /v1/checkpoint/{runId}/async` (server `checkpointAsyncSteps`).
///
/// Generic over how the ops' errors are held, as [`Op`] is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Error: Serialize",
    deserialize = "Error: Deserialize<'de>"
))]
pub struct AsyncCheckpoint<Error = Value> {
    /// The run (`ctx.run_id`).
    pub run_id: String,
    /// The function (`ctx.fn_id`).
    #[serde(default)]
    pub fn_id: String,
    /// The queue item the call runs (`ctx.qi_id`); its attempts are reset.
    #[serde(default)]
    pub qi_id: String,
    /// The call's `x-request-id` header, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The call's `x-inngest-generation-id` header, when it had one (the server refuses a
    /// stale generation with 409).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_id: Option<i64>,
    /// When the SDK received the call, in ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_started_at: Option<i64>,
    /// The ops: the `StepRun`s of the steps that ran, exactly as a `206` would carry them.
    #[serde(default)]
    pub steps: Vec<Op<Error>>,
    /// When the checkpoint was sent, in ms since the epoch.
    #[serde(default)]
    pub ts: i64,
}

/// Whether the server accepts `op` in an async checkpoint at all (`enums.OpcodeIsSync`);
/// any other op fails the whole checkpoint with "cannot checkpoint async steps".
pub fn is_sync(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::Step
            | Opcode::StepRun
            | Opcode::StepPlanned
            | Opcode::RunComplete
            | Opcode::SyncRunComplete
            | Opcode::StepFailed
            | Opcode::DeferAdd
            | Opcode::DeferAbort
    )
}

/// The body of a `RunComplete` op for a run that returned `data`.
pub fn run_complete<E>(data: Value) -> Op<E> {
    Op {
        id: crate::step_id::hash(RUN_COMPLETE_STEP_ID),
        op: Opcode::RunComplete,
        name: String::new(),
        display_name: String::new(),
        data: Some(data),
        error: None,
        opts: None,
        userland: None,
        timing: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_reads_as_the_js_sdk_sends_it() {
        let body = r#"{"run_id":"01R","fn_id":"f","qi_id":"q","request_id":"r","request_started_at":1,
            "steps":[{"op":"StepRun","id":"a","name":"a","displayName":"a","data":1}],"ts":2}"#;
        let c: AsyncCheckpoint = serde_json::from_str(body).unwrap();
        assert_eq!(c.steps[0].op, Opcode::StepRun);
        assert_eq!(c.generation_id, None);
        assert_eq!(async_path("01R"), "/v1/checkpoint/01R/async");
        assert_eq!(async_path("a/b"), "/v1/checkpoint/a%2Fb/async");
    }

    #[test]
    fn run_complete_is_hashed() {
        let op: Op = run_complete(serde_json::json!(3));
        assert_eq!(op.id, "0737c22d3bfae812339732d14d8c7dbd6dc4e09c");
    }
}
