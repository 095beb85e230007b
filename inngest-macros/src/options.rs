//! The triggers and options of `#[inngest::function]`: `event`, `cron`, `concurrency`,
//! `throttle`, `rate_limit`, `debounce`, `idempotency`, `batch_events`, `cancel_on`,
//! `priority`, `timeouts` and `singleton`, each parsed from its argument into a typed model and
//! checked against the server's rules (`inngest_protocol::limits`). The checks across options are
//! `check.rs`'s.

use inngest_protocol::limits;
use inngest_protocol::register::{ConcurrencyScope, SingletonMode as WireSingletonMode};
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::{Expr, LitStr};

use crate::attr::{Arg, List};
use crate::cron;
use crate::errors::Errors;
use crate::keys::Keys;
use crate::value::{self, Bounds};

/// A trigger of a function.
pub enum Trigger {
    /// `event = "name"` or `event(name = "..", if = "..")`.
    Event {
        /// The event name.
        name: LitStr,
        /// The CEL expression the event must match.
        expression: Option<LitStr>,
    },
    /// `cron = "schedule"` or `cron(schedule = "..", jitter = "..")`.
    Cron {
        /// The schedule, checked and trimmed.
        schedule: LitStr,
        /// The jitter, a time string.
        jitter: Option<LitStr>,
    },
}

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
}

/// `concurrency(limit = 5, key = "..", scope = "env")`.
pub struct Concurrency {
    pub limit: u32,
    pub key: Option<LitStr>,
    pub scope: Option<Scope>,
}

/// What a concurrency limit is shared by.
#[derive(Clone, Copy)]
pub enum Scope {
    Fn,
    Env,
    Account,
}

impl Scope {
    const ALL: [Scope; 3] = [Scope::Fn, Scope::Env, Scope::Account];

    /// The scope as the register payload spells it.
    fn name(self) -> &'static str {
        match self {
            Scope::Fn => ConcurrencyScope::Fn,
            Scope::Env => ConcurrencyScope::Env,
            Scope::Account => ConcurrencyScope::Account,
        }
        .as_str()
    }
}

/// `throttle(limit = 10, period = "1m", burst = 2, key = "..")`.
pub struct Throttle {
    pub limit: u32,
    pub period: LitStr,
    pub burst: Option<u32>,
    pub key: Option<LitStr>,
}

/// `rate_limit(limit = 1, period = "4h", key = "..")`.
pub struct RateLimit {
    pub limit: u32,
    pub period: LitStr,
    pub key: Option<LitStr>,
}

/// `debounce(period = "5m", key = "..", timeout = "1h")`.
pub struct Debounce {
    pub period: LitStr,
    pub key: Option<LitStr>,
    pub timeout: Option<LitStr>,
}

/// `batch_events(max_size = 100, timeout = "5s", key = "..", if = "..")`.
pub struct BatchEvents {
    pub max_size: u32,
    pub timeout: LitStr,
    pub key: Option<LitStr>,
    pub if_expression: Option<LitStr>,
}

/// `cancel_on(event = "..", if = "..", timeout = "7d")`.
pub struct CancelOn {
    pub event: LitStr,
    pub if_expression: Option<LitStr>,
    pub timeout: Option<LitStr>,
}

/// `priority(run = "..")`.
pub struct Priority {
    pub run: LitStr,
}

/// `timeouts(start = "10m", finish = "1h")`.
pub struct Timeouts {
    pub start: Option<LitStr>,
    pub finish: Option<LitStr>,
}

/// `singleton(key = "..", mode = "skip")`.
pub struct Singleton {
    pub key: Option<LitStr>,
    pub mode: SingletonMode,
}

/// What a singleton does with a new run while one is running.
#[derive(Clone, Copy)]
pub enum SingletonMode {
    Skip,
    Cancel,
}

impl SingletonMode {
    const ALL: [SingletonMode; 2] = [SingletonMode::Skip, SingletonMode::Cancel];

