//! The events the engine received, newest last, for the API (`GET /v1/events`, the GraphQL
//! `event` query) and the page. Bounded: the oldest are forgotten past the limit, as finished
//! runs are.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::tracked::TrackedMap;

/// One received event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventRecord {
    /// Its id (the one `POST /e/{key}` answered with).
    pub id: String,
    /// Its name.
    pub name: String,
    /// When the engine received it, in ms since the epoch.
    pub received_at: u64,
    /// The event as the engine stored it (`id`, `name`, `data`, `user`, `ts`).
    pub event: Value,
}

/// A kept event and its place in the order of arrival (what is stored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Logged {
    pub seq: u64,
    pub record: EventRecord,
}

/// The received events, oldest first, with an index by id.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    order: VecDeque<String>,
    pub(super) by_id: TrackedMap<String, Logged>,
    pub(super) seq: u64,
}

impl EventLog {
    /// Keeps `event` (already normalised, with its id), forgetting the oldest past `max`.
    pub(crate) fn record(&mut self, event: &Value, now: u64, max: usize) {
        let id = event["id"].as_str().unwrap_or_default().to_owned();
        let record = EventRecord {
            id: id.clone(),
            name: event["name"].as_str().unwrap_or_default().to_owned(),
            received_at: now,
            event: event.clone(),
        };
        // An id received again keeps its place.
        let seq = match self.by_id.get(&id) {
            Some(kept) => kept.seq,
            None => {
                self.seq += 1;
                self.seq
            }
        };
        let logged = Logged { seq, record };
        if self.by_id.insert(id.clone(), logged).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > max.max(1) {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(&old);
            }
        }
    }

    /// The events of `by_id` (restored), in their order of arrival again.
    pub(crate) fn rebuild(by_id: TrackedMap<String, Logged>, seq: u64) -> EventLog {
        let mut all: Vec<(u64, &String)> = by_id.iter().map(|(id, l)| (l.seq, id)).collect();
        all.sort();
        let seq = all.last().map_or(seq, |(s, _)| seq.max(*s));
        let order = all.into_iter().map(|(_, id)| id.clone()).collect();
        EventLog { order, by_id, seq }
    }

    pub(crate) fn get(&self, id: &str) -> Option<&EventRecord> {
        self.by_id.get(id).map(|l| &l.record)
    }

    /// Newest first.
    pub(crate) fn newest_first(&self) -> impl Iterator<Item = &EventRecord> {
        self.order
            .iter()
            .rev()
            .filter_map(|id| self.by_id.get(id).map(|l| &l.record))
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bounded_newest_first() {
        let mut log = EventLog::default();
        for i in 0..5 {
            log.record(&json!({"id": format!("e{i}"), "name": "a"}), i, 3);
        }
        let ids: Vec<&str> = log.newest_first().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["e4", "e3", "e2"]);
        assert!(log.get("e0").is_none());
        assert_eq!(log.get("e3").map(|e| e.received_at), Some(3));
    }
}
