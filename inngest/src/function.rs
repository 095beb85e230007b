//! What `#[inngest::function]`, `#[inngest::on_failure]` and `#[inngest::on_cancel]` declare:
//! the [`Function`] trait, its static [`Definition`] with its [`Options`], and the type-erased
//! [`Registration`] the registry collects.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::context::{Context, Events};
use crate::error::{Error, NonRetriableError};
use crate::execution::{panic_message, Driver, Driving};
use crate::json::RawJson;
use crate::middleware::{MiddlewareFactory, RunHooks};
use crate::step::Step;
use crate::BoxFuture;
use inngest_protocol::event::Event;

pub use crate::options::{
    BatchEvents, CancelOn, Concurrency, Debounce, Options, Priority, RateLimit, Scope, Singleton,
    SingletonMode, Throttle, Timeouts,
};

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
    /// What the attribute declared (the macros' data model; not public API).
    #[doc(hidden)]
    const DEFINITION: &'static Definition;
    /// Runs the user's `async fn`, handing its future to `sink` (not public API: call the
    /// `async fn` itself). The future is not boxed here: the runtime keeps it inside the
    /// call's one box.
    #[doc(hidden)]
    fn call<S: FutureSink<Self>>(ctx: Context<Self::Event>, sink: S) -> S::Out;
}

/// Where [`Function::call`] hands the user's future (not public API): a generic method, so
/// that the runtime gets the future's own type, which no one can name.
///
/// It is generic over the function, not its output: a bound that names `Self::Output` in
/// `call`'s signature would be checked again, with a confusing error, when the output type is
/// wrong.
#[doc(hidden)]
pub trait FutureSink<F: Function + ?Sized> {
    /// What the sink makes of the future.
    type Out;
    /// Takes the future of the user's `async fn`; the `Send` bound is checked here (at the
    /// user's fn name).
    fn put<Fut>(self, future: Fut) -> Self::Out
    where
        Fut: Future<Output = Result<F::Output, Error>> + Send + 'static;
}

/// The user's future, boxed (the runner of a function with middleware).
struct BoxSink;

impl<F: Function + ?Sized> FutureSink<F> for BoxSink {
    type Out = BoxFuture<Result<F::Output, Error>>;

    fn put<Fut>(self, future: Fut) -> Self::Out
    where
        Fut: Future<Output = Result<F::Output, Error>> + Send + 'static,
    {
        Box::pin(future)
    }
}

/// The user's future, its output written as JSON text, driven by the executor: the call's one
/// box.
struct DriveSink<'a> {
    driver: Driver<'a>,
    rust_name: &'static str,
}

impl<'a, F: Function + ?Sized> FutureSink<F> for DriveSink<'a> {
    type Out = Driving<'a>;

    fn put<Fut>(self, future: Fut) -> Driving<'a>
    where
        Fut: Future<Output = Result<F::Output, Error>> + Send + 'static,
    {
        let rust_name = self.rust_name;
        // `map`, not an `async` block: the block would hold the future twice (as what it
        // captured and as what it awaits).
        self.driver
            .drive(future.map(move |result| encode_output(&result?, rust_name)))
    }
}