    /// The mode as the register payload spells it.
    fn name(self) -> &'static str {
        match self {
            SingletonMode::Skip => WireSingletonMode::Skip,
            SingletonMode::Cancel => WireSingletonMode::Cancel,
        }
        .as_str()
    }
}

/// A CEL expression key such as `key`, `if` or `run`: a non-blank string literal.
fn expression(value: &Expr, key: &str, errors: &mut Errors) -> Option<LitStr> {
    value::text(value, key, "event.data.user_id", errors)
}

/// `event = "user/signup"` or `event(name = "user/signup", if = "event.data.plan == 'pro'")`.
pub fn event(arg: &Arg, errors: &mut Errors) -> Option<Trigger> {
    if let Arg::KeyValue { value, .. } = arg {
        let name = value::event_name(value, "event", errors)?;
        return Some(Trigger::Event {
            name,
            expression: None,
        });
    }
    let fields = Fields::of(arg, &EVENT, errors)?;
    let name = fields.required("name", errors, |v, e| value::event_name(v, "name", e));
    let expression = fields.optional("if", errors, |v, e| expression(v, "if", e));
    Some(Trigger::Event {
        name: name?,
        expression: expression?,
    })
}

/// `cron = "0 9 * * *"` or `cron(schedule = "0 9 * * *", jitter = "5m")`.
pub fn cron(arg: &Arg, errors: &mut Errors) -> Option<Trigger> {
    if let Arg::KeyValue { value, .. } = arg {
        let schedule = schedule(value, "cron", errors)?;
        return Some(Trigger::Cron {
            schedule,
            jitter: None,
        });
    }
    let fields = Fields::of(arg, &CRON, errors)?;
    let schedule = fields.required("schedule", errors, |v, e| schedule(v, "schedule", e));
    let jitter = fields.optional("jitter", errors, |v, e| {
        value::duration(
            v,
            "jitter",
            "5m",
            Bounds {
                min: Some(limits::MIN_CRON_JITTER),
                max: Some(limits::MAX_CRON_JITTER),
                max_is: None,
            },
            e,
        )
    });
    Some(Trigger::Cron {
        schedule: schedule?,
        jitter: jitter?,
    })
}

fn schedule(value: &Expr, key: &str, errors: &mut Errors) -> Option<LitStr> {
    let lit = value::string(value, key, "0 9 * * *", errors)?;
    match cron::check(&lit.value()) {
        Ok(()) => Some(LitStr::new(lit.value().trim(), lit.span())),
        Err(why) => {
            errors.at(lit.span(), why);
            None
        }
    }
}

/// `concurrency = 10` or `concurrency(limit = 5, key = "..", scope = "fn"|"env"|"account")`.
pub fn concurrency(arg: &Arg, errors: &mut Errors) -> Option<Concurrency> {
    let limit = |v: &Expr, e: &mut Errors| value::integer(v, "limit", (1, None), 10, e);
    if let Arg::KeyValue { value, .. } = arg {
        let limit = value::integer(value, "concurrency", (1, None), 10, errors)?;
        return Some(Concurrency {
            limit,
            key: None,
            scope: None,
        });
    }
    let fields = Fields::of(arg, &CONCURRENCY, errors)?;
    let limit = fields.required("limit", errors, limit);
    let key = fields.optional("key", errors, |v, e| expression(v, "key", e));
    let scope = fields.optional("scope", errors, |v, e| {
        let scope = value::choice(v, "scope", &Scope::ALL.map(Scope::name), e)?;
        Some(Scope::ALL[scope])
    });
    let (limit, key, scope) = (limit?, key?, scope?);
    if let (Some(Scope::Env | Scope::Account), None) = (scope, &key) {
        // A key is required when the limit is shared beyond the function
        // (`StepConcurrency.Validate`).
        if let Some(value) = fields.value("scope") {
            errors.spanned(
                value,
                "a concurrency limit shared by the environment or the account needs a `key`: \
                 the functions that use the same key share the limit, \
                 such as `key = \"event.data.user_id\"`",
            );
        }
        return None;
    }
    Some(Concurrency { limit, key, scope })
}

