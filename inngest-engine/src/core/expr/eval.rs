//! Evaluation of a parsed expression in the server's dialect (`pkg/expressions`,
//! `unknown.go`, `exprenv/overloads.go`): a missing field is `null`; operators take mixed
//! types (`+` concatenates them as text when they do not add; `null` compares as the other
//! side's zero); `&&`, `||` and `?:` take any value by its truthiness; a call on a missing
//! field has a fixed answer instead of an error.

use std::borrow::Cow;
use std::cmp::Ordering;

use cel::common::ast::operators as op;
use cel::common::ast::{Expr, IdedExpr, LiteralValue};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::value::{compare, equals, zero, Kind, Val};

/// What an expression sees: `event`, `async`, the time, and comprehension variables.
pub(crate) struct Env<'a> {
    pub event: &'a Value,
    pub incoming: Option<&'a Value>,
    pub now: DateTime<Utc>,
    pub scope: Vec<(String, Val<'a>)>,
}

fn err<'a>(message: impl Into<String>) -> Val<'a> {
    Val::Error(message.into())
}

impl<'a> Env<'a> {
    /// Evaluates an expression.
    pub(crate) fn eval(&mut self, e: &IdedExpr) -> Val<'a> {
        match &e.expr {
            Expr::Literal(l) => literal(l),
            Expr::Ident(name) => self.ident(name),
            Expr::Select(s) => {
                let operand = self.eval(&s.operand);
                let key = Val::Str(Cow::Owned(s.field.clone()));
                match (operand.get(&key), s.test) {
                    (Some(v), true) => Val::Bool(!matches!(v, Val::Unknown)),
                    (Some(v), false) => v,
                    (None, true) => Val::Bool(false),
                    (None, false) => match operand {
                        Val::Error(e) => Val::Error(e),
                        _ => Val::Unknown,
                    },
                }
            }
            Expr::List(l) => Val::List(l.elements.iter().map(|x| self.eval(x)).collect()),
            Expr::Map(m) => {
                let mut entries = Vec::new();
                for entry in &m.entries {
                    if let cel::common::ast::EntryExpr::MapEntry(me) = &entry.expr {
                        let k = self.eval(&me.key);
                        let v = self.eval(&me.value);
                        entries.push((k, v));
                    }
                }
                Val::Map(entries)
            }
            Expr::Call(call) => self.call(&call.func_name, call.target.as_deref(), &call.args),
            Expr::Comprehension(c) => {
                let range = self.eval(&c.iter_range);
                let items: Vec<Val<'a>> = match (range.elements(), range.entries()) {
                    (Some(list), _) => list,
                    (_, Some(map)) => map.into_iter().map(|(k, _)| k).collect(),
                    _ => {
                        return if matches!(range, Val::Error(_)) {
                            range
                        } else {
                            Val::Unknown
                        }
                    }
                };
                let accu = self.eval(&c.accu_init);
                self.scope.push((c.accu_var.clone(), accu));
                for item in items {
                    self.scope.push((c.iter_var.clone(), item));
                    let go_on = self.eval(&c.loop_cond);
                    if matches!(go_on, Val::Bool(false)) {
                        self.scope.pop();
                        break;
                    }
                    let next = self.eval(&c.loop_step);
                    self.scope.pop();
                    if let Some(slot) = self.scope.last_mut() {
                        slot.1 = next;
                    }
                }
                let result = self.eval(&c.result);
                self.scope.pop();
                result
            }
            Expr::Struct(_) | Expr::Unspecified => err("messages are not supported"),
        }
    }

    fn ident(&self, name: &str) -> Val<'a> {
        if let Some((_, v)) = self.scope.iter().rev().find(|(n, _)| n == name) {
            return v.clone();
        }
        match name {
            "event" => Val::json(self.event),
            "async" => self.incoming.map_or(Val::Unknown, Val::json),
            "vars" => Val::Unknown,
            other => err(format!("undeclared reference to '{other}'")),
        }
    }

    fn call(&mut self, name: &str, target: Option<&IdedExpr>, args: &[IdedExpr]) -> Val<'a> {
        match name {
            op::CONDITIONAL => {
                return if self.eval(&args[0]).truthy() {
                    self.eval(&args[1])
                } else {
                    self.eval(&args[2])
                }
            }
            op::LOGICAL_AND | op::LOGICAL_OR => {
                let (a, b) = (self.eval(&args[0]), self.eval(&args[1]));
                let or = name == op::LOGICAL_OR;
                if let (Val::Bool(x), Val::Bool(y)) = (&a, &b) {
                    return Val::Bool(if or { *x || *y } else { *x && *y });
                }
                // JS-like: `||` gives the first truthy value, `&&` the first falsy one.
                return if or == a.truthy() { a } else { b };
            }
            op::NOT_STRICTLY_FALSE => {
                return Val::Bool(!matches!(self.eval(&args[0]), Val::Bool(false)))
            }
            _ => {}
        }
        let mut values: Vec<Val<'a>> = Vec::with_capacity(args.len() + 1);
        if let Some(t) = target {
            values.push(self.eval(t));
        }
        for a in args {
            values.push(self.eval(a));
        }
        self.dispatch(name, values)
    }

    /// A call with the dialect's handling of missing and mixed types (`runtimeUnknownCall`).
    fn dispatch(&self, name: &str, args: Vec<Val<'a>>) -> Val<'a> {
        let mut kinds: Vec<Kind> = Vec::new();
        for a in &args {
            if !kinds.contains(&a.kind()) {
                kinds.push(a.kind());
            }
        }
        let unknown = kinds.contains(&Kind::Unknown) || kinds.contains(&Kind::Error);
        if !unknown && kinds.len() <= 1 {
            return self.standard(name, &args);
        }
        if !unknown && kinds.len() == 2 && args.len() == 2 {
            let value = self.standard(name, &args);
            if !matches!(value, Val::Error(_)) {
                return value;
            }
            if name == op::ADD {
                return Val::Str(Cow::Owned(format!(
                    "{}{}",
                    args[0].display(),
                    args[1].display()
                )));
            }
            if kinds.contains(&Kind::Null) {
                return match name {
                    op::EQUALS => Val::Bool(false),
                    op::NOT_EQUALS => Val::Bool(true),
                    _ => {
                        let other = kinds.iter().copied().find(|k| *k != Kind::Null);
                        let zeroed: Vec<Val<'a>> = args
                            .into_iter()
                            .map(|a| match a {
                                Val::Null => other.map_or(Val::Null, zero),
                                a => a,
                            })
                            .collect();
                        self.standard(name, &zeroed)
                    }
                };
            }
            return value;
        }
        if unknown {
            return unknown_call(name, &args);
        }
        self.standard(name, &args)
    }

    /// The standard CEL functions and the server's own, on arguments of known types.
    fn standard(&self, name: &str, a: &[Val<'a>]) -> Val<'a> {
        let arg = |i: usize| a.get(i).cloned().unwrap_or(Val::Unknown);
        match (name, a.len()) {
            (op::EQUALS, 2) => {
                equals(&a[0], &a[1]).map_or_else(|| err("no such overload"), Val::Bool)
            }
            (op::NOT_EQUALS, 2) => {
                equals(&a[0], &a[1]).map_or_else(|| err("no such overload"), |b| Val::Bool(!b))
            }
            (op::LESS | op::LESS_EQUALS | op::GREATER | op::GREATER_EQUALS, 2) => {
                match compare(&a[0], &a[1]) {
                    None => err("no such overload"),
                    Some(o) => Val::Bool(match name {
                        op::LESS => o == Ordering::Less,
                        op::LESS_EQUALS => o != Ordering::Greater,
                        op::GREATER => o == Ordering::Greater,
                        _ => o != Ordering::Less,
                    }),
                }
            }
            (op::ADD | op::SUBSTRACT | op::MULTIPLY | op::DIVIDE | op::MODULO, 2) => {
                arithmetic(name, arg(0), arg(1))
            }
            (op::NEGATE, 1) => match &a[0] {
                Val::Int(i) => i.checked_neg().map_or_else(|| err("overflow"), Val::Int),
                Val::Double(d) => Val::Double(-d),
                _ => err("no such overload"),
            },
            (op::LOGICAL_NOT, 1) => match &a[0] {
                Val::Bool(b) => Val::Bool(!b),
                _ => err("no such overload"),
            },
            (op::IN, 2) => match (a[1].elements(), a[1].get(&a[0])) {
                (Some(list), _) => Val::Bool(list.iter().any(|x| equals(x, &a[0]) == Some(true))),
                (_, Some(v)) => Val::Bool(!matches!(v, Val::Unknown)),
                _ => err("no such overload"),
            },
            (op::INDEX, 2) => index(&a[0], &a[1]),
            ("size", 1) => match &a[0] {
                Val::Str(s) => Val::Int(s.chars().count() as i64),
                Val::Bytes(b) => Val::Int(b.len() as i64),
                other => match (other.elements(), other.entries()) {
                    (Some(l), _) => Val::Int(l.len() as i64),
                    (_, Some(m)) => Val::Int(m.len() as i64),
                    _ => err("no such overload"),
                },
            },
            ("contains" | "startsWith" | "endsWith", 2) => match (&a[0], &a[1]) {
                (Val::Str(s), Val::Str(x)) => Val::Bool(match name {
                    "contains" => s.contains(x.as_ref()),
                    "startsWith" => s.starts_with(x.as_ref()),
                    _ => s.ends_with(x.as_ref()),
                }),
                _ => err("no such overload"),
            },
            ("matches", 2) => match (&a[0], &a[1]) {
                (Val::Str(s), Val::Str(re)) => match regex::Regex::new(re) {
                    Ok(re) => Val::Bool(re.is_match(s)),
                    Err(e) => err(e.to_string()),
                },
                _ => err("no such overload"),
            },
            ("lowercase" | "uppercase", 1) => {
                let s = match &a[0] {
                    Val::Str(s) => s.as_ref(),
                    _ => "",
                };
                Val::Str(Cow::Owned(if name == "lowercase" {
                    s.to_lowercase()
                } else {
                    s.to_uppercase()
                }))
            }
            ("b64decode", 1) => {
                use base64::Engine;
                let s = match &a[0] {
                    Val::Str(s) => s.as_ref(),
                    _ => "",
                };
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .unwrap_or_default();
                Val::Str(Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()))
            }
            ("json_parse", 1) => {
                let s = match &a[0] {
                    Val::Str(s) => s.as_ref(),
                    _ => "",
                };
                match serde_json::from_str::<Value>(s) {
                    Ok(v @ Value::Object(_)) => Val::owned_json(v),
                    _ => Val::Map(Vec::new()),
                }
            }
            ("date", 1) => match &a[0] {
                Val::Str(s) => {
                    parse_time(s).map_or_else(|| err("no such overload"), Val::Timestamp)
                }
                Val::Int(i) => {
                    date_from_int(*i).map_or_else(|| err("no such overload"), Val::Timestamp)
                }
                _ => err("no such overload"),
            },
            ("timestamp", 1) => match &a[0] {
                Val::Str(s) => DateTime::parse_from_rfc3339(s).map_or_else(
                    |e| err(e.to_string()),
                    |t| Val::Timestamp(t.with_timezone(&Utc)),
                ),
                Val::Int(i) => DateTime::from_timestamp(*i, 0)
                    .map_or_else(|| err("out of range"), Val::Timestamp),
                Val::Timestamp(t) => Val::Timestamp(*t),
                _ => err("no such overload"),
            },
            ("duration", 1) => match &a[0] {
                Val::Str(s) => duration(s).map_or_else(|| err("invalid duration"), Val::Duration),
                _ => err("no such overload"),
            },
            ("now", 0) => Val::Timestamp(self.now),
            ("now_plus" | "now_minus", 1) => match &a[0] {
                Val::Str(s) => match duration(s) {
                    Some(d) if name == "now_plus" => Val::Timestamp(self.now + d),
                    Some(d) => Val::Timestamp(self.now - d),
                    None => err("invalid duration"),
                },
                _ => err("no such overload"),
            },
            ("int", 1) => match &a[0] {
                Val::Int(i) => Val::Int(*i),
                Val::UInt(u) => i64::try_from(*u).map_or_else(|_| err("range"), Val::Int),
                Val::Double(d) if d.is_finite() => Val::Int(d.trunc() as i64),
                Val::Str(s) => s.parse().map_or_else(|_| err("invalid int"), Val::Int),
                Val::Timestamp(t) => Val::Int(t.timestamp()),
                _ => err("no such overload"),
            },
            ("uint", 1) => match &a[0] {
                Val::Int(i) => u64::try_from(*i).map_or_else(|_| err("range"), Val::UInt),
                Val::UInt(u) => Val::UInt(*u),
                Val::Double(d) if *d >= 0.0 && d.is_finite() => Val::UInt(d.trunc() as u64),
                Val::Str(s) => s.parse().map_or_else(|_| err("invalid uint"), Val::UInt),
                _ => err("no such overload"),
            },
            ("double", 1) => match &a[0] {
                Val::Int(i) => Val::Double(*i as f64),
                Val::UInt(u) => Val::Double(*u as f64),
                Val::Double(d) => Val::Double(*d),
                Val::Str(s) => s
                    .parse()
                    .map_or_else(|_| err("invalid double"), Val::Double),
                _ => err("no such overload"),
            },
            ("string", 1) => match &a[0] {
                Val::Str(s) => Val::Str(s.clone()),
                Val::Timestamp(t) => Val::Str(Cow::Owned(
                    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                )),
                Val::Bytes(b) => Val::Str(Cow::Owned(String::from_utf8_lossy(b).into_owned())),
                Val::Double(d) => Val::Str(Cow::Owned(d.to_string())),
                other @ (Val::Int(_) | Val::UInt(_) | Val::Bool(_)) => {
                    Val::Str(Cow::Owned(other.display()))
                }
                _ => err("no such overload"),
            },
            ("dyn", 1) => arg(0),
            _ => err(format!("no such overload: {name}")),
        }
    }
}

/// A call whose arguments include a missing field (or an error): the server's fixed answers
/// (`handleUnknownCall`).
fn unknown_call<'a>(name: &str, a: &[Val<'a>]) -> Val<'a> {
    let missing = |v: &Val<'_>| matches!(v, Val::Unknown | Val::Error(_));
    let first_missing = a.first().is_some_and(missing);
    match name {
        op::ADD => a
            .iter()
            .find(|v| !missing(v))
            .cloned()
            .unwrap_or(Val::Bool(false)),
        op::EQUALS => Val::Bool(a.iter().any(|v| matches!(v, Val::Null))),
        op::NOT_EQUALS => Val::Bool(!a.iter().any(|v| matches!(v, Val::Null))),
        op::LESS | op::LESS_EQUALS => Val::Bool(first_missing),
        op::GREATER | op::GREATER_EQUALS => Val::Bool(!first_missing),
        "size" => Val::Int(0),
        _ => Val::Bool(false),
    }
}

