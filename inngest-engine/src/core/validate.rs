//! The server's validation of a function at sync (`Function.Validate`, `RateLimit.IsValid`,
//! `EventBatchConfig.IsValid`, `ConcurrencyLimits.Validate`, `MultipleTriggers.Validate`),
//! with its messages, and the parsing of the flow-control options into [`FlowConfig`].

use std::time::Duration;

use inngest_protocol::limits::{
    MAX_CANCELLATIONS, MAX_CONCURRENCY_LIMITS, MAX_DEBOUNCE_PERIOD, MAX_RATE_LIMIT_PERIOD,
    MIN_BATCH_SIZE, MIN_BATCH_TIMEOUT, MIN_DEBOUNCE_PERIOD,
};
use inngest_protocol::register::{ConcurrencyScope, FunctionConfig};
use inngest_protocol::timestr;

use super::expr::Expressions;
use super::flow::{
    BatchSpec, ConcurrencySpec, DebounceSpec, FlowConfig, RateLimitSpec, SingletonSpec,
    ThrottleSpec,
};
use super::runs::millis;

/// A duration as Go prints it (`168h0m0s`, `1s`), for the server's messages.
pub(crate) fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

/// Parses a Go duration (`time.ParseDuration`: no days or weeks), as the server parses a
/// batch timeout.
fn parse_go_duration(s: &str) -> Option<Duration> {
    if s.contains(['d', 'w']) {
        return None;
    }
    timestr::parse(s).ok()
}

