//! Values of the server's CEL dialect. Event data is read in place (a JSON object or array
//! is not copied), and its numbers are doubles, as they are for the server (Go reads JSON
//! numbers as `float64`). A field the data lacks is [`Val::Unknown`], which the dialect
//! treats as `null`.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

/// A value.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    /// A field or variable the data lacks.
    Unknown,
    /// An evaluation error (a missing overload, an overflow).
    Error(String),
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double(f64),
    Str(Cow<'a, str>),
    Bytes(Vec<u8>),
    List(Vec<Val<'a>>),
    Map(Vec<(Val<'a>, Val<'a>)>),
    /// A JSON array of the data, read in place.
    JsonList(&'a [Value]),
    /// A JSON object of the data, read in place.
    JsonMap(&'a Map<String, Value>),
    Timestamp(DateTime<Utc>),
    Duration(TimeDelta),
}

/// The type of a value, to tell whether a call mixes types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Unknown,
    Error,
    Null,
    Bool,
    Int,
    UInt,
    Double,
    Str,
    Bytes,
    List,
    Map,
    Timestamp,
    Duration,
}

impl<'a> Val<'a> {
    /// A JSON value of the data.
    pub(crate) fn json(v: &'a Value) -> Val<'a> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Double(n.as_f64().unwrap_or(0.0)),
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Array(a) => Val::JsonList(a),
            Value::Object(m) => Val::JsonMap(m),
        }
    }

    /// An owned JSON value (`json_parse`), as data: objects become maps.
    pub(crate) fn owned_json(v: Value) -> Val<'static> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => Val::Double(n.as_f64().unwrap_or(0.0)),
            Value::String(s) => Val::Str(Cow::Owned(s)),
            Value::Array(a) => Val::List(a.into_iter().map(Val::owned_json).collect()),
            Value::Object(m) => Val::Map(
                m.into_iter()
                    .map(|(k, v)| (Val::Str(Cow::Owned(k)), Val::owned_json(v)))
                    .collect(),
            ),
        }
    }

    pub(crate) fn kind(&self) -> Kind {
        match self {
            Val::Unknown => Kind::Unknown,
            Val::Error(_) => Kind::Error,
            Val::Null => Kind::Null,
            Val::Bool(_) => Kind::Bool,
            Val::Int(_) => Kind::Int,
            Val::UInt(_) => Kind::UInt,
            Val::Double(_) => Kind::Double,
            Val::Str(_) => Kind::Str,
            Val::Bytes(_) => Kind::Bytes,
            Val::List(_) | Val::JsonList(_) => Kind::List,
            Val::Map(_) | Val::JsonMap(_) => Kind::Map,
            Val::Timestamp(_) => Kind::Timestamp,
            Val::Duration(_) => Kind::Duration,
        }
    }

    /// Whether the value counts as true where a boolean is expected (JS-like): `false`,
    /// `null`, a missing field, an error, `""`, `0` are false.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Val::Unknown | Val::Error(_) | Val::Null => false,
            Val::Bool(b) => *b,
            Val::Str(s) => !s.is_empty(),
            Val::Int(i) => *i != 0,
            Val::UInt(u) => *u != 0,
            Val::Double(d) => *d != 0.0,
            _ => true,
        }
    }

    /// The elements of a list.
    pub(crate) fn elements(&self) -> Option<Vec<Val<'a>>> {
        match self {
            Val::List(l) => Some(l.clone()),
            Val::JsonList(l) => Some(l.iter().map(Val::json).collect()),
            _ => None,
        }
    }

    /// The entries of a map.
    pub(crate) fn entries(&self) -> Option<Vec<(Val<'a>, Val<'a>)>> {
        match self {
            Val::Map(m) => Some(m.clone()),
            Val::JsonMap(m) => Some(
                m.iter()
                    .map(|(k, v)| (Val::Str(Cow::Borrowed(k.as_str())), Val::json(v)))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// A map's value for `key`: `Unknown` when it has none, `None` when this is no map.
    pub(crate) fn get(&self, key: &Val<'_>) -> Option<Val<'a>> {
        match self {
            Val::JsonMap(m) => Some(match key {
                Val::Str(k) => m.get(k.as_ref()).map_or(Val::Unknown, Val::json),
                _ => Val::Unknown,
            }),
            Val::Map(entries) => Some(
                entries
                    .iter()
                    .find(|(k, _)| equals(k, key) == Some(true))
                    .map_or(Val::Unknown, |(_, v)| v.clone()),
            ),
            _ => None,
        }
    }

    /// The value as JSON (a key, a priority): unknown is `null`.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Val::Unknown | Val::Error(_) | Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::from(*i),
            Val::UInt(u) => Value::from(*u),
            Val::Double(d) => serde_json::Number::from_f64(*d).map_or(Value::Null, Value::Number),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
            Val::List(l) => Value::Array(l.iter().map(Val::to_json).collect()),
            Val::JsonList(l) => Value::Array(l.to_vec()),
            Val::Map(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.display(), v.to_json())).collect())
            }
            Val::JsonMap(m) => Value::Object((*m).clone()),
            Val::Timestamp(t) => {
                Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            }
            Val::Duration(d) => Value::String(format!("{}s", d.num_milliseconds() as f64 / 1000.0)),
        }
    }

    /// The value as Go's `%v` prints it (the dialect's string concatenation of mixed types).
    pub(crate) fn display(&self) -> String {
        match self {
            Val::Unknown | Val::Null => "<nil>".to_owned(),
            Val::Error(e) => e.clone(),
            Val::Str(s) => s.to_string(),
            Val::Double(d) => format_double(*d),
            Val::Int(i) => i.to_string(),
            Val::UInt(u) => u.to_string(),
            Val::Bool(b) => b.to_string(),
            other => other.to_json().to_string(),
        }
    }
}

