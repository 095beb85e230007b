//! Procedural macros of the Inngest SDK for Rust: `#[inngest::function]`,
//! `#[inngest::on_failure]` and `#[inngest::on_cancel]`.
//!
//! Use them through the `inngest` crate, which re-exports them; the code they generate reaches
//! the runtime only through `::inngest::__private` (see `paths.rs`), so a crate that uses them
//! depends on `inngest` alone.
//!
//! The expansion is built in four passes: `attr` parses the arguments; `model` validates them
//! into a typed model, with `value` (each value), `options` (triggers and options), `cron`
//! (schedules) and `keys` (unknown and duplicate keys); `check` checks the signature and the
//! arguments against each other; and `emit` generates the code. Every error found on the way
//! is reported in the same compile, spanned on the token that is wrong, beside the user's fn
//! left unchanged (a valid one is emitted returning an `async move` block, see
//! `#[inngest::function]`). Values are checked against the server's limits, shared with the runtime in
//! `inngest-protocol`.

extern crate proc_macro;

mod attr;
mod check;
mod cron;
mod emit;
mod errors;
mod keys;
mod model;
mod options;
mod paths;
mod value;

use proc_macro::TokenStream;

/// Declares an Inngest function: an `async fn` that Inngest runs when an event arrives.
///
/// ```no_run
/// use inngest::{Context, Error, NonRetriableError};
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize)]
/// pub struct Signup { pub user_id: String, pub plan: String }
///
/// // Registers "<app-id>-send-welcome", triggered by the event "user/signup".
/// #[inngest::function(id = "send-welcome", event = "user/signup", retries = 3)]
/// async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
///     let name: String = ctx
///         .step
///         .run("load-user", || async { Ok(format!("user-{}", ctx.event.data.user_id)) })
///         .await?;
///     if ctx.event.data.plan == "banned" {
///         return Err(NonRetriableError::new("banned users get no welcome").into());
///     }
///     Ok(format!("welcomed {name}"))
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), Error> {
///     inngest::serve().await // serves every annotated function
/// }
/// ```
///
/// # Arguments
///
/// | key | value | |
/// |---|---|---|
/// | `id` | string literal of ASCII letters, digits, `-` and `_` | required; the function's id within its app, which Inngest shows as `<app-id>-<id>` |
/// | `event` | `event = "user/signup"` or `event(name = "user/signup", if = "event.data.plan == 'pro'")` | a triggering event, with an optional CEL filter; repeatable |
/// | `cron` | `cron = "0 9 * * MON"` or `cron(schedule = "TZ=Europe/Paris 0 9 * * *", jitter = "5m")` | a schedule: five fields, optionally after `TZ=<zone> `; the jitter (1s to 5m) delays each run by up to that much; repeatable |
/// | `name` | string literal | the name the Inngest dashboard shows |
/// | `description` | string literal | what the function does, for people; sent at sync |
/// | `middleware` | `middleware = [Metrics, crate::auth::Auth]` | the function's own middleware, after the app's, in this order: types implementing `inngest::middleware::Middleware` and `Default`, each built once when the app is built |
/// | `retries` | integer literal from 0 to 20 | retries after the first attempt; Inngest's default (4) when absent |
/// | `concurrency` | `concurrency = 10` or `concurrency(limit = 5, key = "event.data.user_id", scope = "fn" \| "env" \| "account")` | at most `limit` steps running at once (per value of `key`); `env` and `account` scopes need a `key`; at most twice |
/// | `throttle` | `throttle(limit = 10, period = "1m", burst = 2, key = "..")` | at most `limit` runs start per `period` (at least 1s); the others wait |
/// | `rate_limit` | `rate_limit(limit = 1, period = "4h", key = "..")` | at most `limit` runs start per `period` (at most 24h); the others are skipped |
/// | `debounce` | `debounce(period = "5m", key = "..", timeout = "1h")` | a run starts once no event came for `period` (1s to 7d), with the last event; at the latest after `timeout` |
/// | `idempotency` | `idempotency = "event.data.order_id"` | one run per value of the expression within 24h |
/// | `batch_events` | `batch_events(max_size = 100, timeout = "5s", key = "..", if = "..")` | the function receives up to `max_size` (2 to 100) events at once, in `ctx.events`, after at most `timeout` (at least 1s, in h/m/s units) |
/// | `cancel_on` | `cancel_on(event = "user/deleted", if = "event.data.id == async.data.id", timeout = "7d")` | a run is cancelled when this event arrives (within `timeout`, at most 365d, or an RFC 3339 time); at most 5 |
/// | `priority` | `priority(run = "event.data.priority")` | seconds (-600 to 600) a run moves ahead in the queue |
/// | `timeouts` | `timeouts(start = "10m", finish = "1h")` | a run is cancelled if it waits longer than `start` to start, or runs longer than `finish` |
/// | `singleton` | `singleton(key = "event.data.user_id", mode = "skip" \| "cancel")` | one run at a time (per key): a new run is skipped, or cancels the running one |
///
/// At least one `event` or `cron` is required, at most 10 in all. Time strings are Inngest's
/// (`"30s"`, `"2h45m"`, `"1d"`, `"1w"`); `key`, `if` and `run` are CEL expressions, passed to
/// Inngest as written.
///
/// Everything the Inngest server would refuse at sync time is a compile error instead, on the
/// value that is wrong: a malformed time string or cron schedule, a value over the server's
/// limits, an event name under the reserved `inngest/` prefix that Inngest never sends, a
/// trigger given twice, and the combinations the server refuses: `batch_events` with
/// `cancel_on`, `debounce`, `singleton` or `priority`, and `idempotency` with `rate_limit`
/// (idempotency is a rate limit, which would replace it).
///
/// ```no_run
/// use inngest::{Context, Error};
///
/// #[inngest::function(
///     id = "sync-account",
///     event(name = "account/updated", if = "event.data.plan != 'free'"),
///     cron(schedule = "TZ=Europe/Paris 0 3 * * *", jitter = "5m"),
///     concurrency(limit = 5, key = "event.data.account_id"),
///     throttle(limit = 100, period = "1m"),
///     cancel_on(event = "account/deleted", if = "event.data.id == async.data.id"),
///     timeouts(finish = "1h"),
/// )]
/// async fn sync_account(ctx: Context) -> Result<(), Error> {
///     ctx.step.run("sync", || async { Ok(()) }).await
/// }
///
/// // Up to 100 events per run, in `ctx.events`.
/// #[inngest::function(id = "import-rows", event = "rows/added", batch_events(max_size = 100, timeout = "5s"))]
/// async fn import_rows(ctx: Context) -> Result<usize, Error> {
///     Ok(ctx.events.len())
/// }
/// # fn main() {}
/// ```
///
/// # The function
///
/// A free `async fn` taking one argument, `Context<E>`, and returning `Result<T, inngest::Error>`:
///
/// - `E` is the type of the event's `data`; it must implement `serde::Deserialize` (the
///   default, `Context` alone, is raw `serde_json::Value`).
/// - `T` is what the run returns; it must implement `serde::Serialize`.
/// - its future must be `Send`, as the runtime drives it on a multi-threaded executor.
///
/// The attribute leaves the fn callable as written: it can still be called and awaited
/// directly, in a unit test for instance. Beside it, in the type namespace, it declares a hidden type of the same name
/// that implements `inngest::Function`; name that type to register the function explicitly,
/// `App::new("app").register::<send_welcome>()`, or to attach a failure or cancellation
/// handler, `#[inngest::on_failure(send_welcome)]`, `#[inngest::on_cancel(send_welcome)]`. The function is also registered for
/// `inngest::serve()` through the `inventory` crate, even when it is declared in a library.
///
/// Mistakes are compile errors on the token that is wrong: a missing or unknown key, an id
/// with a space, `retries = 50`, `debounce(period = "8d")`, a fn that is not `async`, an
/// argument that is not `Context<E>`, an event type that is not `Deserialize`, an output that
/// is not `Serialize`.
///
/// # Limits
///
/// - The fn must be a free fn (at module level or in a fn body), not an associated fn of an
///   `impl` block: the hidden type is declared beside it.
/// - The crate must depend on `inngest` under that name: the generated code names
///   `::inngest`.
/// - The event and output types must be at least as visible as the fn: a `pub fn` taking
///   `Context<PrivateType>` is error E0446 (private type in public interface), since the hidden
///   type of a `pub fn` is `pub` and names them.
///
/// # Equivalent code without the macro
///
/// The example above expands to the fn, as a fn that returns an `async move` block with the
/// body as written (when its argument is a plain name: not `mut ctx`, not a pattern; any
/// other fn is left as it is): the block holds the context once, where an `async fn`'s future
/// holds its argument twice, and every call moves the future. It is called and awaited as
/// before. Then (the `__private` module is no public API; this only shows what the macro
/// does):
///
/// ```no_run
/// # use inngest::{Context, Error};
/// # #[derive(Debug, serde::Deserialize)]
/// # pub struct Signup { pub user_id: String, pub plan: String }
/// #[allow(clippy::manual_async_fn)]
/// fn send_welcome(
///     ctx: Context<Signup>,
/// ) -> impl ::inngest::__private::Future<Output = Result<String, Error>> {
///     async move {
///         let _ = &ctx; // the context captured whole, as the `async fn` did
///         // the body as written
///         Ok(ctx.event.data.user_id)
///     }
/// }
///
/// #[allow(non_camel_case_types, dead_code)]
/// #[doc(hidden)]
/// struct send_welcome {}
///
/// const _: () = {
///     impl ::inngest::__private::Function for send_welcome {
///         type Event = <Context<Signup> as ::inngest::__private::ContextArg>::Event;
///         type Output = <Result<String, Error> as ::inngest::__private::FunctionReturn>::Output;
///         const DEFINITION: &'static ::inngest::__private::Definition =
///             &::inngest::__private::Definition {
///                 id: "send-welcome",
///                 name: ::inngest::__private::None,
///                 description: ::inngest::__private::None,
///                 triggers: &[::inngest::__private::Trigger::Event {
///                     name: "user/signup",
///                     expression: ::inngest::__private::None,
///                 }],
///                 retries: ::inngest::__private::Some(3),
///                 // With options: `Options { throttle: Some(Throttle { .. }), ..Options::NONE }`.
///                 options: ::inngest::__private::Options::NONE,
///                 // With `middleware = [M]`: `&[MiddlewareFactory::of::<M>()]`.
///                 middleware: &[],
///                 kind: ::inngest::__private::Kind::Function,
///                 package: ::inngest::__private::env!("CARGO_PKG_NAME"),
///                 file: ::inngest::__private::file!(),
///                 line: ::inngest::__private::line!(),
///                 rust_name: ::inngest::__private::concat!(
///                     ::inngest::__private::module_path!(),
///                     "::",
///                     "send_welcome"
///                 ),
///             };
///         #[allow(deprecated)]
///         fn call<__InngestSink: ::inngest::__private::FutureSink<Self>>(
///             __inngest_ctx: Context<Signup>, // the argument type as written
///             __inngest_sink: __InngestSink,
///         ) -> <__InngestSink as ::inngest::__private::FutureSink<Self>>::Out {
///             // Hands the user's future to the runtime, unboxed; checks that it is `Send`.
///             ::inngest::__private::FutureSink::put(__inngest_sink, send_welcome(__inngest_ctx))
///         }
///     }
///
///     ::inngest::__private::inventory::submit! {
///         ::inngest::__private::Registration::of::<send_welcome>()
///     }
/// };
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn function(args: TokenStream, item: TokenStream) -> TokenStream {
    match model::Function::build(args.into(), item.clone().into()) {
        Ok(function) => emit::function(&function),
        Err(errors) => emit::fallback(item.into(), errors),
    }
    .into()
}

/// Declares the failure handler of an Inngest function: an `async fn` that Inngest runs when
/// that function fails for good (its retries exhausted, or a `NonRetriableError`).
///
/// ```no_run
/// use inngest::{Context, Error, FunctionFailed};
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize)]
/// pub struct Signup { pub user_id: String, pub plan: String }
///
/// #[inngest::function(id = "send-welcome", event = "user/signup")]
/// async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
///     Ok(format!("welcomed {}", ctx.event.data.user_id))
/// }
///
/// // Registers "<app-id>-send-welcome-failure", triggered by inngest/function.failed
/// // with the expression event.data.function_id == '<app-id>-send-welcome'.
/// #[inngest::on_failure(send_welcome)]
/// async fn send_welcome_failed(ctx: Context<FunctionFailed<Signup>>) -> Result<String, Error> {
///     let failed = &ctx.event.data; // function_id, run_id, error, event
///     Ok(format!("{} failed for {}: {}", failed.function_id, failed.event.data.user_id, failed.error.message))
/// }
/// # fn main() {}
/// ```
///
/// # Arguments
///
/// - first, the Rust path of the function it handles, declared with
///   [`#[inngest::function]`](macro@function): `send_welcome`, `crate::jobs::send_welcome`.
///   A typo, or a path to anything else, is a compile error on the path.
/// - `retries = N`, an integer literal from 0 to 20: retries of the handler itself after its
///   first attempt; 1 when absent.
///
/// # The handler
///
/// A free `async fn` taking `Context<FunctionFailed<E>>` and returning
/// `Result<T, inngest::Error>`, where:
///
/// - `E` must be the event type of the function it handles (`Signup` for a function taking
///   `Context<Signup>`); a different type is a compile error on `E`. Write `FunctionFailed`
///   without `<E>` to receive the event as raw JSON, whatever the function's event type.
///   `Context` and `FunctionFailed` may be written with any path prefix
///   (`inngest::Context<inngest::FunctionFailed<Signup>>`), but not through a type alias: the
///   attribute reads them from the signature.
/// - `T` must implement `serde::Serialize`.
///
/// Like `#[inngest::function]`, the attribute leaves the fn callable as written and declares a
/// hidden type of the same name, registered for `inngest::serve()`.
///
/// A function has at most one failure handler: a second one is a compile error
/// (E0119, conflicting implementations of `OneFailureHandlerPerFunction`). For the same
/// reason the handler must be declared in the crate of its function (elsewhere, E0117: only
/// traits defined in the current crate can be implemented for types defined outside of it).
///
/// # Equivalent code without the macro
///
/// The handler above expands to the fn, rewritten as `#[inngest::function]` rewrites one,
/// plus (the `__private` module is no public API; this only shows what the macro does):
///
/// ```no_run
/// # use inngest::{Context, Error, FunctionFailed};
/// # #[derive(Debug, serde::Deserialize)]
/// # pub struct Signup { pub user_id: String, pub plan: String }
/// # #[inngest::function(id = "send-welcome", event = "user/signup")]
/// # async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> { Ok(String::new()) }
/// # async fn send_welcome_failed(ctx: Context<FunctionFailed<Signup>>) -> Result<String, Error> { Ok(String::new()) }
/// #[allow(non_camel_case_types, dead_code)]
/// #[doc(hidden)]
/// struct send_welcome_failed {}
///
/// const _: () = {
///     impl ::inngest::__private::Function for send_welcome_failed {
///         type Event =
///             <Context<FunctionFailed<Signup>> as ::inngest::__private::ContextArg>::Event;
///         type Output = <Result<String, Error> as ::inngest::__private::FunctionReturn>::Output;
///         const DEFINITION: &'static ::inngest::__private::Definition = &{
///             // `FunctionFailed<Signup>` must match `send_welcome`'s event type.
///             ::inngest::__private::assert_same_event::<
///                 Signup,
///                 <send_welcome as ::inngest::__private::Function>::Event,
///             >();
///             ::inngest::__private::failure_definition(
///                 <send_welcome as ::inngest::__private::Function>::DEFINITION,
///                 ::inngest::__private::Some(1),
///                 ::inngest::__private::env!("CARGO_PKG_NAME"),
///                 ::inngest::__private::file!(),
///                 ::inngest::__private::line!(),
///                 ::inngest::__private::concat!(
///                     ::inngest::__private::module_path!(),
///                     "::",
///                     "send_welcome_failed"
///                 ),
///             )
///         };
///         #[allow(deprecated)]
///         fn call<__InngestSink: ::inngest::__private::FutureSink<Self>>(
///             __inngest_ctx: Context<FunctionFailed<Signup>>,
///             __inngest_sink: __InngestSink,
///         ) -> <__InngestSink as ::inngest::__private::FutureSink<Self>>::Out {
///             // Hands the user's future to the runtime, unboxed; checks that it is `Send`.
///             ::inngest::__private::FutureSink::put(__inngest_sink, send_welcome_failed(__inngest_ctx))
///         }
///     }
///
///     // A second failure handler of `send_welcome` would be a conflicting impl.
///     impl ::inngest::__private::OneFailureHandlerPerFunction for send_welcome {}
///
///     ::inngest::__private::inventory::submit! {
///         ::inngest::__private::Registration::of::<send_welcome_failed>()
///     }
/// };
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn on_failure(args: TokenStream, item: TokenStream) -> TokenStream {
    companion(model::CompanionKind::Failure, args, item)
}