/// Checks and parses a function's flow control; each problem is pushed to `reasons` in the
/// server's words.
pub(crate) fn flow_config(
    config: &FunctionConfig,
    x: &mut Expressions,
    reasons: &mut Vec<String>,
) -> FlowConfig {
    let mut flow = FlowConfig::default();
    let expression = |x: &mut Expressions, e: &str| x.check(e).err();

    if config.concurrency.len() > MAX_CONCURRENCY_LIMITS {
        reasons.push(format!(
            "There are more concurrency limits specified than the allowed max of: {MAX_CONCURRENCY_LIMITS}"
        ));
    }
    for c in &config.concurrency {
        let scope = c.scope.unwrap_or(ConcurrencyScope::Fn);
        if scope != ConcurrencyScope::Fn && c.key.is_none() {
            reasons.push(format!(
                "A concurrency key must be specified for {} scoped limits",
                scope.as_str()
            ));
        }
        if let Some(key) = &c.key {
            if let Some(e) = expression(x, key) {
                reasons.push(format!("Invalid concurrency key '{key}': {e}"));
            }
        }
        if c.limit > 0 {
            flow.concurrency.push(ConcurrencySpec {
                limit: c.limit,
                key: c.key.clone(),
                scope,
            });
        }
    }
    flow.concurrency.sort_by_key(|c| c.limit);

    if let Some(t) = &config.throttle {
        match timestr::parse(&t.period) {
            Ok(period) => {
                flow.throttle = Some(ThrottleSpec {
                    limit: t.limit.max(1),
                    period_ms: millis(period).max(1000),
                    burst: t.burst.unwrap_or(0),
                    key: t.key.clone(),
                })
            }
            Err(e) => reasons.push(format!(
                "The throttle period of '{}' is invalid: {e}",
                t.period
            )),
        }
    }

    // `idempotency` is a rate limit of one per 24 hours per key, replacing `rateLimit`.
    let rate_limit = match (&config.idempotency, &config.rate_limit) {
        (Some(key), _) => Some((1, go_duration(MAX_RATE_LIMIT_PERIOD), Some(key.clone()))),
        (None, Some(r)) => Some((r.limit, r.period.clone(), r.key.clone())),
        (None, None) => None,
    };
    if let Some((limit, period, key)) = rate_limit {
        let start = reasons.len();
        if limit == 0 {
            reasons.push("limit must be greater than 0".to_owned());
        }
        if let Some(e) = key.as_deref().and_then(|k| expression(x, k)) {
            reasons.push(format!("key is invalid: {e}"));
        }
        let parsed = if period.is_empty() {
            reasons.push("period must be specified".to_owned());
            None
        } else {
            match timestr::parse(&period) {
                Ok(d) if d > MAX_RATE_LIMIT_PERIOD => {
                    reasons.push(format!(
                        "period must be less than {}",
                        go_duration(MAX_RATE_LIMIT_PERIOD)
                    ));
                    None
                }
                Ok(d) => Some(d),
                Err(e) => {
                    reasons.push(format!("failed to parse time duration: {e}"));
                    None
                }
            }
        };
        if let (Some(period), true) = (parsed, reasons.len() == start) {
            flow.rate_limit = Some(RateLimitSpec {
                limit,
                period_ms: millis(period),
                key,
            });
        }
    }

    if let Some(d) = &config.debounce {
        let key = d.key.clone().filter(|k| !k.is_empty());
        if let Some(e) = key.as_deref().and_then(|k| expression(x, k)) {
            reasons.push(format!("Debounce expression is invalid: {e}"));
        }
        match timestr::parse(&d.period) {
            Err(e) => reasons.push(format!(
                "The debounce period of '{}' is invalid: {e}",
                d.period
            )),
            Ok(p) if p < MIN_DEBOUNCE_PERIOD => reasons.push(format!(
                "The debounce period of '{}' is less than the min of: {}",
                d.period,
                go_duration(MIN_DEBOUNCE_PERIOD)
            )),
            Ok(p) if p > MAX_DEBOUNCE_PERIOD => reasons.push(format!(
                "The debounce period of '{}' is greater than the max of: {}",
                d.period,
                go_duration(MAX_DEBOUNCE_PERIOD)
            )),
            Ok(p) => {
                flow.debounce = Some(DebounceSpec {
                    period_ms: millis(p),
                    key,
                    timeout_ms: d
                        .timeout
                        .as_deref()
                        .and_then(|t| timestr::parse(t).ok())
                        .map(millis),
                })
            }
        }
    }

    if let Some(b) = &config.batch_events {
        if b.max_size < MIN_BATCH_SIZE {
            reasons.push(format!(
                "batch size cannot be smaller than 2: {}",
                b.max_size
            ));
        }
        let timeout = parse_go_duration(&b.timeout);
        match timeout {
            None => reasons.push(format!("invalid timeout string: {}", b.timeout)),
            Some(t) if t < MIN_BATCH_TIMEOUT => {
                reasons.push("batch timeout should be more than 1s".to_owned())
            }
            Some(_) => {}
        }
        if let Some(e) = b.key.as_deref().and_then(|k| expression(x, k)) {
            reasons.push(format!("batch key expression is invalid: {e}"));
        }
        if let Some(e) = b.if_expression.as_deref().and_then(|k| expression(x, k)) {
            reasons.push(format!("conditional batch expression is invalid {e}"));
        }
        if !config.cancel.is_empty() {
            reasons.push("Batching and cancellation are mutually exclusive".to_owned());
        }
        if config.debounce.is_some() {
            reasons.push("Batching and debouncing are mutually exclusive".to_owned());
        }
        if config.singleton.is_some() {
            reasons.push("Batching and singletons are mutually exclusive".to_owned());
        }
        if let (Some(timeout), true) = (timeout, b.max_size >= MIN_BATCH_SIZE) {
            flow.batch = Some(BatchSpec {
                max_size: b.max_size,
                timeout_ms: millis(timeout),
                key: b.key.clone(),
                if_expression: b.if_expression.clone(),
            });
        }
    }

    if let Some(run) = config.priority.as_ref().and_then(|p| p.run.as_ref()) {
        if let Some(e) = expression(x, run) {
            reasons.push(format!("Priority.Run expression is invalid: {e}"));
        }
        if config.batch_events.is_some() {
            reasons.push("A function cannot specify Priority.Run and Batch together".to_owned());
        }
        flow.priority = Some(run.clone());
    }

    for c in &config.cancel {
        if let Some(e) = c.if_expression.as_deref().and_then(|k| expression(x, k)) {
            reasons.push(format!("Cancellation expression is invalid: {e}"));
        }
    }
    if config.cancel.len() > MAX_CANCELLATIONS {
        reasons.push(format!(
            "This function exceeds the max number of cancellation events: {MAX_CANCELLATIONS}"
        ));
    }

    if let Some(s) = &config.singleton {
        flow.singleton = Some(SingletonSpec {
            key: s.key.clone().filter(|k| !k.is_empty()),
            mode: s.mode,
        });
    }

    if let Some(t) = &config.timeouts {
        let parse = |v: &Option<String>, which: &str| -> Option<u64> {
            let v = v.as_deref().filter(|v| !v.is_empty())?;
            match timestr::parse(v) {
                Ok(d) if !d.is_zero() => Some(millis(d)),
                _ => {
                    // The server ignores a timeout it cannot parse; say so.
                    tracing::warn!(function = %config.id, "the {which} timeout {v:?} is not a time string: it is ignored, as the Inngest server ignores it");
                    None
                }
            }
        };
        flow.start_timeout_ms = parse(&t.start, "start");
        flow.finish_timeout_ms = parse(&t.finish, "finish");
    }
    flow
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_prints_them() {
        assert_eq!(go_duration(Duration::from_secs(1)), "1s");
        assert_eq!(go_duration(Duration::from_secs(7 * 86_400)), "168h0m0s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
    }
}
