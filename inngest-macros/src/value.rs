//! The values of arguments, each read from the user's tokens and checked against what the
//! Inngest server accepts (`inngest_protocol::limits`). A wrong value is an error spanned on it;
//! a right one is kept with its span.

use std::time::Duration;

use inngest_protocol::{limits, timestr};
use syn::{Expr, ExprLit, Lit, LitStr, Path};

use crate::attr::{self, Arg};
use crate::errors::Errors;

/// The value of `key = value`; a list, `key(..)`, is an error on it.
pub fn single<'a>(arg: &'a Arg, example: &str, errors: &mut Errors) -> Option<&'a Expr> {
    match arg {
        Arg::KeyValue { value, .. } => Some(value),
        Arg::List(list) => {
            errors.spanned(
                list,
                format_args!("`{}` takes a value, such as `{example}`", list.key),
            );
            None
        }
        Arg::Positional(_) => None,
    }
}

/// A string literal, or an error on the value.
pub fn string(value: &Expr, key: &str, example: &str, errors: &mut Errors) -> Option<LitStr> {
    match attr::ungroup(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit.clone()),
        other => {
            errors.spanned(
                other,
                format_args!("`{key}` takes a string literal, such as `{key} = \"{example}\"`"),
            );
            None
        }
    }
}

/// Whether the string is not blank; an error on it if it is.
pub fn not_empty(lit: &LitStr, key: &str, errors: &mut Errors) -> bool {
    let empty = lit.value().trim().is_empty();
    if empty {
        errors.at(lit.span(), format_args!("`{key}` must not be empty"));
    }
    !empty
}

/// A string literal that is not blank: a name, or a CEL expression (passed to Inngest as
/// written; the server compiles it).
pub fn text(value: &Expr, key: &str, example: &str, errors: &mut Errors) -> Option<LitStr> {
    string(value, key, example, errors).filter(|lit| not_empty(lit, key, errors))
}

/// An id is a slug: what Inngest accepts in `<app-id>-<function-id>`.
pub fn id(value: &Expr, errors: &mut Errors) -> Option<LitStr> {
    let lit = text(value, "id", "send-welcome", errors)?;
    let mut bad: Vec<char> = lit
        .value()
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        .collect();
    bad.dedup();
    if bad.is_empty() {
        return Some(lit);
    }
    let found: Vec<String> = bad.iter().map(|c| format!("{c:?}")).collect();
    errors.at(
        lit.span(),
        format_args!(
            "`id` may contain only ASCII letters, digits, `-` and `_`; found {}",
            found.join(", ")
        ),
    );
    None
}

/// The name of an event a function listens to: not blank, at most 255 characters, and not
/// under Inngest's reserved `inngest/` prefix unless Inngest sends it.
pub fn event_name(value: &Expr, key: &str, errors: &mut Errors) -> Option<LitStr> {
    let lit = text(value, key, "user/signup", errors)?;
    let name = lit.value();
    if name.chars().count() > limits::MAX_TRIGGER_EVENT_NAME_LENGTH {
        errors.at(
            lit.span(),
            format_args!(
                "`{key}` must be at most {} characters long, Inngest's limit",
                limits::MAX_TRIGGER_EVENT_NAME_LENGTH
            ),
        );
        return None;
    }
    if limits::is_reserved_event_name(&name) {
        errors.at(
            lit.span(),
            format_args!(
                "`{name}` starts with `{}`, which Inngest reserves for the events it sends \
                 itself, and it sends no such event\nthe events Inngest sends are: {}",
                limits::INTERNAL_EVENT_PREFIX,
                limits::SYSTEM_EVENTS.join(", ")
            ),
        );
        return None;
    }
    Some(lit)
}

