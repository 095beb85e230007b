//! The triggers and options of `#[inngest::function]`: `event`, `cron`, `concurrency`,
//! `throttle`, `rate_limit`, `debounce`, `idempotency`, `batch_events`, `cancel_on`,
//! `priority`, `timeouts`, `singleton` and `checkpointing`, each parsed from its argument into a typed model and
//! checked against the server's rules (`inngest_protocol::limits`). The checks across options are
//! `check.rs`'s.
//!
//! One module a group: `triggers` (`event`, `cron`), `flow` (`concurrency`, `throttle`,
//! `rate_limit`, `priority`, `singleton`), `batching` (`debounce`, `batch_events`,
//! `idempotency`), `cancellation` (`cancel_on`, `timeouts`) and `checkpointing`, each reading its lists with
//! `fields`.

mod batching;
mod cancellation;
mod checkpointing;
mod fields;
mod flow;
mod triggers;

use syn::{Expr, LitStr};

use crate::errors::Errors;
use crate::value;

pub use batching::{batch_events, debounce, idempotency, BatchEvents, Debounce};
pub use cancellation::{cancel_on, timeouts, CancelOn, Timeouts};
pub use checkpointing::{checkpointing, Checkpointing};
pub use flow::{
    concurrency, priority, rate_limit, singleton, throttle, Concurrency, Priority, RateLimit,
    Scope, Singleton, SingletonMode, Throttle,
};
pub use triggers::{cron, event, Trigger};

/// The options of a function, each `None` or empty when not given.
#[derive(Default)]
pub struct Options {
    /// `concurrency = N` or `concurrency(..)`, at most twice.
    pub concurrency: Vec<Concurrency>,
    /// `throttle(..)`.
    pub throttle: Option<Throttle>,
    /// `rate_limit(..)`.
    pub rate_limit: Option<RateLimit>,
    /// `debounce(..)`.
    pub debounce: Option<Debounce>,
    /// `idempotency = ".."`.
    pub idempotency: Option<LitStr>,
    /// `batch_events(..)`.
    pub batch_events: Option<BatchEvents>,
    /// `cancel_on(..)`, repeatable.
    pub cancel_on: Vec<CancelOn>,
    /// `priority(run = "..")`.
    pub priority: Option<Priority>,
    /// `timeouts(..)`.
    pub timeouts: Option<Timeouts>,
    /// `singleton(..)`.
    pub singleton: Option<Singleton>,
    /// `checkpointing = false` or `checkpointing(..)`.
    pub checkpointing: Option<Checkpointing>,
}

/// A CEL expression key such as `key`, `if` or `run`: a non-blank string literal.
fn expression(value: &Expr, key: &str, errors: &mut Errors) -> Option<LitStr> {
    value::text(value, key, "event.data.user_id", errors)
}
