//! The load test's scenario, shared by `load-server` (which serves the functions) and
//! `load-gen` (which calls them): request `i` is one of five kinds, and for each the exact
//! answer the SDK must give (protocol.md section 3).

use std::sync::OnceLock;

use serde_json::{json, Value};
use sha1::{Digest, Sha1};

/// The app id of the load server.
pub const APP_ID: &str = "load";
/// The serve path of the load server.
pub const SERVE_PATH: &str = "/api/inngest";

/// What call request `i` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The step is memoized in the request; the function completes with JSON (200).
    Completes,
    /// No memo: the step runs and its result is reported (206 `StepRun`).
    RunsStep,
    /// The function returns a retriable error (500, no-retry `false`).
    Retriable,
    /// The function returns a `NonRetriableError` (400, no-retry `true`).
    NonRetriable,
    /// The function panics (500, no-retry `false`, name `Panic`).
    Panics,
}

impl Kind {
    /// The kind of request `i`: the five kinds in turn.
    pub fn of(i: u64) -> Kind {
        match i % 5 {
            0 => Kind::Completes,
            1 => Kind::RunsStep,
            2 => Kind::Retriable,
            3 => Kind::NonRetriable,
            _ => Kind::Panics,
        }
    }

    /// The id (within the app) of the function this kind calls.
    pub fn function_id(self) -> &'static str {
        match self {
            Kind::Completes | Kind::RunsStep => "complete",
            Kind::Retriable => "retriable",
            Kind::NonRetriable => "non-retriable",
            Kind::Panics => "panics",
        }
    }
}

/// The id of the step of the `complete` function.
pub const STEP_ID: &str = "fetch";

/// What the step of `complete` returns for request `i`.
pub fn step_value(i: u64) -> u64 {
    i.wrapping_mul(3)
}

/// What `complete` returns for request `i`.
pub fn completed(i: u64, value: u64) -> Value {
    json!({ "i": i, "value": value, "sum": i.wrapping_add(value) })
}

/// The message of the retriable error of request `i`.
pub fn retriable_message(i: u64) -> String {
    format!("request {i} failed, try again")
}

/// The message of the non-retriable error of request `i`.
pub fn non_retriable_message(i: u64) -> String {
    format!("request {i} is refused for good")
}

/// The panic message of request `i`.
pub fn panic_message(i: u64) -> String {
    format!("request {i} panicked")
}

/// The name the retriable error is serialized with (its type name).
pub const RETRIABLE_NAME: &str = "LoadError";

/// The path and query of call request `i`.
pub fn path(i: u64) -> String {
    format!(
        "{SERVE_PATH}?fnId={APP_ID}-{}&stepId=step",
        Kind::of(i).function_id()
    )
}

/// The JSON body of call request `i` (protocol.md section 2).
pub fn body(i: u64) -> Value {
    let event = json!({
        "id": format!("01JLOAD{i:019}"),
        "name": format!("load/{}", Kind::of(i).function_id()),
        "data": { "i": i },
        "user": {},
        "ts": 1_712_345_678_901_u64,
    });
    let mut steps = serde_json::Map::new();
    let mut stack = Vec::new();
    if Kind::of(i) == Kind::Completes {
        steps.insert(step_hash().to_owned(), json!({ "data": step_value(i) }));
        stack.push(step_hash());
    }
    json!({
        "event": event,
        "events": [event],
        "steps": steps,
        "version": 2,
        "use_api": false,
        "ctx": {
            "fn_id": "00000000-0000-0000-0000-000000000000",
            "run_id": format!("01JRUN{i:020}"),
            "env": "",
            "step_id": "step",
            "attempt": 0,
            "max_attempts": 4,
            "stack": { "stack": stack, "current": stack.len() },
            "disable_immediate_execution": false,
            "use_api": false,
        },
    })
}

/// The exact answer to call request `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The status code.
    pub status: u16,
    /// `X-Inngest-No-Retry`, absent on success.
    pub no_retry: Option<&'static str>,
    /// The JSON body.
    pub body: Value,
}

/// The answer the SDK must give to call request `i`.
pub fn expected(i: u64) -> Expected {
    let error = |status, no_retry, name: &str, message: String| Expected {
        status,
        no_retry: Some(no_retry),
        body: json!({ "name": name, "message": message }),
    };
    match Kind::of(i) {
        Kind::Completes => Expected {
            status: 200,
            no_retry: None,
            body: completed(i, step_value(i)),
        },
        Kind::RunsStep => Expected {
            status: 206,
            no_retry: None,
            body: json!([{
                "id": step_hash(),
                "op": "StepRun",
                "name": STEP_ID,
                "displayName": STEP_ID,
                "data": step_value(i),
                "opts": { "type": "step.run" },
                "userland": { "id": STEP_ID },
            }]),
        },
        Kind::Retriable => error(500, "false", RETRIABLE_NAME, retriable_message(i)),
        Kind::NonRetriable => error(400, "true", "NonRetriableError", non_retriable_message(i)),
        Kind::Panics => error(500, "false", "Panic", panic_message(i)),
    }
}

/// The hashed id of the step (lowercase hex SHA-1 of its id, protocol.md section 4).
pub fn step_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        Sha1::digest(STEP_ID.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}
