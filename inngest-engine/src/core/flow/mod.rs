//! Flow control, enforced as the server enforces it. Scheduling a run goes through one place,
//! [`Core::schedule`], in the server's order (`executor.go` `schedule`): rate limit (which
//! `idempotency` becomes), debounce, priority, concurrency and throttle keys, singleton, run
//! idempotency, then the run is queued. Batching happens before (an event joins a batch, and
//! the batch is scheduled); concurrency and throttle gate the dispatch of queue items
//! ([`Core::dispatch`]); timeouts cancel runs. Every piece of state here is plain data (maps of
//! keys, times in ms since the epoch) so that it can be stored and restored.

mod batch;
pub(crate) mod concurrency;
mod debounce;
pub(crate) mod gcra;
mod idempotency;
mod singleton;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use inngest_protocol::event::{FUNCTION_FINISHED_EVENT, FUNCTION_INVOKED_EVENT};
use inngest_protocol::register::{ConcurrencyScope, SingletonMode};

use super::types::{Happening, RunStatus};
use super::Core;
use concurrency::Limit;
use gcra::Rate;

/// The flow-control configuration of a function, checked and parsed at sync.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FlowConfig {
    /// Concurrency limits (at most two), in the order the server sorts them (by limit).
    pub concurrency: Vec<ConcurrencySpec>,
    pub throttle: Option<ThrottleSpec>,
    /// The rate limit, or what `idempotency` becomes (1 per 24 h per key).
    pub rate_limit: Option<RateLimitSpec>,
    pub debounce: Option<DebounceSpec>,
    pub batch: Option<BatchSpec>,
    pub singleton: Option<SingletonSpec>,
    /// The priority expression (`priority.run`).
    pub priority: Option<String>,
    /// `timeouts.start`, in ms.
    pub start_timeout_ms: Option<u64>,
    /// `timeouts.finish`, in ms.
    pub finish_timeout_ms: Option<u64>,
}

/// One concurrency limit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConcurrencySpec {
    pub limit: u32,
    pub key: Option<String>,
    pub scope: ConcurrencyScope,
}

/// The throttle.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ThrottleSpec {
    pub limit: u32,
    pub period_ms: u64,
    pub burst: u32,
    pub key: Option<String>,
}

/// The rate limit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RateLimitSpec {
    pub limit: u32,
    pub period_ms: u64,
    pub key: Option<String>,
}

/// The debounce.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DebounceSpec {
    pub period_ms: u64,
    pub key: Option<String>,
    pub timeout_ms: Option<u64>,
}

/// Batching.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BatchSpec {
    pub max_size: u32,
    pub timeout_ms: u64,
    pub key: Option<String>,
    pub if_expression: Option<String>,
}

/// The singleton.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SingletonSpec {
    pub key: Option<String>,
    pub mode: SingletonMode,
}

/// FNV-1a, a stable 64-bit hash (keys kept as hashes; cron jitter seeds).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The bounds of a priority factor, in seconds (`consts.PriorityFactorMin`/`Max`).
pub(crate) const PRIORITY_FACTOR_BOUND: i64 = 12 * 3600;

/// The flow-control state of the engine: plain data.
#[derive(Debug, Default)]
pub(crate) struct FlowState {
    /// Queue items in progress, by concurrency key.
    pub concurrency: concurrency::InProgress,
    /// Throttle arrival times, by key.
    pub throttle: gcra::Gcra,
    /// Rate-limit arrival times, by key.
    pub rate_limit: gcra::Gcra,
    /// Run idempotency keys.
    pub idempotency: idempotency::Keys,
    /// Debounces waiting.
    pub debounces: debounce::Debounces,
    /// Batches being filled.
    pub batches: batch::Batches,
    /// Singleton holders.
    pub singletons: singleton::Holders,
}

/// What a run carries of flow control: evaluated once, when it is scheduled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunFlow {
    /// The concurrency limits its queue items are held to.
    pub limits: Vec<Limit>,
    /// Its throttle key and rate, for its start.
    pub throttle: Option<(String, u32, u64, u32)>,
    /// Its priority factor, in seconds.
    pub priority: i64,
    /// The singleton key it holds.
    pub singleton: Option<String>,
}

impl RunFlow {
    /// The throttle as a GCRA rate (the server lets `limit + burst` start at once).
    pub(crate) fn throttle_rate(&self) -> Option<(&str, Rate)> {
        self.throttle
            .as_ref()
            .map(|(key, limit, period_ms, burst)| {
                (
                    key.as_str(),
                    Rate {
                        limit: *limit,
                        period_ms: *period_ms,
                        burst: (limit + burst).saturating_sub(1),
                    },
                )
            })
    }
}

