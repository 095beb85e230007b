//! The context a function receives.

use std::sync::Arc;

use serde_json::Value;

use crate::error::Error;
use crate::middleware::RunHooks;
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
    /// How many attempts the run has in all (its retries plus one), when Inngest says so:
    /// `attempt + 1 == max_attempts` on the last one.
    pub max_attempts: Option<u32>,
    /// The call's middleware and the values they put into the context.
    pub(crate) hooks: Option<Arc<RunHooks>>,
}

impl<E> Context<E> {
    /// The value of type `T` a middleware put into the context (dependency injection: a
    /// database pool, the user a request acts for), or an error that names `T` and says how
    /// to provide it.
    ///
    /// ```ignore
    /// let pool = ctx.get::<PgPool>()?;
    /// ```
    pub fn get<T: Send + Sync + 'static>(&self) -> Result<&T, Error> {
        match &self.hooks {
            Some(hooks) => hooks.run.extensions.require::<T>(),
            None => Err(crate::middleware::Extensions::default().missing::<T>()),
        }
    }
}
