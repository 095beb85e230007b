//! Logs that are quiet on replay, for any `tracing` event.
//!
//! Every call request replays a function from the top: the code between its memoized steps
//! runs again, and so do its log lines. A ten-step function that logs once per step prints
//! 55 lines over its eleven calls. Add [`QuietReplay`] to your subscriber, in one line, and
//! every `tracing` event emitted while a function replays memoized steps is dropped, whoever
//! emits it (your code, or a library it calls); new work logs once, so that function prints
//! its 10 lines:
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! tracing_subscriber::registry()
//!     .with(tracing_subscriber::fmt::layer())
//!     .with(inngest::logs::QuietReplay) // the one line
//!     .init();
//! ```
//!
//! A function is replaying from the start of a call until it claims its last memoized step or
//! finds a new one (the point the middleware hook `on_memoization_end` marks). Events of the
//! SDK itself, and of tasks a function spawns, are not part of the replay. Logs through the
//! `log` crate are covered once bridged into `tracing` (`tracing_log::LogTracer`).
//!
//! Each call request is also a span, `inngest.call` (fields `function`, `run_id`, `attempt`,
//! `step_id`), and each step that runs a child span, `inngest.step` (`id`, `kind`,
//! `attempt`): a function's log lines appear inside them with any subscriber.

use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// A `tracing_subscriber` layer that drops every event emitted while an Inngest function
/// replays memoized steps (see the [module documentation](self)).
#[derive(Debug, Clone, Copy, Default)]
pub struct QuietReplay;

impl<S: Subscriber> Layer<S> for QuietReplay {
    fn event_enabled(&self, _event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
        !is_replaying()
    }
}

/// Whether the code running now is an Inngest function replaying memoized steps (for a
/// logger not built on `tracing`).
pub fn is_replaying() -> bool {
    crate::execution::replay::is_replaying()
}
