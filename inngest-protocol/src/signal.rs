//! Signals (protocol-2.md section 3): `POST <api>/v1/signals` and what a `WaitForSignal` step
//! resumes with.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body of `POST /v1/signals`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SendSignalRequest {
    /// The signal's name.
    pub signal: String,
    /// Any JSON (`null` when omitted).
    #[serde(default)]
    pub data: Value,
}

/// The `data` of a `200` answer to `POST /v1/signals`: the run the signal resumed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendSignalResponse {
    /// The resumed run.
    pub run_id: String,
}

/// The memo data of a `WaitForSignal` step that received its signal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignalReturn<T = Value> {
    /// The signal's name.
    pub signal: String,
    /// The data it was sent with.
    pub data: T,
}

/// The message of a run that fails because another run waits for the same signal.
pub const SIGNAL_CONFLICT_MESSAGE: &str =
    "Signal conflict; signal wait already exists for another run";
/// The message of a `404` answer: nobody waits for the signal.
pub const NO_SIGNAL_FOUND: &str = "No signal found";