/// An integer literal in `min..=max` (`max`: `u32::MAX` when `None`), or an error on the
/// value.
pub fn integer(
    value: &Expr,
    key: &str,
    (min, max): (u32, Option<u32>),
    example: u32,
    errors: &mut Errors,
) -> Option<u32> {
    let range = match max {
        Some(max) => format!("from {min} to {max}"),
        None => format!("of at least {min}"),
    };
    let out_of_range = format!("`{key}` must be an integer {range}");
    let max = max.unwrap_or(u32::MAX);
    match attr::ungroup(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => match lit.base10_parse::<u64>() {
            Ok(n) if (u64::from(min)..=u64::from(max)).contains(&n) => u32::try_from(n).ok(),
            Ok(n) => {
                errors.at(lit.span(), format_args!("{out_of_range}, found {n}"));
                None
            }
            Err(_) => {
                errors.at(lit.span(), out_of_range);
                None
            }
        },
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => {
            errors.spanned(unary, out_of_range);
            None
        }
        other => {
            errors.spanned(
                other,
                format_args!(
                    "`{key}` takes an integer literal {range}, such as `{key} = {example}`"
                ),
            );
            None
        }
    }
}

/// `retries`: an integer literal from 0 to Inngest's maximum.
pub fn retries(value: &Expr, errors: &mut Errors) -> Option<u32> {
    integer(value, "retries", (0, Some(limits::MAX_RETRIES)), 3, errors)
}

/// The bounds of a duration; without a `min`, any duration longer than zero.
#[derive(Clone, Copy, Default)]
pub struct Bounds {
    /// The shortest accepted duration.
    pub min: Option<Duration>,
    /// The longest accepted duration.
    pub max: Option<Duration>,
    /// Where the longest comes from; the server's limit when `None`.
    pub max_is: Option<&'static str>,
}

/// A time string (`"30s"`, `"2h45m"`, `"1d"`) within `bounds`, as the server parses it, or an
/// error on the value. Zero is refused: no option takes a zero duration.
pub fn duration(
    value: &Expr,
    key: &str,
    example: &str,
    bounds: Bounds,
    errors: &mut Errors,
) -> Option<LitStr> {
    let lit = string(value, key, example, errors)?;
    let parsed = match timestr::parse(&lit.value()) {
        Ok(parsed) => parsed,
        Err(error) => {
            errors.at(
                lit.span(),
                format_args!(
                    "`{key}` takes a time string such as \"30s\", \"5m\", \"2h45m\" or \"1d\": {error}"
                ),
            );
            return None;
        }
    };
    let written = lit.value().trim().to_owned();
    if parsed.is_zero() && bounds.min.is_none() {
        errors.at(
            lit.span(),
            format_args!("`{key}` must be longer than zero, found `{written}`"),
        );
        return None;
    }
    let min = bounds.min.unwrap_or_default();
    if parsed < min {
        errors.at(
            lit.span(),
            format_args!(
                "`{key}` must be at least {}, found `{written}`",
                describe(min)
            ),
        );
        return None;
    }
    if let Some(max) = bounds.max.filter(|max| parsed > *max) {
        errors.at(
            lit.span(),
            format_args!(
                "`{key}` must be at most {}, {}, found `{written}`",
                describe(max),
                bounds.max_is.unwrap_or("Inngest's limit")
            ),
        );
        return None;
    }
    Some(LitStr::new(&written, lit.span()))
}

/// A duration as a person writes it: `"7d"`, `"24h"`, `"5m"`, `"1ns"`.
fn describe(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_nanos() == 0 && secs > 0 {
        if secs % 86_400 == 0 && secs != 86_400 {
            return format!("{}d", secs / 86_400);
        }
        if secs % 3600 == 0 {
            return format!("{}h", secs / 3600);
        }
    }
    timestr::format(d)
}

