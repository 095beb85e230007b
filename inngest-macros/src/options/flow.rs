//! Flow control: `concurrency`, `throttle`, `rate_limit`, `priority` and `singleton`.

use inngest_protocol::limits;
use inngest_protocol::register::{ConcurrencyScope, SingletonMode as WireSingletonMode};
use syn::{Expr, LitStr};

use crate::attr::Arg;
use crate::errors::Errors;
use crate::value::{self, Bounds};

use super::expression;
use super::fields::{Fields, ListKeys};

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

/// `priority(run = "..")`.
pub struct Priority {
    pub run: LitStr,
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

/// `priority(run = "event.data.priority")`.
pub fn priority(arg: &Arg, errors: &mut Errors) -> Option<Priority> {
    let fields = Fields::of(arg, &PRIORITY, errors)?;
    let run = fields.required("run", errors, |v, e| expression(v, "run", e));
    Some(Priority { run: run? })
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

static SINGLETON: ListKeys = ListKeys {
    context: "`singleton(..)`",
    example: "singleton(key = \"event.data.user_id\", mode = \"skip\")",
    valid: &["key", "mode"],
    refused: &[],
    hints: &[("mode", "`mode = \"skip\"` or `mode = \"cancel\"`")],
};
