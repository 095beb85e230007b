//! The ends of a run: `cancel_on` and `timeouts`.

use inngest_protocol::limits;
use syn::{Expr, LitStr};

use crate::attr::Arg;
use crate::errors::Errors;
use crate::value::{self, Bounds};

use super::expression;
use super::fields::{Fields, ListKeys};

/// `cancel_on(event = "..", if = "..", timeout = "7d")`.
pub struct CancelOn {
    pub event: LitStr,
    pub if_expression: Option<LitStr>,
    pub timeout: Option<LitStr>,
}

/// `timeouts(start = "10m", finish = "1h")`.
pub struct Timeouts {
    pub start: Option<LitStr>,
    pub finish: Option<LitStr>,
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

static TIMEOUTS: ListKeys = ListKeys {
    context: "`timeouts(..)`",
    example: "timeouts(start = \"10m\", finish = \"1h\")",
    valid: &["start", "finish"],
    refused: &[],
    hints: &[],
};
