//! What `#[inngest::function]`, `#[inngest::on_failure]` and `#[inngest::on_cancel]` declare:
//! the [`Function`] trait, its static [`Definition`] with its [`Options`], and the type-erased
//! [`Registration`] the registry collects.

use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::context::Context;
use crate::error::{Error, NonRetriableError};
use crate::event::Event;
use crate::step::Step;

pub use crate::options::{
    BatchEvents, CancelOn, Concurrency, Debounce, Options, Priority, RateLimit, Scope, Singleton,
    SingletonMode, Throttle, Timeouts,
};

/// A boxed, sendable future, as functions are stored and driven.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An Inngest function: implemented by the hidden type that `#[inngest::function]` and
/// `#[inngest::on_failure]` put beside an `async fn`, under the same name.
///
/// Name that type to register a function explicitly, `App::new("app").register::<my_fn>()`.
/// Do not implement it by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an Inngest function",
    label = "not declared with #[inngest::function]",
    note = "annotate an `async fn` with #[inngest::function(id = \"...\", event = \"...\")]"
)]
pub trait Function: 'static {
    /// The type of the triggering event's `data`.
    type Event: DeserializeOwned + Send + 'static;
    /// What the function returns on success.
    type Output: Serialize + Send + 'static;
    /// What the attribute declared.
    const DEFINITION: &'static Definition;
    /// Runs the user's `async fn`.
    fn call(ctx: Context<Self::Event>) -> BoxFuture<Result<Self::Output, Error>>;
}

/// What an attribute declared about a function, fixed at compile time.
#[derive(Debug)]
pub struct Definition {
    /// The function's id within its app (`"send-welcome"`); failure handlers have their
    /// target's id plus `-failure`, set at registration.
    pub id: &'static str,
    /// The display name, if one was given.
    pub name: Option<&'static str>,
    /// What triggers it.
    pub triggers: &'static [Trigger],
    /// How many times Inngest retries it after the first attempt (`None`: Inngest's default).
    pub retries: Option<u32>,
    /// Flow control, batching, cancellation and timeouts; [`Options::NONE`] for handlers.
    pub options: Options,
    /// A function, or the failure handler of one.
    pub kind: Kind,
    /// The package that declared it (`CARGO_PKG_NAME`), a candidate app id.
    pub package: &'static str,
    /// Where it was declared.
    pub file: &'static str,
    /// Where it was declared.
    pub line: u32,
    /// The Rust path of the user's `async fn`.
    pub rust_name: &'static str,
}

/// A function, or the failure or cancellation handler of one.
#[derive(Debug)]
pub enum Kind {
    /// A function with its own triggers.
    Function,
    /// The failure handler of the function with this definition.
    FailureHandler {
        /// The function it handles.
        target: &'static Definition,
    },
    /// The cancellation handler of the function with this definition.
    CancelHandler {
        /// The function it handles.
        target: &'static Definition,
    },
}

/// A trigger of a function.
#[derive(Debug)]
pub enum Trigger {
    /// An event name, with an optional CEL `if` expression.
    Event {
        /// The event name.
        name: &'static str,
        /// The CEL expression the event must match.
        expression: Option<&'static str>,
    },
    /// A cron schedule.
    Cron {
        /// The cron expression: five fields, optionally after `TZ=<zone> `.
        schedule: &'static str,
        /// The most a run may be delayed after its scheduled time, a time string (up to 5m).
        jitter: Option<&'static str>,
    },
}

impl Definition {
    /// Whether both describe the same declaration. (Pointers to `Function::DEFINITION` are
    /// not reliable for this: a constant may be placed at several addresses.)
    pub fn is(&self, other: &Definition) -> bool {
        self.package == other.package
            && self.rust_name == other.rust_name
            && self.file == other.file
            && self.line == other.line
    }

    /// `file:line` of the declaration.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// The input the runtime hands a function for one call.
pub struct Call {
    /// The triggering event, as JSON text.
    pub event: Box<RawValue>,
    /// Every triggering event, as JSON text.
    pub events: Vec<Box<RawValue>>,
    /// The step tools bound to this call.
    pub step: Step,
    /// The run's id.
    pub run_id: String,
    /// The 0-based attempt of this call.
    pub attempt: u32,
}

/// Type-erased entry point: deserializes the events, runs the function, serializes its output
/// (to JSON text, once: it is sent as it is).
pub type Runner = fn(Call) -> BoxFuture<Result<Box<RawValue>, Error>>;

/// A function as the registry stores it: what it declared and how to run it.
#[derive(Clone, Copy)]
pub struct Registration {
    /// What its attribute declared.
    pub definition: &'static Definition,
    /// How to run it.
    pub runner: Runner,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("definition", self.definition)
            .finish_non_exhaustive()
    }
}

impl Registration {
    /// The registration of `F`.
    pub const fn of<F: Function>() -> Registration {
        Registration {
            definition: F::DEFINITION,
            runner: run_erased::<F>,
        }
    }
}

inventory::collect!(Registration);

fn run_erased<F: Function>(call: Call) -> BoxFuture<Result<Box<RawValue>, Error>> {
    Box::pin(async move {
        let event: Event<F::Event> = decode_event::<F::Event>(&call.event)?;
        let events = call
            .events
            .iter()
            .map(|raw| decode_event::<F::Event>(raw))
            .collect::<Result<Vec<_>, _>>()?;
        let ctx = Context {
            event,
            events,
            step: call.step,
            run_id: call.run_id,
            attempt: call.attempt,
        };
        let output = F::call(ctx).await?;
        serde_json::value::to_raw_value(&output).map_err(|e| {
            NonRetriableError::new(format!(
                "the output of `{}` does not serialize to JSON: {e}",
                F::DEFINITION.rust_name
            ))
            .into()
        })
    })
}

/// Reads an event into `Event<E>` straight from its JSON text.
fn decode_event<E: DeserializeOwned>(raw: &RawValue) -> Result<Event<E>, Error> {
    if let Ok(event) = serde_json::from_str(raw.get()) {
        return Ok(event);
    }
    // Read as a JSON value, as the event always was before this fast path: the same events
    // are taken (a repeated key: the last one), and an error names what is wrong, not a column.
    match serde_json::from_str(raw.get()) {
        Ok(value) => decode_event_value(value),
        Err(e) => Err(NonRetriableError::new(format!("the event is not JSON: {e}")).into()),
    }
}

fn decode_event_value<E: DeserializeOwned>(raw: Value) -> Result<Event<E>, Error> {
    let name = raw
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>")
        .to_owned();
    serde_json::from_value(raw).map_err(|e| {
        NonRetriableError::new(format!(
            "the event `{name}` does not deserialize into `Event<{}>`: {e}",
            std::any::type_name::<E>()
        ))
        .into()
    })
}