/// `throttle(limit = 10, period = "1m", burst = 2, key = "..")`.
pub fn throttle(arg: &Arg, errors: &mut Errors) -> Option<Throttle> {
    let fields = Fields::of(arg, &THROTTLE, errors)?;
    let limit = fields.required("limit", errors, |v, e| {
        value::integer(v, "limit", (1, None), 10, e)
    });
    let period = fields.required("period", errors, |v, e| {
        let bounds = Bounds {
            min: Some(limits::MIN_THROTTLE_PERIOD),
            max: None,
            max_is: None,
        };
        value::duration(v, "period", "1m", bounds, e)
    });
    let burst = fields.optional("burst", errors, |v, e| {
        value::integer(v, "burst", (1, None), 2, e)
    });
    let key = fields.optional("key", errors, |v, e| expression(v, "key", e));
    Some(Throttle {
        limit: limit?,
        period: period?,
        burst: burst?,
        key: key?,
    })
}

/// `rate_limit(limit = 1, period = "4h", key = "..")`.
pub fn rate_limit(arg: &Arg, errors: &mut Errors) -> Option<RateLimit> {
    let fields = Fields::of(arg, &RATE_LIMIT, errors)?;
    let limit = fields.required("limit", errors, |v, e| {
        value::integer(v, "limit", (1, None), 1, e)
    });
    let period = fields.required("period", errors, |v, e| {
        let bounds = Bounds {
            min: None,
            max: Some(limits::MAX_RATE_LIMIT_PERIOD),
            max_is: None,
        };
        value::duration(v, "period", "4h", bounds, e)
    });
    let key = fields.optional("key", errors, |v, e| expression(v, "key", e));
    Some(RateLimit {
        limit: limit?,
        period: period?,
        key: key?,
    })
}

/// `debounce(period = "5m", key = "..", timeout = "1h")`.
pub fn debounce(arg: &Arg, errors: &mut Errors) -> Option<Debounce> {
    let fields = Fields::of(arg, &DEBOUNCE, errors)?;
    let period = fields.required("period", errors, |v, e| {
        let bounds = Bounds {
            min: Some(limits::MIN_DEBOUNCE_PERIOD),
            max: Some(limits::MAX_DEBOUNCE_PERIOD),
            max_is: None,
        };
        value::duration(v, "period", "5m", bounds, e)
    });
    let key = fields.optional("key", errors, |v, e| expression(v, "key", e));
    let timeout = fields.optional("timeout", errors, |v, e| {
        value::duration(v, "timeout", "1h", Bounds::default(), e)
    });
    Some(Debounce {
        period: period?,
        key: key?,
        timeout: timeout?,
    })
}

/// `idempotency = "event.data.order_id"`.
pub fn idempotency(arg: &Arg, errors: &mut Errors) -> Option<LitStr> {
    let value = value::single(arg, "idempotency = \"event.data.order_id\"", errors)?;
    value::text(value, "idempotency", "event.data.order_id", errors)
}

/// `batch_events(max_size = 100, timeout = "5s", key = "..", if = "..")`.
pub fn batch_events(arg: &Arg, errors: &mut Errors) -> Option<BatchEvents> {
    let fields = Fields::of(arg, &BATCH_EVENTS, errors)?;
    let max_size = fields.required("max_size", errors, |v, e| {
        let range = (limits::MIN_BATCH_SIZE, Some(limits::MAX_BATCH_SIZE));
        value::integer(v, "max_size", range, 100, e)
    });
    let timeout = fields.required("timeout", errors, |v, e| {
        let bounds = Bounds {
            min: Some(limits::MIN_BATCH_TIMEOUT),
            max: None,
            max_is: None,
        };
        let lit = value::duration(v, "timeout", "5s", bounds, e)?;
        // The server reads this one with Go's `time.ParseDuration` (`EventBatchConfig.IsValid`),
        // which has no day or week unit.
        if lit.value().contains(['d', 'w']) {
            e.at(
                lit.span(),
                "a batch `timeout` cannot use days or weeks: Inngest reads it with Go's \
                 `time.ParseDuration`; write it in hours, minutes or seconds, such as \"24h\"",
            );
            return None;
        }
        Some(lit)
    });
    let key = fields.optional("key", errors, |v, e| expression(v, "key", e));
    let if_expression = fields.optional("if", errors, |v, e| expression(v, "if", e));
    Some(BatchEvents {
        max_size: max_size?,
        timeout: timeout?,
        key: key?,
        if_expression: if_expression?,
    })
}

