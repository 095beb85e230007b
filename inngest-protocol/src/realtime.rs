//! Realtime (protocol-2.md section 5): what `POST <api>/v1/realtime/publish` takes, and the
//! messages subscribers receive.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest message body `POST /v1/realtime/publish` reads (more is cut off).
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024;

/// `kind` of a message published with `POST /v1/realtime/publish`.
pub const KIND_DATA: &str = "data";

/// A message as subscribers receive it (server `streamingtypes.Message`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealtimeMessage {
    /// `"data"` for published data.
    pub kind: String,
    /// The published JSON (a body that is not JSON is published as a JSON string).
    pub data: Value,
    /// Optional data about the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// When it was published (RFC 3339).
    pub created_at: String,
    /// The channel.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    /// The topic within the channel.
    pub topic: String,
    /// The run that published it, if a run did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// A topic a subscription token covers (the body of `POST /v1/realtime/token` is a list).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Topic {
    /// The channel.
    pub channel: String,
    /// The topic's name.
    pub name: String,
    /// `"run"`.
    #[serde(default)]
    pub kind: String,
}
