//! Concurrency limits (`concurrency`): how many queue items of a key are being executed. As on
//! the server, the limit counts steps in progress (calls out to the app), not runs started:
//! a run that sleeps or waits holds no capacity.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// A limit a run's queue items are held to: its key (scope, function or expression value)
/// and how many may be in progress at once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Limit {
    pub key: String,
    pub limit: u32,
}

/// The queue items in progress, by concurrency key. Not stored: the calls out at a restart
/// are queued again, so nothing is in progress then.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct InProgress {
    counts: HashMap<String, u32>,
}

impl InProgress {
    /// Whether one more item fits under every limit.
    pub(crate) fn has_capacity(&self, limits: &[Limit]) -> bool {
        limits
            .iter()
            .all(|l| self.counts.get(&l.key).copied().unwrap_or(0) < l.limit)
    }

    /// Counts one more item in progress under each limit.
    pub(crate) fn take(&mut self, limits: &[Limit]) {
        for l in limits {
            *self.counts.entry(l.key.clone()).or_default() += 1;
        }
    }

    /// An item is done.
    pub(crate) fn release(&mut self, limits: &[Limit]) {
        for l in limits {
            if let Some(n) = self.counts.get_mut(&l.key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.counts.remove(&l.key);
                }
            }
        }
    }
}
