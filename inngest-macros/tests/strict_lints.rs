//! Code using both attributes, compiled under the strictest lint levels a user may set, so that
//! `cargo clippy -p inngest-macros --all-targets -- -D warnings` proves the generated code
//! clippy-clean (the trybuild pass cases are compiled by rustc alone).
#![deny(
    warnings,
    missing_docs,
    unused,
    nonstandard_style,
    rust_2018_idioms,
    future_incompatible
)]
#![deny(unreachable_pub, missing_debug_implementations, unused_qualifications)]
#![deny(clippy::all, clippy::pedantic)]

use inngest::__private::{Kind, Trigger};
use inngest::{Context, Error, Function, FunctionCancelled, FunctionFailed};
use serde::Deserialize;

/// The data of `user/signup`.
#[derive(Debug, Deserialize)]
struct Signup {
    user_id: String,
}

/// The line of the attribute below, where the definition says the function is declared.
const SEND_WELCOME_LINE: u32 = line!() + 3;

/// A function.
#[inngest::function(
    id = "send-welcome",
    event = "user/signup",
    retries = 3,
    name = "Welcome"
)]
async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
    let user_id = ctx.event.data.user_id;
    ctx.step.run("noop", || async { Ok(()) }).await?;
    Ok(user_id)
}

/// Its failure handler.
#[inngest::on_failure(send_welcome, retries = 2)]
async fn send_welcome_failed(ctx: Context<FunctionFailed<Signup>>) -> Result<String, Error> {
    let failed = ctx.event.data;
    ctx.step.run("noop", || async { Ok(()) }).await?;
    Ok(failed.event.data.user_id)
}

/// Its cancellation handler.
#[inngest::on_cancel(send_welcome)]
async fn send_welcome_cancelled(ctx: Context<FunctionCancelled<Signup>>) -> Result<String, Error> {
    let cancelled = ctx.event.data;
    ctx.step.run("noop", || async { Ok(()) }).await?;
    Ok(cancelled.event.data.user_id)
}

/// A function with every kind of option.
#[inngest::function(
    id = "with-options",
    event(name = "user/signup", if = "event.data.plan == 'pro'"),
    cron(schedule = "0 9 * * MON-FRI", jitter = "30s"),
    concurrency = 3,
    concurrency(limit = 1, key = "event.data.user_id", scope = "account"),
    throttle(limit = 10, period = "1m", burst = 2, key = "event.data.user_id"),
    rate_limit(limit = 100, period = "1h"),
    debounce(period = "10s", timeout = "1m"),
    cancel_on(
        event = "user/deleted",
        if = "event.data.user_id == async.data.user_id"
    ),
    priority(run = "event.data.priority"),
    timeouts(start = "1m", finish = "1h"),
    singleton(mode = "skip")
)]
async fn with_options(ctx: Context<Signup>) -> Result<String, Error> {
    ctx.step.run("noop", || async { Ok(()) }).await?;
    Ok(ctx.event.data.user_id)
}

/// A batched function.
#[inngest::function(
    id = "batched",
    event = "user/signup",
    batch_events(max_size = 10, timeout = "5s"),
    idempotency = "event.data.user_id"
)]
async fn batched(ctx: Context<Signup>) -> Result<usize, Error> {
    ctx.step.run("noop", || async { Ok(()) }).await?;
    Ok(ctx.events.len())
}

mod nested {
    use inngest::{Context, Error, FunctionFailed};

    /// A public function in a private module.
    #[inngest::function(id = "nested", event = "app/nested")]
    pub(super) async fn nested(ctx: Context) -> Result<serde_json::Value, Error> {
        ctx.step.run("noop", || async { Ok(()) }).await?;
        Ok(ctx.event.data)
    }

    /// Its failure handler, on raw JSON.
    #[inngest::on_failure(nested)]
    pub(super) async fn nested_failed(ctx: Context<FunctionFailed>) -> Result<(), Error> {
        ctx.step.run("noop", || async { Ok(()) }).await?;
        Ok(())
    }
}

#[test]
fn definitions_are_what_the_attributes_say() {
    let function = <send_welcome as Function>::DEFINITION;
    assert_eq!(function.id, "send-welcome");
    assert_eq!(function.name, Some("Welcome"));
    assert_eq!(function.retries, Some(3));
    assert_eq!(function.package, "inngest-macros");
    assert!(
        function.file.ends_with("strict_lints.rs"),
        "{}",
        function.file
    );
    assert_eq!(function.line, SEND_WELCOME_LINE);
    assert_eq!(function.rust_name, "strict_lints::send_welcome");

    let handler = <send_welcome_failed as Function>::DEFINITION;
    assert_eq!(handler.retries, Some(2));
    assert_eq!(handler.rust_name, "strict_lints::send_welcome_failed");
    assert!(
        matches!(handler.kind, Kind::FailureHandler { target } if std::ptr::eq(target, function))
    );

    let cancel = <send_welcome_cancelled as Function>::DEFINITION;
    assert_eq!(cancel.retries, Some(1));
    assert!(
        matches!(cancel.kind, Kind::CancelHandler { target } if std::ptr::eq(target, function))
    );

    let options = <with_options as Function>::DEFINITION;
    assert!(matches!(
        options.triggers,
        [
            Trigger::Event {
                name: "user/signup",
                expression: Some("event.data.plan == 'pro'")
            },
            Trigger::Cron {
                schedule: "0 9 * * MON-FRI",
                jitter: Some("30s")
            },
        ]
    ));
    assert_eq!(options.options.concurrency.len(), 2);
    assert_eq!(
        options.options.singleton.map(|s| s.mode.as_str()),
        Some("skip")
    );
    let batched = <batched as Function>::DEFINITION;
    assert_eq!(batched.options.batch_events.map(|b| b.max_size), Some(10));
    assert_eq!(batched.options.idempotency, Some("event.data.user_id"));

    let nested = <nested::nested_failed as Function>::DEFINITION;
    assert_eq!(nested.rust_name, "strict_lints::nested::nested_failed");
    assert!(matches!(nested.kind, Kind::FailureHandler { target } if target.id == "nested"));
}
