//! The options that gather events before a run: `debounce`, `batch_events` and
//! `idempotency`.

use inngest_protocol::limits;
use syn::LitStr;

use crate::attr::Arg;
use crate::errors::Errors;
use crate::value::{self, Bounds};

use super::expression;
use super::fields::{Fields, ListKeys};

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