/// A request to schedule a run (server `execution.ScheduleRequest`).
#[derive(Debug, Clone)]
pub(crate) struct ScheduleRequest {
    /// The function's slug.
    pub function: String,
    /// The triggering events (more than one for a batch).
    pub events: Vec<Value>,
    /// Their internal ids.
    pub event_ids: Vec<String>,
    /// The run's idempotency key (else the first event's internal id).
    pub idempotency_key: Option<String>,
    /// A debounce's run: not debounced again.
    pub prevent_debounce: bool,
    /// Already rate limited (a debounce's run).
    pub prevent_rate_limit: bool,
    /// When the run starts (a cron tick's jittered time), else now or the event's `ts`.
    pub at: Option<u64>,
    /// The batch it runs.
    pub batch_id: Option<String>,
}

impl ScheduleRequest {
    /// A run of `function` for one event.
    pub(crate) fn new(function: &str, event: Value, event_id: String) -> ScheduleRequest {
        ScheduleRequest {
            events: vec![event],
            event_ids: vec![event_id],
            ..ScheduleRequest::empty(function)
        }
    }

    /// A run of `function` with no events yet.
    pub(crate) fn empty(function: &str) -> ScheduleRequest {
        ScheduleRequest {
            function: function.to_owned(),
            events: Vec::new(),
            event_ids: Vec::new(),
            idempotency_key: None,
            prevent_debounce: false,
            prevent_rate_limit: false,
            at: None,
            batch_id: None,
        }
    }
}

/// Why a run was skipped before it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkipReason {
    RateLimit,
    Singleton,
}

impl SkipReason {
    fn message(self) -> &'static str {
        match self {
            SkipReason::RateLimit => "the run was skipped: the function is rate limited",
            SkipReason::Singleton => "the run was skipped: a singleton run is in progress",
        }
    }
}

impl Core {
    /// Receives an event for a function its trigger matched: into a batch, or scheduled.
    pub(crate) fn initialize(&mut self, function: &str, event: &Value, event_id: &str) {
        let Some(batch) = self
            .registry
            .functions
            .get(function)
            .and_then(|f| f.flow.batch.clone())
        else {
            let key = event["id"].as_str().map(str::to_owned);
            self.schedule(ScheduleRequest {
                idempotency_key: key,
                ..ScheduleRequest::new(function, event.clone(), event_id.to_owned())
            });
            return;
        };
        if !self.batch(function, &batch, event, event_id) {
            let key = event["id"].as_str().map(str::to_owned);
            self.schedule(ScheduleRequest {
                idempotency_key: key,
                ..ScheduleRequest::new(function, event.clone(), event_id.to_owned())
            });
        }
    }

    /// Schedules a run, through every flow-control check in the server's order. Returns the
    /// run's id when it was created now (queued or skipped), `None` when it was not (debounced,
    /// batched, a duplicate, or its function is gone).
    pub(crate) fn schedule(&mut self, request: ScheduleRequest) -> Option<String> {
        let flow = self
            .registry
            .functions
            .get(&request.function)
            .map(|f| f.flow.clone())?;
        let first = request.events.first().cloned()?;
        // The run's idempotency key: the event's `id` (else its internal id), a batch's id.
        let run_key = match (&request.idempotency_key, request.event_ids.len()) {
            (Some(k), _) if !k.is_empty() => k.clone(),
            (_, 1) => request.event_ids[0].clone(),
            _ => request.batch_id.clone().unwrap_or_default(),
        };
        let run_key = format!("{}\u{0}{run_key}", request.function);
        // A run that exists already is not rate limited again (the server's rate limiter
        // remembers the run keys it admitted): it is skipped below, silently.
        let seen = self.flow.idempotency.holds(&run_key, self.now);
        // 1. The rate limit (and `idempotency`, which the server turns into one).
        if let (Some(rate), false, false) = (&flow.rate_limit, request.prevent_rate_limit, seen) {
            let key = match &rate.key {
                None => Some(String::new()),
                Some(expression) => match self.expressions.evaluate(expression, &first) {
                    Ok(Value::Bool(false)) => None,
                    Ok(value) => Some(value.to_string()),
                    Err(_) => Some(Value::Null.to_string()),
                },
            };
            if let Some(key) = key {
                let key = format!("{}\u{0}{key}", request.function);
                let gcra = Rate {
                    limit: rate.limit,
                    period_ms: rate.period_ms,
                    burst: rate.limit / 10,
                };
                if self.flow.rate_limit.admit(&key, self.now, gcra).is_err() {
                    self.rate_limited(request, &first);
                    return None;
                }
            }
        }
        // 2. Debounce.
        if let (Some(debounce), false) = (&flow.debounce, request.prevent_debounce) {
            self.debounce(debounce, request);
            return None;
        }
        // 3. Priority, concurrency and throttle keys.
        let priority = flow
            .priority
            .as_deref()
            .map_or(0, |x| self.priority_factor(x, &first));
        let limits = self.concurrency_limits(&request.function, &flow, &first);
        let throttle = flow.throttle.as_ref().map(|t| {
            let value = t.key.as_deref().map_or(Value::Null, |k| {
                self.expressions.evaluate(k, &first).unwrap_or(Value::Null)
            });
            let key = format!("{}\u{0}{value}", request.function);
            (key, t.limit, t.period_ms, t.burst)
        });
        // 4. Singleton.
        let mut singleton = None;
        if let Some(spec) = &flow.singleton {
            let value = match &spec.key {
                None => Some(Value::Null),
                Some(k) => match self.expressions.evaluate(k, &first) {
                    Ok(Value::Bool(false)) | Err(_) => None,
                    Ok(value) => Some(value),
                },
            };
            if let Some(value) = value {
                let key = format!("{}\u{0}{value}", request.function);
                if let Some(holder) = self.flow.singletons.holder(&key).map(str::to_owned) {
                    match spec.mode {
                        SingletonMode::Cancel => {
                            self.finish(&holder, RunStatus::Cancelled, Value::Null);
                        }
                        _ => {
                            self.skip(request, SkipReason::Singleton);
                            return None;
                        }
                    }
                }
                singleton = Some(key);
            }
        }
        // 5. Run idempotency.
        if !self.flow.idempotency.claim(run_key, self.now) {
            return None; // a run for this key exists: the server skips silently
        }
        // 6. The run, queued at its start time.
        let run_flow = RunFlow {
            limits,
            throttle,
            priority,
            singleton: singleton.clone(),
        };
        let at = request.at.unwrap_or_else(|| {
            let ts = first["ts"].as_u64().unwrap_or(0);
            if request.batch_id.is_none() && ts > self.now {
                ts
            } else {
                self.now
            }
        });
        let run_id = self.create_run(request, run_flow, Some(at))?;
        if let Some(key) = singleton {
            self.flow.singletons.hold(key, run_id.clone());
        }
        Some(run_id)
    }

