//! Debounce (`debounce`): a run starts once `period` passes with no new matching event, with
//! the **last** event; `timeout` caps the total delay (server `debounce.go` and
//! `updateDebounce.lua`). The run then goes through the other checks, rate limit aside.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::timers::Timer;
use super::super::tracked::TrackedMap;
use super::super::Core;
use super::{DebounceSpec, ScheduleRequest};

/// The server schedules a debounce's run this long after the period ends (its queue buffer
/// and one second).
const BUFFER_MS: u64 = 1_050;

/// A debounce waiting for its period to pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Pending {
    /// The function's slug.
    pub function: String,
    /// The last event.
    pub event: Value,
    /// Its internal id.
    pub event_id: String,
    /// When the run starts unless another event comes (ms since the epoch).
    pub due: u64,
    /// The latest it may start (`timeout`), if set.
    pub timeout_at: Option<u64>,
}

/// The debounces waiting, by function and key.
#[derive(Debug, Default)]
pub(crate) struct Debounces {
    pub(crate) pending: TrackedMap<String, Pending>,
}

impl Debounces {
    /// How many debounces are waiting.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

/// The time to wait, capped so that the run starts by `timeout_at` (whole seconds, at least
/// one, as the server's Lua computes it).
fn ttl(period_ms: u64, timeout_at: Option<u64>, now: u64) -> u64 {
    match timeout_at {
        Some(at) if now.saturating_add(period_ms) > at => {
            (at.saturating_sub(now) / 1000).max(1) * 1000
        }
        _ => period_ms,
    }
}

impl Core {
    /// Holds `event` in its function's debounce instead of starting a run.
    pub(crate) fn debounce(&mut self, spec: &DebounceSpec, request: ScheduleRequest) {
        let Some(event) = request.events.into_iter().next() else {
            return;
        };
        let event_id = request.event_ids.into_iter().next().unwrap_or_default();
        let key_value = spec.key.as_deref().map_or(Value::Null, |k| {
            self.expressions
                .evaluate(k, &event)
                .unwrap_or_else(|_| Value::from("<invalid>"))
        });
        let key = format!("{}\u{0}{key_value}", request.function);
        let now = self.now;
        let due = match self.flow.debounces.pending.get_mut(&key) {
            Some(pending) => {
                let ts = |e: &Value| e["ts"].as_u64().unwrap_or(0);
                if ts(&pending.event) > ts(&event) {
                    return; // out of order: a newer event is held
                }
                pending.event = event;
                pending.event_id = event_id;
                pending.due = now + ttl(spec.period_ms, pending.timeout_at, now) + BUFFER_MS;
                pending.due
            }
            None => {
                let timeout_at = spec.timeout_ms.map(|t| now.saturating_add(t));
                let due = now + ttl(spec.period_ms, timeout_at, now) + BUFFER_MS;
                self.flow.debounces.pending.insert(
                    key.clone(),
                    Pending {
                        function: request.function,
                        event,
                        event_id,
                        due,
                        timeout_at,
                    },
                );
                due
            }
        };
        self.timers.add(due, Timer::Debounce { key });
    }

    /// A debounce timer is due: starts the run with the last event, if nothing pushed it out.
    pub(crate) fn debounce_due(&mut self, key: &str) {
        let due = self
            .flow
            .debounces
            .pending
            .get(key)
            .is_some_and(|p| p.due <= self.now);
        if !due {
            return;
        }
        let Some(pending) = self.flow.debounces.pending.remove(key) else {
            return;
        };
        self.schedule(ScheduleRequest {
            prevent_debounce: true,
            prevent_rate_limit: true,
            ..ScheduleRequest::new(&pending.function, pending.event, pending.event_id)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::ttl;

    #[test]
    fn the_timeout_caps_the_wait() {
        assert_eq!(ttl(30_000, None, 0), 30_000);
        assert_eq!(ttl(30_000, Some(100_000), 0), 30_000);
        assert_eq!(ttl(30_000, Some(100_000), 90_500), 9_000);
        assert_eq!(ttl(30_000, Some(100_000), 99_900), 1_000);
    }
}