/// What an attribute declared about a function, fixed at compile time.
#[derive(Debug)]
pub struct Definition {
    /// The function's id within its app (`"send-welcome"`); failure handlers have their
    /// target's id plus `-failure`, set at registration.
    pub id: &'static str,
    /// The display name, if one was given.
    pub name: Option<&'static str>,
    /// What the function does, for people (sent at sync as `description`).
    pub description: Option<&'static str>,
    /// What triggers it.
    pub triggers: &'static [Trigger],
    /// How many times Inngest retries it after the first attempt (`None`: Inngest's default).
    pub retries: Option<u32>,
    /// Flow control, batching, cancellation and timeouts; [`Options::NONE`] for handlers.
    pub options: Options,
    /// The function's own middleware (`middleware = [..]`), after the app's.
    pub middleware: &'static [MiddlewareFactory],
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
pub(crate) struct Call {
    /// The triggering event, as JSON text.
    pub(crate) event: RawJson,
    /// Every triggering event, as JSON text; empty when the one event is `event` (no vector
    /// is made for it).
    pub(crate) events: Vec<RawJson>,
    /// The step tools bound to this call.
    pub(crate) step: Step,
    /// The run's id.
    pub(crate) run_id: String,
    /// The 0-based attempt of this call.
    pub(crate) attempt: u32,
    /// How many attempts the run has in all, when Inngest says so.
    pub(crate) max_attempts: Option<u32>,
    /// The call's middleware, when the function has any.
    pub(crate) hooks: Option<Arc<RunHooks>>,
}

/// Type-erased entry point: deserializes the events, runs the function, serializes its output
/// (to JSON text, once: it is sent as it is). Used inside a function's middleware.
pub(crate) type Runner = fn(Call) -> BoxFuture<Result<RawJson, Error>>;

/// Type-erased entry point of a call without middleware: the function as [`Runner`] runs it,
/// driven by the executor, the two in one box.
pub(crate) type DrivenRunner = for<'a> fn(Call, Driver<'a>) -> Driving<'a>;

/// A function as the registry stores it: what it declared and how to run it.
#[derive(Clone, Copy)]
pub struct Registration {
    /// What its attribute declared.
    pub definition: &'static Definition,
    /// How to run it inside its middleware.
    pub(crate) runner: Runner,
    /// How to run it without middleware.
    pub(crate) driven: DrivenRunner,
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
            driven: run_driven::<F>,
        }
    }
}

inventory::collect!(Registration);

impl<F: Function> crate::step::Invocable for F {
    type Event = F::Event;
    type Output = F::Output;

    fn function_id() -> &'static str {
        F::DEFINITION.id
    }
}

fn run_erased<F: Function>(call: Call) -> BoxFuture<Result<RawJson, Error>> {
    Box::pin(async move {
        let output = F::call(context::<F>(call)?, BoxSink).await?;
        encode_output(&output, F::DEFINITION.rust_name)
    })
}