    /// The concurrency limits of a run of `function` for `event`: the function's own limit
    /// and its keyed ones, each with its scope.
    fn concurrency_limits(
        &mut self,
        function: &str,
        flow: &FlowConfig,
        event: &Value,
    ) -> Vec<Limit> {
        let mut limits = Vec::new();
        for c in &flow.concurrency {
            let key = match (&c.key, c.scope) {
                (None, ConcurrencyScope::Fn) => format!("fn\u{0}{function}"),
                (None, scope) => format!("{}\u{0}", scope.as_str()),
                (Some(expression), scope) => {
                    let value = self
                        .expressions
                        .evaluate(expression, event)
                        .unwrap_or(Value::Null);
                    let value = match value {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    let scope_id = match scope {
                        ConcurrencyScope::Fn => function,
                        _ => "",
                    };
                    // The server's key: the scope, its id and the value
                    // (`util.ConcurrencyKey`), not the expression.
                    format!("{}\u{0}{scope_id}\u{0}{value}", scope.as_str())
                }
            };
            limits.push(Limit {
                key,
                limit: c.limit,
            });
        }
        limits
    }

    /// The run priority factor for `event`: an integer, bounded to +-12 hours; anything else
    /// is 0, as on the server (`RunPriorityFactor`), where a number of the event's data is a
    /// double and so counts only through `int(...)`.
    fn priority_factor(&mut self, expression: &str, event: &Value) -> i64 {
        match self.expressions.evaluate(expression, event) {
            Ok(Value::Number(n)) => n.as_i64().map_or(0, |f| {
                f.clamp(-PRIORITY_FACTOR_BOUND, PRIORITY_FACTOR_BOUND)
            }),
            _ => 0,
        }
    }

    /// A rate-limited event: a skipped run for the runs API, and an invoked run fails its
    /// invoker (server `runner.go` `Initialize`).
    fn rate_limited(&mut self, request: ScheduleRequest, first: &Value) {
        if first["name"].as_str() == Some(FUNCTION_INVOKED_EVENT) {
            self.invoke_failed(first, "invoked function is rate limited");
        }
        self.skip(request, SkipReason::RateLimit);
    }

    /// Emits the `inngest/function.finished` that fails an invoker's step (server
    /// `CreateInvokeFailedEvent`).
    pub(crate) fn invoke_failed(&mut self, invoked: &Value, message: &str) {
        let correlation = &invoked["data"]["_inngest"]["correlation_id"];
        let id = self.new_id();
        self.inbox.push_back(json!({
            "id": id, "name": FUNCTION_FINISHED_EVENT, "ts": self.now,
            "data": {
                "function_id": "", "run_id": "", "correlation_id": correlation,
                "error": {"name": "Error", "message": message},
            },
        }));
    }

    /// Records a run that never starts, so that the runs API shows it.
    fn skip(&mut self, request: ScheduleRequest, reason: SkipReason) {
        let function = request.function.clone();
        let Some(run_id) = self.create_run(request, RunFlow::default(), None) else {
            return;
        };
        if let Some(run) = self.runs.get_mut(&run_id) {
            run.status = RunStatus::Skipped;
            run.ended_at = Some(self.now);
            run.output = Some(json!({"skipped": reason.message()}));
        }
        self.tell(Happening::RunEnded {
            run_id: run_id.clone(),
            function_id: function,
            status: RunStatus::Skipped,
            output: json!({"skipped": reason.message()}),
        });
        self.remember_finished(&run_id);
    }
}
