//! The ops of a `206` answer (protocol.md section 3.2): what an SDK reports a call did or
//! found, with each opcode's options.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::step_id::StepId;

/// An opcode (server `pkg/enums/opcode.go`). Names are read without regard to case, as the
/// server reads them; an unknown name is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Opcode {
    /// Nothing (`[]` reads as one `None`).
    None,
    /// Legacy step output, stored unwrapped.
    Step,
    /// A `run` step executed in this request.
    StepRun,
    /// A step failed and attempts remain.
    StepError,
    /// A step was found but not run.
    StepPlanned,
    /// A sleep.
    Sleep,
    /// A wait for an event.
    WaitForEvent,
    /// An invocation of another function.
    InvokeFunction,
    /// An AI inference the server makes (`step.ai.infer`).
    AIGateway,
    /// An HTTP request the server makes (`step.fetch`).
    Gateway,
    /// A wait for a signal.
    WaitForSignal,
    /// The function's result inside a 206.
    RunComplete,
    /// A step failed for good.
    StepFailed,
    /// A synchronous run's result.
    SyncRunComplete,
    /// "Call me again" (checkpointing, `maxRuntime`).
    DiscoveryRequest,
    /// Adds a deferred run.
    DeferAdd,
    /// Aborts a deferred run.
    DeferAbort,
}

impl Opcode {
    /// Every opcode, in the server's numbering.
    pub const ALL: [Opcode; 17] = [
        Opcode::None,
        Opcode::Step,
        Opcode::StepRun,
        Opcode::StepError,
        Opcode::StepPlanned,
        Opcode::Sleep,
        Opcode::WaitForEvent,
        Opcode::InvokeFunction,
        Opcode::AIGateway,
        Opcode::Gateway,
        Opcode::WaitForSignal,
        Opcode::RunComplete,
        Opcode::StepFailed,
        Opcode::SyncRunComplete,
        Opcode::DiscoveryRequest,
        Opcode::DeferAdd,
        Opcode::DeferAbort,
    ];

    /// The opcode's name as SDKs send it.
    pub fn as_str(self) -> &'static str {
        match self {
            Opcode::None => "None",
            Opcode::Step => "Step",
            Opcode::StepRun => "StepRun",
            Opcode::StepError => "StepError",
            Opcode::StepPlanned => "StepPlanned",
            Opcode::Sleep => "Sleep",
            Opcode::WaitForEvent => "WaitForEvent",
            Opcode::InvokeFunction => "InvokeFunction",
            Opcode::AIGateway => "AIGateway",
            Opcode::Gateway => "Gateway",
            Opcode::WaitForSignal => "WaitForSignal",
            Opcode::RunComplete => "RunComplete",
            Opcode::StepFailed => "StepFailed",
            Opcode::SyncRunComplete => "SyncRunComplete",
            Opcode::DiscoveryRequest => "DiscoveryRequest",
            Opcode::DeferAdd => "DeferAdd",
            Opcode::DeferAbort => "DeferAbort",
        }
    }

    /// The opcode with this name, compared without regard to case.
    pub fn parse(name: &str) -> Option<Opcode> {
        Opcode::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for Opcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Opcode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Opcode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Opcode, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Opcode::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown opcode `{name}`")))
    }
}

/// One op of a 206 answer.
///
/// Generic over how `error` is held: the engine reads any SDK's error as raw JSON
/// (`serde_json::Value`); the SDK writes its own `SerializedError`, whose fields keep their
/// order on the wire (`Op<SerializedError>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Error: Serialize",
    deserialize = "Error: Deserialize<'de>"
))]
pub struct Op<Error = Value> {
    /// The hashed step id.
    #[serde(default)]
    pub id: String,
    /// What happened.
    pub op: Opcode,
    /// The user's step id (deprecated; older SDKs put a sleep's duration or a wait's event
    /// here).
    #[serde(default)]
    pub name: String,
    /// The name shown in the UI.
    #[serde(rename = "displayName", default)]
    pub display_name: String,
    /// The step's output (`StepRun`, `RunComplete`), which may be `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The step's error (`StepError`, `StepFailed`), as the SDK serialized it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
    /// Opcode-specific options (see [`RunOpts`], [`SleepOpts`], [`WaitForEventOpts`],
    /// [`InvokeFunctionOpts`], [`WaitForSignalOpts`], [`GatewayOpts`], [`AiGatewayOpts`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opts: Option<Value>,
    /// The user's id and repeat index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userland: Option<Userland>,
    /// When the step ran: `{"a": <start unix ns>, "b": <duration ns>}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Value>,
}

