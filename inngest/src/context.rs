//! The context a function receives.

use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::json::RawJson;
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
    /// Every triggering event (one, unless the function batches events): a slice of
    /// `Event<E>` (`ctx.events.len()`, `ctx.events.iter()`, `ctx.events[0]`).
    pub events: Events<E>,
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

/// A run's triggering events: derefs to `[Event<E>]`.
///
/// A function that does not batch gets one event, `ctx.event` again; it is read into
/// `Event<E>` a second time only when `ctx.events` is first used (`E` need not be `Clone`).
/// A batch is read whole before the function runs, so an event that does not fit `E` fails
/// the call at once, naming it.
pub struct Events<E> {
    /// The one event, `ctx.event`, as JSON text, until it is read (then `raw` is empty).
    one: Option<bytes::Bytes>,
    /// The events as JSON text, until they are read.
    raw: Vec<RawJson>,
    read: OnceLock<Vec<Event<E>>>,
}

impl<E> Events<E> {
    /// Events already read.
    pub(crate) fn read(events: Vec<Event<E>>) -> Events<E> {
        Events {
            one: None,
            raw: Vec::new(),
            read: OnceLock::from(events),
        }
    }

    /// The one event of a call, `event` (its text, read when first used).
    pub(crate) fn one(event: RawJson) -> Events<E> {
        Events {
            one: Some(event.into_bytes()),
            raw: Vec::new(),
            read: OnceLock::new(),
        }
    }

    /// The events' texts, unread.
    fn texts(&self) -> impl Iterator<Item = RawJson> + '_ {
        let one = self
            .one
            .iter()
            .map(|text| RawJson::from_checked(text.clone()));
        one.chain(self.raw.iter().cloned())
    }

    /// Events read when first used: the texts of events that already read as `Event<E>`
    /// once (the call's `event`).
    pub(crate) fn lazy(raw: Vec<RawJson>) -> Events<E> {
        Events {
            one: None,
            raw,
            read: OnceLock::new(),
        }
    }
}

impl<E: DeserializeOwned> std::ops::Deref for Events<E> {
    type Target = [Event<E>];

    fn deref(&self) -> &[Event<E>] {
        self.read.get_or_init(|| {
            self.texts()
                .filter_map(
                    |raw| match raw.read_event().map_or_else(|| raw.decode(), Ok) {
                        Ok(event) => Some(event),
                        // The same text already read as `Event<E>` as `ctx.event`.
                        Err(e) => {
                            tracing::error!(error = %e, "an event read once did not read again");
                            None
                        }
                    },
                )
                .collect()
        })
    }
}

impl<E: std::fmt::Debug> std::fmt::Debug for Events<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.read.get() {
            Some(events) => events.fmt(f),
            None => self.texts().collect::<Vec<_>>().fmt(f),
        }
    }
}