fn run_driven<F: Function>(call: Call, driver: Driver<'_>) -> Driving<'_> {
    let sink = DriveSink {
        rust_name: F::DEFINITION.rust_name,
        driver,
    };
    // The events are read before the function's first poll: a panic in a `Deserialize` of
    // the user's is caught here, as one in the function is.
    let started = std::panic::catch_unwind(AssertUnwindSafe(|| context::<F>(call)));
    match started {
        Ok(Ok(ctx)) => F::call(ctx, sink),
        Ok(Err(error)) => sink.driver.drive(std::future::ready(Err(error))),
        Err(panic) => sink.driver.panicked(panic_message(&*panic)),
    }
}

/// The context of `F` for `call`: its events read.
fn context<F: Function>(call: Call) -> Result<Context<F::Event>, Error> {
    let (event, events) = decode_events::<F::Event>(call.event, call.events)?;
    Ok(Context {
        event,
        events,
        step: call.step,
        run_id: call.run_id,
        attempt: call.attempt,
        max_attempts: call.max_attempts,
        hooks: call.hooks,
    })
}

// The helpers below are generic over the event and output types only, and kept out of line:
// inlined into `run_erased`, a copy of the JSON reader and writer would be compiled for every
// function of the user's crate.

/// The call's event and events as `Event<E>`.
#[inline(never)]
fn decode_events<E: DeserializeOwned>(
    event: RawJson,
    events: Vec<RawJson>,
) -> Result<(Event<E>, Events<E>), Error> {
    let first = decode_event(&event)?;
    // One event, the same as `event` (a function that does not batch): read again only if
    // the function looks at `ctx.events`.
    if events.is_empty() {
        return Ok((first, Events::one(event)));
    }
    if events.iter().all(|raw| *raw == event) {
        return Ok((first, Events::lazy(events)));
    }
    let events = events
        .iter()
        .map(decode_event)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((first, Events::read(events)))
}

/// A function's output as JSON text.
#[inline(never)]
fn encode_output<T: Serialize>(output: &T, rust_name: &str) -> Result<RawJson, Error> {
    RawJson::from_value(output).map_err(|e| {
        NonRetriableError::new(format!(
            "the output of `{rust_name}` does not serialize to JSON: {e}"
        ))
        .into()
    })
}

/// Reads an event into `Event<E>` straight from its JSON text.
fn decode_event<E: DeserializeOwned>(raw: &RawJson) -> Result<Event<E>, Error> {
    if let Some(event) = raw.read_event() {
        return Ok(event);
    }
    if let Ok(event) = raw.decode() {
        return Ok(event);
    }
    // Read as a JSON value, as the event is taken by every SDK: of a key given twice, the last
    // one counts. Written back, its keys are unique; read again with the same deserializer (a
    // second one, `serde_json::from_value`, would be compiled for every event type).
    let value: Value = match raw.value() {
        Ok(value) => value,
        Err(e) => return Err(NonRetriableError::new(format!("the event is not JSON: {e}")).into()),
    };
    let name = value
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>")
        .to_owned();
    serde_json::from_str(&value.to_string()).map_err(|e| {
        NonRetriableError::new(format!(
            "the event `{name}` does not deserialize into `Event<{}>`: {}",
            std::any::type_name::<E>(),
            without_position(&e)
        ))
        .into()
    })
}

/// A JSON error's message without its ` at line L column C`: the position in text the SDK
/// wrote itself means nothing to the user.
fn without_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match message.strip_suffix(&position) {
        Some(bare) => bare.to_owned(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Signup {
        plan: String,
    }

    fn raw(text: &str) -> RawJson {
        RawJson::from_checked(bytes::Bytes::copy_from_slice(text.as_bytes()))
    }

    #[test]
    fn an_event_is_read_from_its_text() {
        let event: Event<Signup> = decode_event(&raw(
            r#"{"name":"user/signup","data":{"plan":"pro"},"ts":5}"#,
        ))
        .unwrap();
        assert_eq!(
            (event.name.as_str(), event.data.plan.as_str()),
            ("user/signup", "pro")
        );
        assert_eq!(event.ts, Some(5));
    }

    #[test]
    fn the_events_are_the_event_again_or_the_batch() {
        let one = raw(r#"{"name":"user/signup","data":{"plan":"pro"}}"#);
        let (event, events) = decode_events::<Signup>(one.clone(), vec![one.clone()]).unwrap();
        assert_eq!(event.data.plan, "pro");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data.plan, "pro");
        assert_eq!(
            events.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["user/signup"]
        );

        // No events given (the call's one event is `event`): `ctx.events` is that event.
        let (_, events) = decode_events::<Signup>(one.clone(), Vec::new()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data.plan, "pro");

        let other = raw(r#"{"name":"user/signup","data":{"plan":"team"}}"#);
        let (_, events) =
            decode_events::<Signup>(one.clone(), vec![one.clone(), other.clone()]).unwrap();
        let plans: Vec<&str> = events.iter().map(|e| e.data.plan.as_str()).collect();
        assert_eq!(plans, ["pro", "team"]);

        // A batch is read whole before the function runs: a bad event fails the call.
        let bad = raw(r#"{"name":"user/signup","data":{"plan":1}}"#);
        let error = decode_events::<Signup>(one.clone(), vec![one.clone(), bad]).unwrap_err();
        assert!(
            error.to_string().contains("invalid type: integer `1`"),
            "{error}"
        );
    }

    #[test]
    fn of_a_key_given_twice_the_last_counts_as_in_every_sdk() {
        let event: Event<Signup> =
            decode_event(&raw(r#"{"name":"a","data":{"plan":"x"},"name":"b"}"#)).unwrap();
        assert_eq!(event.name, "b");
    }

    #[test]
    fn a_mismatch_names_the_event_the_type_and_the_field_not_a_column() {
        let error = decode_event::<Signup>(&raw(r#"{"name":"user/signup","data":{"plan":7}}"#))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the event `user/signup` does not deserialize into \
             `Event<inngest::function::tests::Signup>`: invalid type: integer `7`, expected a string"
        );
        let error = decode_event::<Signup>(&raw(r#"{"data":{"plan":"pro"}}"#)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the event `<unnamed>` does not deserialize into \
             `Event<inngest::function::tests::Signup>`: missing field `name`"
        );
    }
}
