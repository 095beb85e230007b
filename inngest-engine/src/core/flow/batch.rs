//! Event batching (`batchEvents`): events are gathered per function and key, and a run starts
//! with the batch in `events` once it has `maxSize` events, its `timeout` passes, or it holds
//! 10 MiB (server `AppendAndScheduleBatch`, `batch/redis.go`). An event that fails the batch
//! `if` runs alone at once.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::timers::Timer;
use super::super::tracked::TrackedMap;
use super::super::Core;
use super::{BatchSpec, ScheduleRequest};

/// A batch flushes once its events hold this many bytes (`batch/redis.go`).
const MAX_BATCH_BYTES: usize = 10 * 1024 * 1024;

/// A batch being filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Batch {
    /// Its id (the run's idempotency key).
    pub id: String,
    /// The function's slug.
    pub function: String,
    /// The events, in order.
    pub events: Vec<Value>,
    /// Their internal ids.
    pub event_ids: Vec<String>,
    /// Their size in bytes.
    pub bytes: usize,
}

/// The batches being filled, by function and key.
#[derive(Debug, Default)]
pub(crate) struct Batches {
    pub(crate) open: TrackedMap<String, Batch>,
}

impl Batches {
    /// How many batches are being filled.
    pub(crate) fn len(&self) -> usize {
        self.open.len()
    }
}

impl Core {
    /// Whether `event` goes into a batch of `function` (its batch `if` holds); then it is
    /// appended and the batch starts a run when full.
    pub(crate) fn batch(
        &mut self,
        function: &str,
        spec: &BatchSpec,
        event: &Value,
        event_id: &str,
    ) -> bool {
        if let Some(condition) = &spec.if_expression {
            if !self
                .expressions
                .holds(condition, event, None)
                .unwrap_or(false)
            {
                return false;
            }
        }
        let key_value = spec.key.as_deref().map_or(Value::Null, |k| {
            self.expressions.evaluate(k, event).unwrap_or(Value::Null)
        });
        let key = format!("{function}\u{0}{key_value}");
        let size = super::super::limits::json_size(event);
        if !self.flow.batches.open.contains_key(&key) {
            let id = self.new_id();
            self.timers.add(
                self.now.saturating_add(spec.timeout_ms),
                Timer::Batch {
                    key: key.clone(),
                    id: id.clone(),
                },
            );
            self.flow.batches.open.insert(
                key.clone(),
                Batch {
                    id,
                    function: function.to_owned(),
                    events: Vec::new(),
                    event_ids: Vec::new(),
                    bytes: 0,
                },
            );
        }
        let full = self.flow.batches.open.get_mut(&key).is_some_and(|b| {
            b.events.push(event.clone());
            b.event_ids.push(event_id.to_owned());
            b.bytes += size;
            b.events.len() >= spec.max_size as usize || b.bytes >= MAX_BATCH_BYTES
        });
        if full {
            self.flush_batch(&key, None);
        }
        true
    }

    /// Starts the run of a batch (its timeout passed, or it is full). `id` names the batch a
    /// timer was set for: a later batch under the same key waits for its own timer.
    pub(crate) fn flush_batch(&mut self, key: &str, id: Option<&str>) {
        if id.is_some_and(|id| self.flow.batches.open.get(key).is_none_or(|b| b.id != id)) {
            return;
        }
        let Some(batch) = self.flow.batches.open.remove(key) else {
            return;
        };
        if batch.events.is_empty() {
            return;
        }
        self.schedule(ScheduleRequest {
            events: batch.events,
            event_ids: batch.event_ids,
            idempotency_key: Some(batch.id.clone()),
            batch_id: Some(batch.id),
            ..ScheduleRequest::empty(&batch.function)
        });
    }
}
