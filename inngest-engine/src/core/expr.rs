//! CEL expressions (`if` of triggers, waits and cancellations), evaluated with the `cel` crate:
//! `event` is the run's triggering event, `async` the incoming one. Each expression is
//! compiled once and kept.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

/// How many compiled expressions are kept before the cache starts over.
const CACHE_LIMIT: usize = 10_000;

/// Compiled expressions by their text.
#[derive(Default)]
pub(crate) struct Expressions {
    cache: HashMap<String, Result<Arc<cel::Program>, String>>,
}

impl std::fmt::Debug for Expressions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expressions")
            .field("cached", &self.cache.len())
            .finish()
    }
}

impl Expressions {
    /// The compiled expression, or why it does not compile.
    pub(crate) fn compile(&mut self, expression: &str) -> Result<Arc<cel::Program>, String> {
        if let Some(done) = self.cache.get(expression) {
            return done.clone();
        }
        if self.cache.len() >= CACHE_LIMIT {
            self.cache.clear();
        }
        let compiled = cel::Program::compile(expression)
            .map(Arc::new)
            .map_err(|e| e.to_string());
        self.cache.insert(expression.to_owned(), compiled.clone());
        compiled
    }

    /// Whether `expression` holds for these events. An expression that does not compile is
    /// an error; one that fails to evaluate or is not a boolean does not hold.
    pub(crate) fn holds(
        &mut self,
        expression: &str,
        event: &Value,
        incoming: Option<&Value>,
    ) -> Result<bool, String> {
        let program = self.compile(expression)?;
        let mut ctx = cel::Context::default();
        ctx.add_variable("event", event.clone())
            .map_err(|e| e.to_string())?;
        if let Some(incoming) = incoming {
            ctx.add_variable("async", incoming.clone())
                .map_err(|e| e.to_string())?;
        }
        Ok(match program.execute(&ctx) {
            Ok(cel::Value::Bool(b)) => b,
            Ok(other) => {
                tracing::debug!(%expression, result = ?other, "an Inngest expression is not a boolean");
                false
            }
            Err(e) => {
                tracing::debug!(%expression, error = %e, "an Inngest expression failed to evaluate");
                false
            }
        })
    }

    /// The value of `expression` with `event` bound (a key, a priority). A field the event
    /// lacks is `null`, as in the server's dialect.
    pub(crate) fn evaluate(&mut self, expression: &str, event: &Value) -> Result<Value, String> {
        let program = self.compile(expression)?;
        let mut ctx = cel::Context::default();
        ctx.add_variable("event", event.clone())
            .map_err(|e| e.to_string())?;
        match program.execute(&ctx) {
            Ok(value) => Ok(value.json().unwrap_or(Value::Null)),
            Err(cel::ExecutionError::NoSuchKey(_)) => Ok(Value::Null),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Whether `expression` compiles (the check at sync).
    pub(crate) fn check(&mut self, expression: &str) -> Result<(), String> {
        self.compile(expression).map(|_| ())
    }

    /// Whether `expression` holds, logging (once per call) an expression that does not
    /// compile and counting it as false.
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failure_handler_trigger() {
        let mut x = Expressions::default();
        let failed =
            json!({"name": "inngest/function.failed", "data": {"function_id": "app-send-welcome"}});
        assert_eq!(
            x.holds(
                "event.data.function_id == 'app-send-welcome'",
                &failed,
                None
            ),
            Ok(true)
        );
        assert_eq!(
            x.holds("event.data.function_id == 'app-other'", &failed, None),
            Ok(false)
        );
    }

    #[test]
    fn wait_expressions_see_both_events() {
        let mut x = Expressions::default();
        let run = json!({"data": {"invoice_id": "i-1"}});
        let expr = "event.data.invoice_id == async.data.invoice_id";
        assert_eq!(
            x.holds(expr, &run, Some(&json!({"data": {"invoice_id": "i-1"}}))),
            Ok(true)
        );
        assert_eq!(
            x.holds(expr, &run, Some(&json!({"data": {"invoice_id": "i-2"}}))),
            Ok(false)
        );
    }

    #[test]
    fn bad_expressions() {
        let mut x = Expressions::default();
        let e = json!({"data": {}});
        assert!(x.holds("event.data.x ==", &e, None).is_err());
        assert!(!x.holds_or_false("event.data.x ==", &e, None));
        assert_eq!(x.holds("1 + 1", &e, None), Ok(false));
    }
}
