//! `checkpointing = true | false` or `checkpointing(buffered_steps = 5, max_interval = "1s",
//! max_runtime = "30s")`: whether the function's steps run one after another in one call
//! request (protocol-2.md section 1).

use std::time::Duration;

use inngest_protocol::timestr;
use syn::{Expr, ExprLit, Lit};

use super::fields::{Fields, ListKeys};
use crate::attr::{self, Arg};
use crate::errors::Errors;
use crate::value::{self, Bounds};

/// `checkpointing`: off, or on with its settings (each `None` for the SDK's default).
pub struct Checkpointing {
    /// `checkpointing = false`.
    pub enabled: bool,
    /// `buffered_steps = N`.
    pub buffered_steps: Option<u32>,
    /// `max_interval = ".."`, zero allowed (off).
    pub max_interval: Option<Duration>,
    /// `max_runtime = ".."`, zero allowed (no limit).
    pub max_runtime: Option<Duration>,
}

static CHECKPOINTING: ListKeys = ListKeys {
    context: "`checkpointing(..)`",
    example: "checkpointing(buffered_steps = 5, max_interval = \"1s\", max_runtime = \"30s\")",
    valid: &["buffered_steps", "max_interval", "max_runtime"],
    refused: &[],
    hints: &[],
};

/// `checkpointing = true | false`, or the list of its settings.
pub fn checkpointing(arg: &Arg, errors: &mut Errors) -> Option<Checkpointing> {
    if let Arg::KeyValue { value, .. } = arg {
        return match attr::ungroup(value) {
            Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            }) => Some(Checkpointing {
                enabled: b.value,
                buffered_steps: None,
                max_interval: None,
                max_runtime: None,
            }),
            other => {
                errors.spanned(
                    other,
                    format_args!(
                        "`checkpointing` takes `true`, `false` or a list of settings, such as `{}`",
                        CHECKPOINTING.example
                    ),
                );
                None
            }
        };
    }
    let fields = Fields::of(arg, &CHECKPOINTING, errors)?;
    let duration = |key: &'static str| {
        move |v: &Expr, e: &mut Errors| {
            let bounds = Bounds {
                min: Some(Duration::ZERO),
                ..Bounds::default()
            };
            let lit = value::duration(v, key, "10s", bounds, e)?;
            timestr::parse(&lit.value()).ok()
        }
    };
    let buffered_steps = fields.optional("buffered_steps", errors, |v, e| {
        value::integer(v, "buffered_steps", (1, Some(1000)), 5, e)
    });
    let max_interval = fields.optional("max_interval", errors, duration("max_interval"));
    let max_runtime = fields.optional("max_runtime", errors, duration("max_runtime"));
    Some(Checkpointing {
        enabled: true,
        buffered_steps: buffered_steps?,
        max_interval: max_interval?,
        max_runtime: max_runtime?,
    })
}
