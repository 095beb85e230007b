//! The call request (protocol.md sections 1.4 and 2): the body Inngest posts to
//! `<serve url>?fnId=<composite id>&stepId=<"step" | hashed id>`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::null_as_default;

/// `stepId=step`: a discovery call (replay the memos, then find new steps).
pub const DISCOVERY_STEP_ID: &str = "step";

/// The request version this protocol speaks: parallel discovery is coalesced.
pub const REQUEST_VERSION: i64 = 2;

/// The body of a call request.
///
/// Generic over how the events and the memos are held: the engine builds one of
/// `serde_json::Value`s; the SDK reads events as raw JSON text and memos classified as they
/// are parsed (`CallRequest<Box<RawValue>, Memos>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Ev: Serialize, Steps: Serialize",
    deserialize = "Ev: Deserialize<'de>, Steps: Deserialize<'de> + Default"
))]
pub struct CallRequest<Ev = Value, Steps = BTreeMap<String, Value>> {
    /// The first triggering event.
    pub event: Ev,
    /// Every triggering event (a batch has several; `[]` with `use_api`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<Ev>,
    /// Memoized steps by hashed id (`{}` with `use_api`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub steps: Steps,
    /// The request version stored for the run (`-1` on the first call).
    #[serde(default)]
    pub version: Option<i64>,
    /// Deprecated copy of `ctx.use_api`.
    #[serde(default)]
    pub use_api: bool,
    /// The call's context.
    pub ctx: CallContext,
}

/// `ctx` of a call request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CallContext {
    /// The function's id on the server (a UUID there; the engine sends the slug).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fn_id: Option<String>,
    /// The run's id.
    pub run_id: String,
    /// The environment's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// `"step"` or a hashed step id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
    /// The 0-based attempt of this queue item.
    #[serde(default)]
    pub attempt: u32,
    /// `retries + 1`; when missing, no attempt counts as the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// The order in which memoized steps finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<CallStack>,
    /// Whether immediate execution of a new step is disabled.
    #[serde(default)]
    pub disable_immediate_execution: bool,
    /// Whether the events and steps must be fetched from the API.
    #[serde(default)]
    pub use_api: bool,
    /// The queue item this call runs (checkpointing SDKs send it back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qi_id: Option<String>,
}

/// `ctx.stack`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CallStack {
    /// Hashed ids of memoized steps in the order they finished.
    #[serde(default, deserialize_with = "null_as_default")]
    pub stack: Vec<String>,
    /// The stack index of this call.
    #[serde(default)]
    pub current: Option<i64>,
}