/// A double as Go's `%v` prints it: whole numbers without a fraction.
fn format_double(d: f64) -> String {
    if d.fract() == 0.0 && d.abs() < 1e21 {
        format!("{d:.0}")
    } else {
        d.to_string()
    }
}

/// A number as a double, for comparisons across number types.
fn number(v: &Val<'_>) -> Option<f64> {
    match v {
        Val::Int(i) => Some(*i as f64),
        Val::UInt(u) => Some(*u as f64),
        Val::Double(d) => Some(*d),
        _ => None,
    }
}

/// CEL equality (heterogeneous: numbers compare by value across types, other mixed types
/// are not equal). `None` when it is undefined (an error).
pub(crate) fn equals(a: &Val<'_>, b: &Val<'_>) -> Option<bool> {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return Some(x == y);
    }
    Some(match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Bytes(x), Val::Bytes(y)) => x == y,
        (Val::Timestamp(x), Val::Timestamp(y)) => x == y,
        (Val::Duration(x), Val::Duration(y)) => x == y,
        (x, y) if x.kind() == Kind::List && y.kind() == Kind::List => {
            let (x, y) = (x.elements()?, y.elements()?);
            x.len() == y.len() && x.iter().zip(&y).all(|(a, b)| equals(a, b) == Some(true))
        }
        (x, y) if x.kind() == Kind::Map && y.kind() == Kind::Map => {
            let (x, y) = (x.entries()?, y.entries()?);
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .any(|(k2, v2)| equals(k, k2) == Some(true) && equals(v, v2) == Some(true))
                })
        }
        (Val::Unknown | Val::Error(_), _) | (_, Val::Unknown | Val::Error(_)) => return None,
        _ => false,
    })
}

/// CEL ordering: numbers across types, strings, booleans, bytes, times, durations.
pub(crate) fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return x.partial_cmp(&y);
    }
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Bytes(x), Val::Bytes(y)) => Some(x.cmp(y)),
        (Val::Timestamp(x), Val::Timestamp(y)) => Some(x.cmp(y)),
        (Val::Duration(x), Val::Duration(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The zero value of a kind (the dialect compares `null` as the other side's zero).
pub(crate) fn zero(kind: Kind) -> Val<'static> {
    match kind {
        Kind::Int => Val::Int(0),
        Kind::UInt => Val::UInt(0),
        Kind::Double => Val::Double(0.0),
        Kind::Str => Val::Str(Cow::Borrowed("")),
        _ => Val::Null,
    }
}
