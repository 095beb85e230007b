// The generated code is clean under the strictest lint levels a user may set.
#![deny(warnings, missing_docs, unused, nonstandard_style, rust_2018_idioms, future_incompatible)]
#![deny(unreachable_pub, missing_debug_implementations, unused_qualifications)]
#![deny(clippy::all)]
//! A crate with every lint denied.

use inngest::{Context, Error, FunctionCancelled, FunctionFailed};
use serde::Deserialize;

/// The data of `user/signup`.
#[derive(Debug, Deserialize)]
pub struct Signup {
    /// Who signed up.
    pub user_id: String,
}

mod jobs {
    use super::{Context, Error, FunctionFailed, Signup};

    /// A function in a private module of a binary.
    #[inngest::function(id = "send-welcome", event = "user/signup", retries = 0)]
    pub(crate) async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
        Ok(ctx.event.data.user_id)
    }

    /// Its failure handler.
    #[inngest::on_failure(send_welcome, retries = 2)]
    pub(crate) async fn send_welcome_failed(
        ctx: Context<FunctionFailed<Signup>>,
    ) -> Result<String, Error> {
        Ok(ctx.event.data.event.data.user_id)
    }

    /// A deprecated function is still registered without a warning from the generated code.
    #[deprecated = "use send_welcome"]
    #[inngest::function(id = "old-welcome", event = "user/signup")]
    pub(crate) async fn old_welcome(mut ctx: Context) -> Result<(), Error> {
        ctx.attempt += 1;
        Ok(())
    }
}

/// A function with options and several triggers.
#[inngest::function(
    id = "with-options",
    event(name = "user/signup", if = "event.data.plan == 'pro'"),
    cron(schedule = "TZ=Europe/Paris 0 9 * * *", jitter = "1m"),
    concurrency(limit = 2, key = "event.data.user_id", scope = "env"),
    throttle(limit = 10, period = "1m"),
    debounce(period = "5m"),
    cancel_on(event = "user/deleted"),
    timeouts(finish = "1h"),
)]
async fn with_options(ctx: Context<Signup>) -> Result<String, Error> {
    Ok(ctx.event.data.user_id)
}

/// Its cancellation handler.
#[inngest::on_cancel(with_options)]
async fn with_options_cancelled(ctx: Context<FunctionCancelled<Signup>>) -> Result<String, Error> {
    Ok(ctx.event.data.run_id)
}

/// A function taking `Context` with its default type, raw JSON, never called by the crate.
#[inngest::function(id = "raw", event = "app/raw", name = "Raw")]
async fn raw(_ctx: Context) -> Result<serde_json::Value, Error> {
    Ok(serde_json::Value::Null)
}

/// A function whose body starts with an inner attribute: it stays on the fn's body (an unused
/// variable is allowed there, under `#![deny(warnings)]`).
#[inngest::function(id = "inner-attribute", event = "app/raw")]
async fn inner_attribute(ctx: Context) -> Result<u32, Error> {
    #![allow(unused_variables)]
    let unused = ctx.attempt;
    Ok(1)
}

fn main() {
    let _ = jobs::send_welcome;
}