impl Op {
    /// An op with only its id and opcode set.
    pub fn new(op: Opcode, id: impl Into<String>) -> Op {
        Op {
            id: id.into(),
            op,
            name: String::new(),
            display_name: String::new(),
            data: None,
            error: None,
            opts: None,
            userland: None,
            timing: None,
        }
    }
}

impl<Error> Op<Error> {
    /// The op an SDK reports for the step `id`: the hashed id, the user's id as `name` and
    /// `displayName`, and `userland` with the repeat index of a repeated id.
    pub fn for_step<U: AsRef<str>>(op: Opcode, id: &StepId<U>) -> Self {
        let user = id.user.as_ref();
        Op {
            id: id.hashed(),
            op,
            name: user.to_owned(),
            display_name: user.to_owned(),
            data: None,
            error: None,
            opts: None,
            userland: Some(Userland {
                id: user.to_owned(),
                index: (id.index > 0).then_some(id.index),
            }),
            timing: None,
        }
    }

    /// The name to show: `displayName`, else the user's id, else `name`, else the hashed id.
    pub fn label(&self) -> &str {
        [
            self.display_name.as_str(),
            self.userland.as_ref().map_or("", |u| u.id.as_str()),
            self.name.as_str(),
        ]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or(&self.id)
    }

    /// The options read as `T` (missing options read as `T`'s empty form).
    pub fn opts_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &self.opts {
            Some(opts) => T::deserialize(opts),
            None => T::deserialize(&Value::Object(Default::default())),
        }
    }
}

/// `parallelMode` of a step inside a race: the server discovers again as soon as it ends.
pub const PARALLEL_MODE_RACE: &str = "race";

/// `userland` of an op.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Userland {
    /// The user's step id.
    #[serde(default)]
    pub id: String,
    /// The repeat index, for a repeated id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

/// `opts` of a run step (`StepPlanned`, `StepRun`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOpts {
    /// What kind of run step it is, for the UI: `step.run`, `step.sendEvent`, ...
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The step's input (a JSON array), when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// `"race"` for a branch of a race: the server discovers as soon as it ends.
    #[serde(
        rename = "parallelMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parallel_mode: Option<String>,
    /// The signal a `step.sendSignal` sends (shown in the UI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
}

/// `opts` of `Sleep`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SleepOpts {
    /// A time string, or an RFC 3339 time to sleep until (the server falls back to the op's
    /// `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// `"race"` for a branch of a race.
    #[serde(
        rename = "parallelMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parallel_mode: Option<String>,
}

/// `opts` of `WaitForEvent`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitForEventOpts {
    /// The awaited event's name (the server falls back to the op's `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// How long to wait: a time string or an RFC 3339 time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// A CEL expression over `event` (the run's event) and `async` (the candidate).
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub if_expression: Option<String>,
    /// `"race"` for a branch of a race.
    #[serde(
        rename = "parallelMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parallel_mode: Option<String>,
}

/// `opts` of `InvokeFunction`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvokeFunctionOpts {
    /// The slug of the function to run, `"<app-id>-<function-id>"`.
    #[serde(default)]
    pub function_id: String,
    /// The invocation event's fields.
    #[serde(default)]
    pub payload: InvokePayload,
    /// How long to wait: a time string or an RFC 3339 time (a year by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// `"race"` for a branch of a race.
    #[serde(
        rename = "parallelMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parallel_mode: Option<String>,
}

/// `opts.payload` of `InvokeFunction`: the fields of the invocation event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvokePayload {
    /// The event's data.
    #[serde(default)]
    pub data: Value,
    /// The event's user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Value>,
    /// The event's schema version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<String>,
    /// The event's id, used as the child run's idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `opts` of `WaitForSignal` (protocol-2.md section 3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitForSignalOpts {
    /// The signal's name.
    #[serde(default)]
    pub signal: String,
    /// How long to wait: a time string or an RFC 3339 time (a year when empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// `"fail"` or `"replace"`: what happens when another run waits for the same signal
    /// (anything but `"replace"` fails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<String>,
    /// `"race"` for a branch of a race.
    #[serde(
        rename = "parallelMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parallel_mode: Option<String>,
}