/// `cancel_on(event = "user/deleted", if = "..", timeout = "7d")`.
pub fn cancel_on(arg: &Arg, errors: &mut Errors) -> Option<CancelOn> {
    let fields = Fields::of(arg, &CANCEL_ON, errors)?;
    let event = fields.required("event", errors, |v, e| value::event_name(v, "event", e));
    let if_expression = fields.optional("if", errors, |v, e| expression(v, "if", e));
    let timeout = fields.optional("timeout", errors, cancel_timeout);
    Some(CancelOn {
        event: event?,
        if_expression: if_expression?,
        timeout: timeout?,
    })
}

/// A cancellation's timeout: a time string of at most a year, or an RFC 3339 time
/// (`pkg/util/strtimeout`); a timeout the server cannot parse fails every run at its start.
fn cancel_timeout(value: &Expr, errors: &mut Errors) -> Option<LitStr> {
    if let Some(lit) = value::string(value, "timeout", "7d", &mut Errors::default()) {
        if value::rfc3339(&lit.value()) {
            return Some(lit);
        }
    }
    let bounds = Bounds {
        min: None,
        max: Some(limits::CANCEL_TIMEOUT),
        max_is: Some("Inngest's default cancellation timeout"),
    };
    value::duration(value, "timeout", "7d", bounds, errors)
}

/// `priority(run = "event.data.priority")`.
pub fn priority(arg: &Arg, errors: &mut Errors) -> Option<Priority> {
    let fields = Fields::of(arg, &PRIORITY, errors)?;
    let run = fields.required("run", errors, |v, e| expression(v, "run", e));
    Some(Priority { run: run? })
}

/// `timeouts(start = "10m", finish = "1h")`, at least one of them.
pub fn timeouts(arg: &Arg, errors: &mut Errors) -> Option<Timeouts> {
    let fields = Fields::of(arg, &TIMEOUTS, errors)?;
    let timeout = |key: &'static str| {
        move |v: &Expr, e: &mut Errors| value::duration(v, key, "10m", Bounds::default(), e)
    };
    let start = fields.optional("start", errors, timeout("start"));
    let finish = fields.optional("finish", errors, timeout("finish"));
    if fields.is_empty() {
        errors.spanned(
            &fields.tokens,
            "`timeouts(..)` needs `start = \"...\"` (the longest a run waits to start), \
             `finish = \"...\"` (the longest it runs), or both",
        );
        return None;
    }
    Some(Timeouts {
        start: start?,
        finish: finish?,
    })
}

/// `singleton(key = "..", mode = "skip"|"cancel")`.
pub fn singleton(arg: &Arg, errors: &mut Errors) -> Option<Singleton> {
    let fields = Fields::of(arg, &SINGLETON, errors)?;
    let key = fields.optional("key", errors, |v, e| expression(v, "key", e));
    let mode = fields.required("mode", errors, |v, e| {
        let mode = value::choice(v, "mode", &SingletonMode::ALL.map(SingletonMode::name), e)?;
        Some(SingletonMode::ALL[mode])
    });
    Some(Singleton {
        key: key?,
        mode: mode?,
    })
}

