//! The triggers: `event` and `cron`.

use inngest_protocol::limits;
use syn::{Expr, LitStr};

use crate::attr::Arg;
use crate::cron;
use crate::errors::Errors;
use crate::value::{self, Bounds};

use super::expression;
use super::fields::{Fields, ListKeys};

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
