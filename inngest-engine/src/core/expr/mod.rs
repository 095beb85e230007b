//! Expressions (`if` of triggers, waits and cancellations; keys of concurrency, throttle,
//! rate limit, debounce, batch and singleton; the priority) in the Inngest server's CEL
//! dialect. `event` is the run's triggering event, `async` the incoming one.
//!
//! The `cel` crate parses; the dialect's semantics are evaluated here on the parsed tree
//! ([`eval`]): a missing field is `null`, operators are loose across types, `&&`/`||` take
//! any value by its truthiness, and the server's functions (`lowercase`, `uppercase`,
//! `b64decode`, `json_parse`, `date`, `now`, `now_plus`, `now_minus`) are there with CEL's
//! own (`size`, `contains`, `startsWith`, `endsWith`, `matches`, conversions) and macros
//! (`has`, `all`, `exists`, `exists_one`, `map`, `filter`). Each expression is parsed and
//! checked once and kept.

mod eval;
#[cfg(test)]
mod tests;
mod value;

use std::collections::HashMap;
use std::sync::Arc;

use cel::common::ast::{operators as op, EntryExpr, Expr, IdedExpr};
use serde_json::Value;

use eval::Env;
use value::Val;

/// How many compiled expressions are kept before the cache starts over.
const CACHE_LIMIT: usize = 10_000;

/// The functions the dialect knows.
const FUNCTIONS: &[&str] = &[
    op::CONDITIONAL,
    op::LOGICAL_AND,
    op::LOGICAL_OR,
    op::LOGICAL_NOT,
    op::SUBSTRACT,
    op::ADD,
    op::MULTIPLY,
    op::DIVIDE,
    op::MODULO,
    op::EQUALS,
    op::NOT_EQUALS,
    op::GREATER_EQUALS,
    op::LESS_EQUALS,
    op::GREATER,
    op::LESS,
    op::NEGATE,
    op::INDEX,
    op::NOT_STRICTLY_FALSE,
    op::IN,
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "lowercase",
    "uppercase",
    "b64decode",
    "json_parse",
    "date",
    "timestamp",
    "duration",
    "now",
    "now_plus",
    "now_minus",
    "int",
    "uint",
    "double",
    "string",
    "dyn",
];

/// Compiled expressions by their text, and the time `now()` reads.
#[derive(Default)]
pub(crate) struct Expressions {
    cache: HashMap<String, Result<Arc<IdedExpr>, String>>,
    /// The core's time, ms since the epoch.
    pub now_ms: u64,
}

impl std::fmt::Debug for Expressions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expressions")
            .field("cached", &self.cache.len())
            .finish()
    }
}

impl Expressions {
    /// The parsed and checked expression, or why it does not compile.
    pub(crate) fn compile(&mut self, expression: &str) -> Result<Arc<IdedExpr>, String> {
        if let Some(done) = self.cache.get(expression) {
            return done.clone();
        }
        if self.cache.len() >= CACHE_LIMIT {
            self.cache.clear();
        }
        let compiled = cel::parser::Parser::new()
            .parse(expression)
            .map_err(|e| e.to_string())
            .and_then(|ast| {
                check(
                    &ast,
                    &mut vec!["event".into(), "async".into(), "vars".into()],
                )?;
                Ok(Arc::new(ast))
            });
        self.cache.insert(expression.to_owned(), compiled.clone());
        compiled
    }

    /// Whether `expression` compiles (the check at sync).
    pub(crate) fn check(&mut self, expression: &str) -> Result<(), String> {
        self.compile(expression).map(|_| ())
    }

    fn run<R>(
        &mut self,
        expression: &str,
        event: &Value,
        incoming: Option<&Value>,
        f: impl FnOnce(Val<'_>) -> R,
    ) -> Result<R, String> {
        let ast = self.compile(expression)?;
        let now = chrono::DateTime::from_timestamp_millis(i64::try_from(self.now_ms).unwrap_or(0))
            .unwrap_or_default();
        let mut env = Env {
            event,
            incoming,
            now,
            scope: Vec::new(),
        };
        Ok(f(env.eval(&ast)))
    }

    /// Whether `expression` holds for these events. An expression that does not compile is
    /// an error; one that fails to evaluate or is not `true` does not hold.
    pub(crate) fn holds(
        &mut self,
        expression: &str,
        event: &Value,
        incoming: Option<&Value>,
    ) -> Result<bool, String> {
        self.run(expression, event, incoming, |v| {
            matches!(v, Val::Bool(true))
        })
    }

    /// The value of `expression` with `event` bound (a key, a priority); an error is an
    /// error. An expression that is only a missing field is `false`, as the server's
    /// evaluation returns it (`eval` in `cel.go`): a rate limit or singleton keyed by a field
    /// the event lacks does not apply.
    pub(crate) fn evaluate(&mut self, expression: &str, event: &Value) -> Result<Value, String> {
        self.run(expression, event, None, |v| match v {
            Val::Error(e) => Err(e),
            Val::Unknown => Ok(Value::Bool(false)),
            v => Ok(v.to_json()),
        })?
    }

    /// Whether `expression` holds, counting one that does not compile as false (it was
    /// refused at sync; this is for the expressions that reach the engine otherwise).
    pub(crate) fn holds_or_false(
        &mut self,
        expression: &str,
        event: &Value,
        incoming: Option<&Value>,
    ) -> bool {
        self.holds(expression, event, incoming).unwrap_or_else(|e| {
            tracing::warn!(%expression, error = %e, "an Inngest expression does not compile");
            false
        })
    }
}

/// The server's compile-time checks: every name is a declared variable (`event`, `async`,
/// `vars`, or a macro's own) and every function is one the dialect knows.
fn check(e: &IdedExpr, names: &mut Vec<String>) -> Result<(), String> {
    match &e.expr {
        Expr::Ident(name) => {
            if names.iter().any(|n| n == name) {
                Ok(())
            } else {
                Err(format!("undeclared reference to '{name}'"))
            }
        }
        Expr::Literal(_) => Ok(()),
        Expr::Select(s) => check(&s.operand, names),
        Expr::List(l) => l.elements.iter().try_for_each(|x| check(x, names)),
        Expr::Map(m) => m.entries.iter().try_for_each(|entry| match &entry.expr {
            EntryExpr::MapEntry(me) => {
                check(&me.key, names)?;
                check(&me.value, names)
            }
            EntryExpr::StructField(_) => Err("messages are not supported".to_owned()),
        }),
        Expr::Call(call) => {
            if !FUNCTIONS.contains(&call.func_name.as_str()) {
                return Err(format!("undeclared reference to '{}'", call.func_name));
            }
            if let Some(t) = &call.target {
                check(t, names)?;
            }
            call.args.iter().try_for_each(|x| check(x, names))
        }
        Expr::Comprehension(c) => {
            check(&c.iter_range, names)?;
            check(&c.accu_init, names)?;
            let depth = names.len();
            names.push(c.accu_var.clone());
            names.push(c.iter_var.clone());
            let checked = check(&c.loop_cond, names)
                .and_then(|()| check(&c.loop_step, names))
                .and_then(|()| check(&c.result, names));
            names.truncate(depth);
            checked
        }
        Expr::Struct(_) | Expr::Unspecified => Err("messages are not supported".to_owned()),
    }
}