/// Whether `s` is an RFC 3339 time, `2024-10-12T07:20:50Z` or with an offset and fractional
/// seconds, as Go's `time.Parse(time.RFC3339, ..)` reads it.
pub fn rfc3339(s: &str) -> bool {
    let digits =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    let Some((date, time)) = s.split_once('T') else {
        return false;
    };
    let date: Vec<&str> = date.split('-').collect();
    let date_ok =
        matches!(date.as_slice(), [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2));
    let (clock, offset) = match time.find(['Z', '+', '-']) {
        Some(at) => time.split_at(at),
        None => return false,
    };
    let (clock, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
    let clock: Vec<&str> = clock.split(':').collect();
    let clock_ok = matches!(clock.as_slice(), [h, m, s] if digits(h, 2) && digits(m, 2) && digits(s, 2))
        && !fraction.is_empty()
        && fraction.bytes().all(|b| b.is_ascii_digit());
    let offset_ok = offset == "Z"
        || matches!(offset.split_at(1).1.split_once(':'), Some((h, m)) if digits(h, 2) && digits(m, 2));
    date_ok && clock_ok && offset_ok
}

/// One of `choices`, as its index, or an error on the value.
pub fn choice(value: &Expr, key: &str, choices: &[&str], errors: &mut Errors) -> Option<usize> {
    let quoted: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
    let expected = match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, others)) => format!("{} or {last}", others.join(", ")),
        None => String::new(),
    };
    let lit = match attr::ungroup(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => lit,
        other => {
            errors.spanned(
                other,
                format_args!("`{key}` takes a string literal: {expected}"),
            );
            return None;
        }
    };
    let found = lit.value();
    let index = choices.iter().position(|c| *c == found);
    if index.is_none() {
        errors.at(
            lit.span(),
            format_args!("`{key}` must be {expected}, found \"{found}\""),
        );
    }
    index
}

/// The error on a handler's target that is not the path of a function.
pub const TARGET_EXPECTED: &str = "expected the path of a function declared with \
     `#[inngest::function]`, such as `send_welcome` or `crate::jobs::send_welcome`";

/// The function a handler names: a plain path such as `send_welcome` or
/// `crate::jobs::send_welcome`.
pub fn target_path(expr: &Expr, errors: &mut Errors) -> Option<Path> {
    match attr::ungroup(expr) {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
            Some(path.path.clone())
        }
        other => {
            errors.spanned(other, TARGET_EXPECTED);
            None
        }
    }
}

/// `middleware = [Metrics, crate::auth::Auth]`: the paths of middleware types, each once;
/// each error on the token that is wrong.
pub fn middleware(value: &Expr, errors: &mut Errors) -> Vec<Path> {
    const EXAMPLE: &str = "`middleware = [Metrics, crate::auth::Auth]`";
    let Expr::Array(array) = attr::ungroup(value) else {
        errors.spanned(
            value,
            format_args!(
                "`middleware` takes a list of middleware types in brackets, such as {EXAMPLE}"
            ),
        );
        return Vec::new();
    };
    let mut paths: Vec<Path> = Vec::new();
    for element in &array.elems {
        match attr::ungroup(element) {
            Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
                let path = &path.path;
                let same = |other: &Path| {
                    quote::quote!(#other).to_string() == quote::quote!(#path).to_string()
                };
                if paths.iter().any(same) {
                    errors.spanned(
                        path,
                        format_args!(
                            "the middleware `{}` is listed twice",
                            quote::quote!(#path).to_string().replace(' ', "")
                        ),
                    );
                } else {
                    paths.push(path.clone());
                }
            }
            other => errors.spanned(
                other,
                format_args!(
                    "expected the path of a middleware type (implementing \
                     `inngest::middleware::Middleware` and `Default`), such as {EXAMPLE}"
                ),
            ),
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_are_recognized() {
        assert!(rfc3339("2024-10-12T07:20:50Z"));
        assert!(rfc3339("2024-10-12T07:20:50.52Z"));
        assert!(rfc3339("2024-10-12T07:20:50+02:00"));
        assert!(rfc3339("2024-10-12T07:20:50-05:30"));
        assert!(!rfc3339("2024-10-12 07:20:50Z"));
        assert!(!rfc3339("2024-10-12T07:20:50"));
        assert!(!rfc3339("2024-10-12T07:20Z"));
        assert!(!rfc3339("2024-10-12T07:20:50.Z"));
        assert!(!rfc3339("7d"));
    }

    #[test]
    fn limits_read_as_written() {
        assert_eq!(describe(limits::MAX_DEBOUNCE_PERIOD), "7d");
        assert_eq!(describe(limits::MAX_RATE_LIMIT_PERIOD), "24h");
        assert_eq!(describe(limits::MAX_SLEEP), "366d");
        assert_eq!(describe(limits::MAX_CRON_JITTER), "5m");
        assert_eq!(describe(limits::MIN_BATCH_TIMEOUT), "1s");
        assert_eq!(describe(Duration::from_nanos(1)), "1ns");
    }
}
