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

use inngest::{Context, Error, Function, FunctionFailed, Kind};
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

    let nested = <nested::nested_failed as Function>::DEFINITION;
    assert_eq!(nested.rust_name, "strict_lints::nested::nested_failed");
    assert!(matches!(nested.kind, Kind::FailureHandler { target } if target.id == "nested"));
}
