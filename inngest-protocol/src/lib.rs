//! The Inngest wire protocol, typed, in one place: what crosses the wire between Inngest (the
//! server, or the local engine) and an SDK, used in both directions.
//!
//! | module | protocol concept |
//! |---|---|
//! | [`call`] | the call request body (`POST ?fnId=&stepId=`) |
//! | [`op`] | the opcodes of a `206` answer and their options |
//! | [`checkpoint`] | `POST /v1/checkpoint/{runId}/async`: steps run in the call, saved as it goes |
//! | [`gateway`] | what `step.fetch` and `step.ai.infer` resume with |
//! | [`signal`] | `POST /v1/signals` and what `waitForSignal` resumes with |
//! | [`realtime`] | `POST /v1/realtime/publish` and the messages subscribers receive |
//! | [`register`] | the register payload (`POST /fn/register`) and function configs |
//! | [`sync`] | introspection (`GET`), sync (`PUT`) and in-band sync bodies |
//! | [`event`] | events and the lifecycle payloads (`inngest/function.failed`, ...) |
//! | [`error`] | errors as they are serialized |
//! | [`step_id`] | step-id hashing (`sha1(id)`, repeats `id:1`, ...) |
//! | [`signature`] | `X-Inngest-Signature` and the hashed signing key |
//! | [`headers`] | header names |
//! | [`timestr`], [`time`] | time strings (`"1h30m"`) and RFC 3339 / HTTP dates |
//! | [`retry`] | retry defaults, the server's backoff table, `Retry-After` |
//! | [`limits`] | the server's limits |
//! | [`cron`] | cron schedules as the server reads them |
//!
//! Plain serde types and pure functions: no I/O, no clock, no async runtime. The Inngest SDK
//! for Rust (`inngest`), its macros and its local engine (`inngest-engine`) all build on it.

#![deny(missing_docs)]

pub mod call;
pub mod checkpoint;
pub mod cron;
pub mod error;
pub mod event;
pub mod gateway;
pub mod headers;
pub mod limits;
pub mod op;
pub mod realtime;
pub mod register;
pub mod retry;
pub mod signal;
pub mod signature;
pub mod step_id;
pub mod sync;
pub mod time;
pub mod timestr;

/// Reads `null` as the default: Go marshals a nil slice or map as `null`, and older servers
/// sent `"stack": null` (the JS SDK reads it as `[]` too).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    Ok(<Option<T> as serde::Deserialize>::deserialize(deserializer)?.unwrap_or_default())
}