fn literal<'a>(l: &LiteralValue) -> Val<'a> {
    match l {
        LiteralValue::Boolean(b) => Val::Bool(**b),
        LiteralValue::Int(i) => Val::Int(**i),
        LiteralValue::UInt(u) => Val::UInt(**u),
        LiteralValue::Double(d) => Val::Double(**d),
        LiteralValue::String(s) => Val::Str(Cow::Owned(s.to_string())),
        LiteralValue::Bytes(b) => Val::Bytes(b.to_vec()),
        LiteralValue::Null => Val::Null,
    }
}

fn index<'a>(container: &Val<'a>, key: &Val<'_>) -> Val<'a> {
    if let Some(list) = container.elements() {
        let i = match key {
            Val::Int(i) => Some(*i),
            Val::UInt(u) => i64::try_from(*u).ok(),
            Val::Double(d) if d.fract() == 0.0 => Some(*d as i64),
            _ => None,
        };
        return match i.and_then(|i| usize::try_from(i).ok()) {
            Some(i) => list.get(i).cloned().unwrap_or(Val::Unknown),
            None => err("invalid list index"),
        };
    }
    container.get(key).unwrap_or(Val::Unknown)
}

fn arithmetic<'a>(name: &str, a: Val<'a>, b: Val<'a>) -> Val<'a> {
    let overflow = || err("overflow");
    match (name, a, b) {
        (op::ADD, Val::Int(x), Val::Int(y)) => x.checked_add(y).map_or_else(overflow, Val::Int),
        (op::SUBSTRACT, Val::Int(x), Val::Int(y)) => {
            x.checked_sub(y).map_or_else(overflow, Val::Int)
        }
        (op::MULTIPLY, Val::Int(x), Val::Int(y)) => {
            x.checked_mul(y).map_or_else(overflow, Val::Int)
        }
        (op::DIVIDE, Val::Int(x), Val::Int(y)) => x
            .checked_div(y)
            .map_or_else(|| err("division by zero"), Val::Int),
        (op::MODULO, Val::Int(x), Val::Int(y)) => x
            .checked_rem(y)
            .map_or_else(|| err("modulus by zero"), Val::Int),
        (op::ADD, Val::UInt(x), Val::UInt(y)) => x.checked_add(y).map_or_else(overflow, Val::UInt),
        (op::SUBSTRACT, Val::UInt(x), Val::UInt(y)) => {
            x.checked_sub(y).map_or_else(overflow, Val::UInt)
        }
        (op::MULTIPLY, Val::UInt(x), Val::UInt(y)) => {
            x.checked_mul(y).map_or_else(overflow, Val::UInt)
        }
        (op::DIVIDE, Val::UInt(x), Val::UInt(y)) => x
            .checked_div(y)
            .map_or_else(|| err("division by zero"), Val::UInt),
        (op::ADD, Val::Double(x), Val::Double(y)) => Val::Double(x + y),
        (op::SUBSTRACT, Val::Double(x), Val::Double(y)) => Val::Double(x - y),
        (op::MULTIPLY, Val::Double(x), Val::Double(y)) => Val::Double(x * y),
        (op::DIVIDE, Val::Double(x), Val::Double(y)) => Val::Double(x / y),
        (op::ADD, Val::Str(x), Val::Str(y)) => Val::Str(Cow::Owned(format!("{x}{y}"))),
        (op::ADD, Val::Bytes(mut x), Val::Bytes(y)) => {
            x.extend(y);
            Val::Bytes(x)
        }
        (op::ADD, x, y) if x.kind() == Kind::List && y.kind() == Kind::List => {
            let mut l = x.elements().unwrap_or_default();
            l.extend(y.elements().unwrap_or_default());
            Val::List(l)
        }
        (op::ADD, Val::Timestamp(t), Val::Duration(d))
        | (op::ADD, Val::Duration(d), Val::Timestamp(t)) => Val::Timestamp(t + d),
        (op::SUBSTRACT, Val::Timestamp(t), Val::Duration(d)) => Val::Timestamp(t - d),
        (op::SUBSTRACT, Val::Timestamp(t), Val::Timestamp(u)) => Val::Duration(t - u),
        (op::ADD, Val::Duration(x), Val::Duration(y)) => Val::Duration(x + y),
        (op::SUBSTRACT, Val::Duration(x), Val::Duration(y)) => Val::Duration(x - y),
        _ => err("no such overload"),
    }
}

/// A duration as the server's `str2duration` reads it (`1h30m`, `7d`).
fn duration(s: &str) -> Option<TimeDelta> {
    let d = inngest_protocol::timestr::parse(s).ok()?;
    TimeDelta::from_std(d).ok()
}

/// A time in the formats the server's `dateutil.ParseString` knows (RFC 3339, HTTP dates,
/// `2006-01-02T15:04:05`, `2006-01-02`).
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Some(t) = inngest_protocol::time::parse_rfc3339(s)
        .or_else(|| inngest_protocol::time::parse_http_date(s))
    {
        return Some(t.into());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(t.and_utc());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// A Unix time in seconds, milliseconds or nanoseconds (`dateutil.ParseInt`; none before
/// 2000).
fn date_from_int(i: i64) -> Option<DateTime<Utc>> {
    if i < 946_684_800 {
        return None;
    }
    if i < 9_999_999_999 {
        return DateTime::from_timestamp(i, 0);
    }
    if i < 9_999_999_999_999 {
        return DateTime::from_timestamp_millis(i);
    }
    Some(DateTime::from_timestamp_nanos(i))
}