/// `#[inngest::on_failure]` and `#[inngest::on_cancel]`: one expansion, two kinds.
fn companion(kind: model::CompanionKind, args: TokenStream, item: TokenStream) -> TokenStream {
    match model::Companion::build(kind, args.into(), item.clone().into()) {
        Ok(companion) => emit::companion(&companion),
        Err(errors) => emit::fallback(item.into(), errors),
    }
    .into()
}

/// Declares the cancellation handler of an Inngest function: an `async fn` that Inngest runs
/// when a run of that function is cancelled (by a `cancel_on` event, a timeout, a singleton in
/// `cancel` mode, or the API).
///
/// ```no_run
/// use inngest::{Context, Error, FunctionCancelled};
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize)]
/// pub struct Signup { pub user_id: String }
///
/// #[inngest::function(
///     id = "onboarding",
///     event = "user/signup",
///     cancel_on(event = "user/deleted", if = "event.data.user_id == async.data.user_id"),
/// )]
/// async fn onboarding(ctx: Context<Signup>) -> Result<(), Error> {
///     ctx.step.sleep("wait-a-day", std::time::Duration::from_secs(86_400)).await
/// }
///
/// // Registers "<app-id>-onboarding-cancel", triggered by inngest/function.cancelled
/// // with the expression event.data.function_id == '<app-id>-onboarding'.
/// #[inngest::on_cancel(onboarding)]
/// async fn onboarding_cancelled(ctx: Context<FunctionCancelled<Signup>>) -> Result<String, Error> {
///     let cancelled = &ctx.event.data; // function_id, run_id, event, events
///     Ok(format!("run {} for {} was cancelled", cancelled.run_id, cancelled.event.data.user_id))
/// }
/// # fn main() {}
/// ```
///
/// It works as [`#[inngest::on_failure]`](macro@on_failure) does, with
/// `Context<FunctionCancelled<E>>` instead of `Context<FunctionFailed<E>>`:
///
/// - first argument, the Rust path of the function it handles, declared with
///   [`#[inngest::function]`](macro@function); a typo, or a path to anything else, is a
///   compile error on the path.
/// - `retries = N`, an integer literal from 0 to 20: retries of the handler itself; 1 when
///   absent.
/// - `E` must be the event type of the function it handles, a compile error on `E` otherwise;
///   `Context<FunctionCancelled>` receives the event as raw JSON.
/// - A function has at most one cancellation handler (a second one is E0119, conflicting
///   implementations of `OneCancelHandlerPerFunction`), declared in the crate of its function.
///
/// # Equivalent code without the macro
///
/// The handler above expands to the fn, rewritten as `#[inngest::function]` rewrites one,
/// plus (the `__private` module is no public API; this only shows what the macro does):
///
/// ```no_run
/// # use inngest::{Context, Error, FunctionCancelled};
/// # #[derive(Debug, serde::Deserialize)]
/// # pub struct Signup { pub user_id: String }
/// # #[inngest::function(id = "onboarding", event = "user/signup")]
/// # async fn onboarding(ctx: Context<Signup>) -> Result<(), Error> { Ok(()) }
/// # async fn onboarding_cancelled(ctx: Context<FunctionCancelled<Signup>>) -> Result<String, Error> { Ok(String::new()) }
/// #[allow(non_camel_case_types, dead_code)]
/// #[doc(hidden)]
/// struct onboarding_cancelled {}
///
/// const _: () = {
///     impl ::inngest::__private::Function for onboarding_cancelled {
///         type Event =
///             <Context<FunctionCancelled<Signup>> as ::inngest::__private::ContextArg>::Event;
///         type Output = <Result<String, Error> as ::inngest::__private::FunctionReturn>::Output;
///         const DEFINITION: &'static ::inngest::__private::Definition = &{
///             // `FunctionCancelled<Signup>` must match `onboarding`'s event type.
///             ::inngest::__private::assert_same_cancelled_event::<
///                 Signup,
///                 <onboarding as ::inngest::__private::Function>::Event,
///             >();
///             ::inngest::__private::cancel_definition(
///                 <onboarding as ::inngest::__private::Function>::DEFINITION,
///                 ::inngest::__private::Some(1),
///                 ::inngest::__private::env!("CARGO_PKG_NAME"),
///                 ::inngest::__private::file!(),
///                 ::inngest::__private::line!(),
///                 ::inngest::__private::concat!(
///                     ::inngest::__private::module_path!(),
///                     "::",
///                     "onboarding_cancelled"
///                 ),
///             )
///         };
///         #[allow(deprecated)]
///         fn call<__InngestSink: ::inngest::__private::FutureSink<Self>>(
///             __inngest_ctx: Context<FunctionCancelled<Signup>>,
///             __inngest_sink: __InngestSink,
///         ) -> <__InngestSink as ::inngest::__private::FutureSink<Self>>::Out {
///             // Hands the user's future to the runtime, unboxed; checks that it is `Send`.
///             ::inngest::__private::FutureSink::put(__inngest_sink, onboarding_cancelled(__inngest_ctx))
///         }
///     }
///
///     // A second cancellation handler of `onboarding` would be a conflicting impl.
///     impl ::inngest::__private::OneCancelHandlerPerFunction for onboarding {}
///
///     ::inngest::__private::inventory::submit! {
///         ::inngest::__private::Registration::of::<onboarding_cancelled>()
///     }
/// };
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn on_cancel(args: TokenStream, item: TokenStream) -> TokenStream {
    companion(model::CompanionKind::Cancel, args, item)
}
