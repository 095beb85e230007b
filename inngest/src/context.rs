//! The context a function receives.

use serde_json::Value;

use crate::step::Step;
use inngest_protocol::event::Event;

/// What a function receives: its triggering event, the step tools, and the run's identity.
///
/// `E` is the event's `data` type, `serde_json::Value` by default.
#[derive(Debug)]
#[non_exhaustive]
pub struct Context<E = Value> {
    /// The triggering event (the first one, for a batch).
    pub event: Event<E>,
    /// Every triggering event (one, unless the function batches events).
    pub events: Vec<Event<E>>,
    /// The step tools: `ctx.step.run(...)`.
    pub step: Step,
    /// The run's id (a ULID).
    pub run_id: String,
    /// The 0-based attempt of this call.
    pub attempt: u32,
}