/// The keys of one list, such as `throttle(..)`.
struct ListKeys {
    /// The list as written in messages: "`throttle(..)`".
    context: &'static str,
    /// What the list looks like, for messages.
    example: &'static str,
    valid: &'static [&'static str],
    /// Keys refused with a reason rather than as unknown.
    refused: &'static [(&'static str, &'static str)],
    /// Each required key with a hint of its value.
    hints: &'static [(&'static str, &'static str)],
}

static EVENT: ListKeys = ListKeys {
    context: "`event(..)`",
    example: "event(name = \"user/signup\", if = \"event.data.plan == 'pro'\")",
    valid: &["name", "if"],
    refused: &[],
    hints: &[("name", "the event name, such as `name = \"user/signup\"`")],
};

static CRON: ListKeys = ListKeys {
    context: "`cron(..)`",
    example: "cron(schedule = \"0 9 * * *\", jitter = \"5m\")",
    valid: &["schedule", "jitter"],
    refused: &[(
        "if",
        "a cron trigger cannot have an `if` expression: Inngest refuses a trigger with both \
         a cron schedule and an expression; check the condition in the function instead",
    )],
    hints: &[(
        "schedule",
        "five fields, such as `schedule = \"0 9 * * *\"`",
    )],
};

static CONCURRENCY: ListKeys = ListKeys {
    context: "`concurrency(..)`",
    example: "concurrency(limit = 5, key = \"event.data.user_id\")",
    valid: &["limit", "key", "scope"],
    refused: &[],
    hints: &[(
        "limit",
        "the most steps running at once, such as `limit = 5`",
    )],
};

static THROTTLE: ListKeys = ListKeys {
    context: "`throttle(..)`",
    example: "throttle(limit = 10, period = \"1m\")",
    valid: &["limit", "period", "burst", "key"],
    refused: &[],
    hints: &[
        ("limit", "the runs started per period, such as `limit = 10`"),
        ("period", "a time string, such as `period = \"1m\"`"),
    ],
};

static RATE_LIMIT: ListKeys = ListKeys {
    context: "`rate_limit(..)`",
    example: "rate_limit(limit = 1, period = \"4h\")",
    valid: &["limit", "period", "key"],
    refused: &[],
    hints: &[
        ("limit", "the runs started per period, such as `limit = 1`"),
        (
            "period",
            "a time string of at most 24h, such as `period = \"4h\"`",
        ),
    ],
};

static DEBOUNCE: ListKeys = ListKeys {
    context: "`debounce(..)`",
    example: "debounce(period = \"5m\")",
    valid: &["period", "key", "timeout"],
    refused: &[],
    hints: &[(
        "period",
        "a time string from 1s to 7d, such as `period = \"5m\"`",
    )],
};

static BATCH_EVENTS: ListKeys = ListKeys {
    context: "`batch_events(..)`",
    example: "batch_events(max_size = 100, timeout = \"5s\")",
    valid: &["max_size", "timeout", "key", "if"],
    refused: &[],
    hints: &[
        (
            "max_size",
            "the largest batch, from 2 to 100, such as `max_size = 100`",
        ),
        (
            "timeout",
            "how long a batch waits to fill, such as `timeout = \"5s\"`",
        ),
    ],
};

static CANCEL_ON: ListKeys = ListKeys {
    context: "`cancel_on(..)`",
    example: "cancel_on(event = \"user/deleted\", if = \"event.data.id == async.data.id\")",
    valid: &["event", "if", "timeout"],
    refused: &[],
    hints: &[(
        "event",
        "the cancelling event, such as `event = \"user/deleted\"`",
    )],
};

static PRIORITY: ListKeys = ListKeys {
    context: "`priority(..)`",
    example: "priority(run = \"event.data.priority\")",
    valid: &["run"],
    refused: &[],
    hints: &[(
        "run",
        "an expression giving the seconds a run moves ahead, such as \
         `run = \"event.data.priority\"`",
    )],
};

