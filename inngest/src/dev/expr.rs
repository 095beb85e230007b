//! CEL expressions (`if` on triggers, waits and cancellations), evaluated with the `cel` crate
//! as the Inngest server evaluates them: `event` is the run's triggering event, `async` the
//! incoming one.

use serde_json::Value;

/// Whether `expression` holds. An expression that does not compile or does not evaluate to a
/// boolean does not hold (and is logged).
pub(crate) fn holds(expression: &str, event: &Value, incoming: Option<&Value>) -> bool {
    let program = match cel::Program::compile(expression) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(%expression, error = %e, "an Inngest expression does not compile");
            return false;
        }
    };
    let mut ctx = cel::Context::default();
    if ctx.add_variable("event", event.clone()).is_err() {
        return false;
    }
    if let Some(incoming) = incoming {
        if ctx.add_variable("async", incoming.clone()).is_err() {
            return false;
        }
    }
    match program.execute(&ctx) {
        Ok(cel::Value::Bool(b)) => b,
        Ok(other) => {
            tracing::warn!(%expression, result = ?other, "an Inngest expression is not a boolean");
            false
        }
        Err(e) => {
            tracing::debug!(%expression, error = %e, "an Inngest expression failed to evaluate");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failure_handler_trigger() {
        let failed =
            json!({"name": "inngest/function.failed", "data": {"function_id": "app-send-welcome"}});
        assert!(holds(
            "event.data.function_id == 'app-send-welcome'",
            &failed,
            None
        ));
        assert!(!holds(
            "event.data.function_id == 'app-other'",
            &failed,
            None
        ));
    }

    #[test]
    fn wait_expressions_see_both_events() {
        let run = json!({"data": {"invoice_id": "i-1"}});
        let incoming = json!({"data": {"invoice_id": "i-1"}});
        let other = json!({"data": {"invoice_id": "i-2"}});
        let expr = "event.data.invoice_id == async.data.invoice_id";
        assert!(holds(expr, &run, Some(&incoming)));
        assert!(!holds(expr, &run, Some(&other)));
    }

    #[test]
    fn bad_expressions_do_not_hold() {
        let e = json!({"data": {}});
        assert!(!holds("event.data.x ==", &e, None));
        assert!(!holds("event.data.missing == 1", &e, None));
        assert!(!holds("1 + 1", &e, None));
    }
}