/// `conflict` of [`WaitForSignalOpts`]: a new wait replaces the one of another run.
pub const SIGNAL_CONFLICT_REPLACE: &str = "replace";
/// `conflict` of [`WaitForSignalOpts`]: a new wait fails its run while another run waits.
pub const SIGNAL_CONFLICT_FAIL: &str = "fail";

/// `opts` of `Gateway` (`step.fetch`, protocol-2.md section 4.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayOpts {
    /// The URL to call.
    #[serde(default)]
    pub url: String,
    /// The HTTP method (the server uses `POST` when it is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The request headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<std::collections::BTreeMap<String, String>>,
    /// The request body, as a string (sent as it is when it is JSON, else JSON-encoded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `"race"` for a branch of a race.
    #[serde(
        rename = "parallelMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parallel_mode: Option<String>,
}

/// `opts` of `AIGateway` (`step.ai.infer`, protocol-2.md section 4.2). Its `Debug` hides the
/// provider's key.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AiGatewayOpts {
    /// `"step.ai.infer"`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The provider's endpoint, always called with `POST`.
    #[serde(default)]
    pub url: String,
    /// Headers added after the authentication header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<std::collections::BTreeMap<String, String>>,
    /// The provider's key, sent as the `format` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_key: Option<String>,
    /// `openai-chat` (the default), `anthropic`, `gemini` or `bedrock`.
    #[serde(default)]
    pub format: String,
    /// The provider's request, any JSON.
    #[serde(default)]
    pub body: Value,
    /// Whether Inngest calls tools itself (not supported by the server yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_tool_call: Option<bool>,
    /// `"race"` for a branch of a race.
    #[serde(
        rename = "parallelMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parallel_mode: Option<String>,
}

impl std::fmt::Debug for AiGatewayOpts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiGatewayOpts")
            .field("url", &self.url)
            .field("format", &self.format)
            .field("headers", &self.headers)
            .field("auth_key", &self.auth_key.as_ref().map(|_| "***"))
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn opcodes_read_without_regard_to_case() {
        let op: Op =
            serde_json::from_value(json!({"id": "x", "op": "steprun", "data": 1})).unwrap();
        assert_eq!(op.op, Opcode::StepRun);
        assert_eq!(serde_json::to_value(op.op).unwrap(), json!("StepRun"));
        assert_eq!(Opcode::parse("AiGateway"), Some(Opcode::AIGateway));
        let bad = serde_json::from_value::<Op>(json!({"op": "StepNotFound"})).unwrap_err();
        assert!(
            bad.to_string().contains("unknown opcode `StepNotFound`"),
            "{bad}"
        );
    }

    #[test]
    fn typed_opts() {
        let op: Op = serde_json::from_value(json!({
            "id": "x", "op": "WaitForEvent", "name": "paid",
            "opts": {"event": "paid", "timeout": "1h", "if": "async.data.ok"}
        }))
        .unwrap();
        let opts: WaitForEventOpts = op.opts_as().unwrap();
        assert_eq!(opts.if_expression.as_deref(), Some("async.data.ok"));
        let none = Op::new(Opcode::Sleep, "y");
        assert_eq!(none.opts_as::<SleepOpts>().unwrap(), SleepOpts::default());
        assert_eq!(none.label(), "y");
    }

    #[test]
    fn an_op_for_a_step_names_it_and_counts_repeats() {
        let mut ids = crate::step_id::IdCounter::default();
        let first: Op = Op::for_step(Opcode::StepPlanned, &ids.next("load"));
        assert_eq!(
            serde_json::to_value(&first).unwrap(),
            json!({
                "id": crate::step_id::hash("load"), "op": "StepPlanned", "name": "load",
                "displayName": "load", "userland": {"id": "load"}
            })
        );
        let again: Op = Op::for_step(Opcode::Sleep, &ids.next("load"));
        assert_eq!(again.id, crate::step_id::hash("load:1"));
        assert_eq!(again.userland.and_then(|u| u.index), Some(1));
    }
}
