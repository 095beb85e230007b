//! The options of a function, as `#[inngest::function]` declares them: flow control
//! (concurrency, throttle, rate limit, debounce, idempotency, singleton, priority), batching,
//! cancellation and timeouts (protocol.md section 1.2).
//!
//! Every value is fixed at compile time and already checked by the attribute against the
//! server's rules (`inngest_protocol::limits`): a time string is kept as written, CEL
//! expressions are passed through. The registry turns them into the register payload's
//! `FunctionConfig`.

use std::time::Duration;

use inngest_protocol::register::{ConcurrencyScope, SingletonMode as WireSingletonMode};

/// A function's options; [`Options::NONE`] (the [`Default`]) sets none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// At most two concurrency limits (`concurrency`).
    pub concurrency: &'static [Concurrency],
    /// Runs started per period, the rest queued (`throttle`).
    pub throttle: Option<Throttle>,
    /// Runs started per period, the rest skipped (`rateLimit`).
    pub rate_limit: Option<RateLimit>,
    /// Runs delayed until events stop arriving (`debounce`).
    pub debounce: Option<Debounce>,
    /// A CEL expression: one run per value of it within 24 hours (`idempotency`).
    pub idempotency: Option<&'static str>,
    /// Events delivered in batches (`batchEvents`).
    pub batch_events: Option<BatchEvents>,
    /// Events that cancel a run (`cancel`).
    pub cancel_on: &'static [CancelOn],
    /// The priority of a run (`priority`).
    pub priority: Option<Priority>,
    /// How long a run may wait to start, and to finish (`timeouts`).
    pub timeouts: Option<Timeouts>,
    /// At most one run at a time, per key (`singleton`).
    pub singleton: Option<Singleton>,
    /// Whether and how its steps run one after another in one call (`checkpointing`); the
    /// app's setting when `None`.
    pub checkpointing: Option<Checkpointing>,
}

impl Options {
    /// No option set: what failure and cancellation handlers have.
    pub const NONE: Options = Options {
        concurrency: &[],
        throttle: None,
        rate_limit: None,
        debounce: None,
        idempotency: None,
        batch_events: None,
        cancel_on: &[],
        priority: None,
        timeouts: None,
        singleton: None,
        checkpointing: None,
    };
}

/// Checkpointing (on by default, as in the official TypeScript SDK): on a discovery call,
/// the SDK runs each new `step.run` in the same call request, saves its result with Inngest
/// (`POST <api>/v1/checkpoint/{runId}/async`) and goes on with the function, instead of
/// returning to Inngest after every step. A ten-step function takes one call request instead
/// of eleven. The SDK still returns to Inngest for what it cannot do itself (sleeps, waits,
/// invokes, parallel steps, a failed step, the end of the run) and once
/// [`max_runtime`](Checkpointing::max_runtime) has passed.
///
/// Set it for the whole app with [`App::checkpointing`](crate::App::checkpointing) and per
/// function in the attribute: `checkpointing = false`, or `checkpointing(buffered_steps = 5,
/// max_interval = "1s", max_runtime = "30s")`.
///
/// ```
/// use std::time::Duration;
/// use inngest::Checkpointing;
///
/// let app = inngest::App::new("my-app")
///     .checkpointing(Checkpointing::ON.buffered_steps(5).max_interval(Duration::from_secs(1)));
/// let off = inngest::App::new("classic").checkpointing(Checkpointing::OFF);
/// # let _ = (app, off);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpointing {
    enabled: bool,
    buffered_steps: u32,
    max_interval: Duration,
    max_runtime: Duration,
}

impl Checkpointing {
    /// Checkpointing on, with the official SDK's defaults: every step saved as soon as it
    /// ran (`buffered_steps` 1, no `max_interval`), and no new step run in the call after
    /// 10 s (`max_runtime`).
    pub const ON: Checkpointing = Checkpointing {
        enabled: true,
        buffered_steps: 1,
        max_interval: Duration::ZERO,
        max_runtime: Duration::from_secs(10),
    };

    /// Checkpointing off: one call request per step, as without it.
    pub const OFF: Checkpointing = Checkpointing {
        enabled: false,
        ..Checkpointing::ON
    };

    /// Saves steps once this many have run (`bufferedSteps`); 0 or 1 saves each step as it
    /// runs. Buffered steps are always saved before the SDK returns to Inngest.
    pub const fn buffered_steps(mut self, steps: u32) -> Checkpointing {
        self.buffered_steps = steps;
        self
    }

    /// Saves the buffered steps at least this often (`maxInterval`); zero (the default)
    /// waits for [`buffered_steps`](Checkpointing::buffered_steps).
    pub const fn max_interval(mut self, interval: Duration) -> Checkpointing {
        self.max_interval = interval;
        self
    }

    /// Runs no new step in the call once it has lasted this long (`maxRuntime`): the step is
    /// returned to Inngest, which calls again. 10 s by default; zero means no limit.
    pub const fn max_runtime(mut self, runtime: Duration) -> Checkpointing {
        self.max_runtime = runtime;
        self
    }