static TIMEOUTS: ListKeys = ListKeys {
    context: "`timeouts(..)`",
    example: "timeouts(start = \"10m\", finish = \"1h\")",
    valid: &["start", "finish"],
    refused: &[],
    hints: &[],
};

static SINGLETON: ListKeys = ListKeys {
    context: "`singleton(..)`",
    example: "singleton(key = \"event.data.user_id\", mode = \"skip\")",
    valid: &["key", "mode"],
    refused: &[],
    hints: &[("mode", "`mode = \"skip\"` or `mode = \"cancel\"`")],
};

/// The `key = value` arguments of a list, each key given once.
struct Fields {
    which: &'static ListKeys,
    /// The list as written, to span what is missing from it.
    tokens: TokenStream,
    values: Vec<(&'static str, Expr)>,
    /// `false` when an argument was malformed: a key may then be missing only because of it.
    complete: bool,
}

impl Fields {
    /// The arguments of `arg`, which must be a list; an error on it otherwise.
    fn of(arg: &Arg, which: &'static ListKeys, errors: &mut Errors) -> Option<Fields> {
        let list: &List = match arg {
            Arg::List(list) => list,
            Arg::KeyValue { key, value } => {
                errors.spanned(
                    quote!(#key #value),
                    format_args!(
                        "`{key}` takes a list of arguments, such as `{}`",
                        which.example
                    ),
                );
                return None;
            }
            Arg::Positional(_) => return None,
        };
        let (args, mut complete) = list.args(errors);
        let mut keys = Keys::new(which.context, which.valid, &[]);
        let mut values = Vec::new();
        for arg in args {
            match arg {
                Arg::KeyValue { key, value } => {
                    let name = key.unraw().to_string();
                    if let Some((_, why)) = which.refused.iter().find(|(k, _)| *k == name) {
                        errors.at(key.span(), why);
                        complete = false;
                    } else if let Some(name) = keys.accept(&key, errors) {
                        values.push((name, value));
                    } else {
                        complete = false;
                    }
                }
                Arg::List(inner) => {
                    errors.spanned(
                        &inner,
                        format_args!(
                            "`{}` takes a value, not a list: write `{} = ...`",
                            inner.key, inner.key
                        ),
                    );
                    complete = false;
                }
                Arg::Positional(positional) => {
                    errors.spanned(
                        positional,
                        format_args!(
                            "expected `key = value` in {}, such as `{}`; the keys are: {}",
                            which.context,
                            which.example,
                            keys.list()
                        ),
                    );
                    complete = false;
                }
            }
        }
        Some(Fields {
            which,
            tokens: list.to_token_stream(),
            values,
            complete,
        })
    }

    /// The value given for `key`.
    fn value(&self, key: &str) -> Option<&Expr> {
        self.values
            .iter()
            .find(|(given, _)| *given == key)
            .map(|(_, value)| value)
    }

    /// Whether no argument was given.
    fn is_empty(&self) -> bool {
        self.values.is_empty() && self.complete
    }

    /// `Some(Some(value))` when `key` is given and valid, `Some(None)` when it is not given,
    /// `None` when it is invalid (its error recorded).
    fn optional<T>(
        &self,
        key: &str,
        errors: &mut Errors,
        read: impl FnOnce(&Expr, &mut Errors) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.value(key) {
            Some(value) => read(value, errors).map(Some),
            None => Some(None),
        }
    }

    /// The valid value of `key`; when it is missing, an error on the list.
    fn required<T>(
        &self,
        key: &str,
        errors: &mut Errors,
        read: impl FnOnce(&Expr, &mut Errors) -> Option<T>,
    ) -> Option<T> {
        if let Some(value) = self.value(key) {
            return read(value, errors);
        }
        if self.complete {
            let hint = self
                .which
                .hints
                .iter()
                .find(|(k, _)| *k == key)
                .map_or("", |(_, hint)| *hint);
            errors.spanned(
                &self.tokens,
                format_args!("missing `{key} = ...` in {}: {hint}", self.which.context),
            );
        }
        None
    }
}