    /// Whether checkpointing is on.
    pub const fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// How many steps are buffered before they are saved (at least 1).
    pub const fn steps_per_checkpoint(&self) -> u32 {
        if self.buffered_steps == 0 {
            1
        } else {
            self.buffered_steps
        }
    }

    /// The longest buffered steps wait to be saved; `None` when only the count matters.
    pub fn interval(&self) -> Option<Duration> {
        (!self.max_interval.is_zero()).then_some(self.max_interval)
    }

    /// How long a call runs new steps; `None` for no limit.
    pub fn runtime(&self) -> Option<Duration> {
        (!self.max_runtime.is_zero()).then_some(self.max_runtime)
    }
}

impl Default for Checkpointing {
    fn default() -> Checkpointing {
        Checkpointing::ON
    }
}

impl Default for Options {
    fn default() -> Options {
        Options::NONE
    }
}

/// A concurrency limit: at most `limit` steps running at once, in the `scope`, per value of
/// `key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concurrency {
    /// The most steps running at once (at least 1).
    pub limit: u32,
    /// A CEL expression: each value has its own limit.
    pub key: Option<&'static str>,
    /// What the limit is shared by; the function when `None`.
    pub scope: Option<Scope>,
}

/// What a concurrency limit is shared by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The runs of this function (`"fn"`).
    Fn,
    /// Every function of the environment using the same key (`"env"`).
    Env,
    /// Every function of the account using the same key (`"account"`).
    Account,
}

impl Scope {
    /// The scope as the register payload spells it.
    pub const fn as_str(self) -> &'static str {
        self.to_wire().as_str()
    }

    const fn to_wire(self) -> ConcurrencyScope {
        match self {
            Scope::Fn => ConcurrencyScope::Fn,
            Scope::Env => ConcurrencyScope::Env,
            Scope::Account => ConcurrencyScope::Account,
        }
    }
}

impl From<Scope> for ConcurrencyScope {
    fn from(scope: Scope) -> ConcurrencyScope {
        scope.to_wire()
    }
}

/// A throttle: at most `limit` runs start per `period`; the others wait their turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Runs started per period (at least 1).
    pub limit: u32,
    /// The period, a time string of at least one second.
    pub period: &'static str,
    /// Runs that may start at once within a period.
    pub burst: Option<u32>,
    /// A CEL expression: each value has its own throttle.
    pub key: Option<&'static str>,
}

/// A rate limit: at most `limit` runs start per `period`; the others are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Runs started per period (at least 1).
    pub limit: u32,
    /// The period, a time string of at most 24 hours.
    pub period: &'static str,
    /// A CEL expression: each value has its own limit.
    pub key: Option<&'static str>,
}

/// A debounce: a run starts once no event arrived for `period`, with the last event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Debounce {
    /// The quiet period, a time string from 1 second to 7 days.
    pub period: &'static str,
    /// A CEL expression: each value is debounced on its own.
    pub key: Option<&'static str>,
    /// The longest a run is delayed by events that keep arriving, a time string.
    pub timeout: Option<&'static str>,
}

/// Batching: the function receives up to `max_size` events at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchEvents {
    /// The largest batch, from 2 to 100.
    pub max_size: u32,
    /// How long a batch waits to fill, a time string of at least one second.
    pub timeout: &'static str,
    /// A CEL expression: events with the same value are batched together.
    pub key: Option<&'static str>,
    /// A CEL expression: events for which it is false run alone, unbatched.
    pub if_expression: Option<&'static str>,
}

/// An event that cancels a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelOn {
    /// The event's name.
    pub event: &'static str,
    /// A CEL expression over `event` (the run's trigger) and `async` (the cancelling event).
    pub if_expression: Option<&'static str>,
    /// How long the run listens for it, a time string or an RFC 3339 time; 1 year when `None`.
    pub timeout: Option<&'static str>,
}

/// A run's priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    /// A CEL expression giving the seconds (from -600 to 600) a run is moved ahead in the queue.
    pub run: &'static str,
}

/// Timeouts that cancel a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The longest a run may wait in the queue before it starts, a time string.
    pub start: Option<&'static str>,
    /// The longest a run may take once started, a time string.
    pub finish: Option<&'static str>,
}

/// At most one run at a time, per value of `key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Singleton {
    /// A CEL expression: each value has its own singleton.
    pub key: Option<&'static str>,
    /// What a new run does when one is already running.
    pub mode: SingletonMode,
}

/// What a singleton does with a new run while one is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingletonMode {
    /// The new run is skipped (`"skip"`).
    Skip,
    /// The running run is cancelled and the new one starts (`"cancel"`).
    Cancel,
}

impl SingletonMode {
    /// The mode as the register payload spells it.
    pub const fn as_str(self) -> &'static str {
        self.to_wire().as_str()
    }

    const fn to_wire(self) -> WireSingletonMode {
        match self {
            SingletonMode::Skip => WireSingletonMode::Skip,
            SingletonMode::Cancel => WireSingletonMode::Cancel,
        }
    }
}

impl From<SingletonMode> for WireSingletonMode {
    fn from(mode: SingletonMode) -> WireSingletonMode {
        mode.to_wire()
    }
}
