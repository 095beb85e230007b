//! Queue items: the calls a run needs, in order. Each call request Inngest makes (a
//! discovery, a planned step, a retry) is one queue item with its own attempt count, as on the
//! server (protocol.md 3.3).

use std::collections::VecDeque;

use inngest_protocol::call::DISCOVERY_STEP_ID;

/// One call to make for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueueItem {
    /// The run.
    pub run_id: String,
    /// `"step"` (discovery) or the hashed id of the step to run.
    pub step_id: String,
    /// The 0-based attempt.
    pub attempt: u32,
}

impl QueueItem {
    /// A discovery call, first attempt.
    pub(crate) fn discovery(run_id: &str) -> QueueItem {
        QueueItem::step(run_id, DISCOVERY_STEP_ID)
    }

    /// A call of one planned step, first attempt.
    pub(crate) fn step(run_id: &str, step_id: &str) -> QueueItem {
        QueueItem {
            run_id: run_id.to_owned(),
            step_id: step_id.to_owned(),
            attempt: 0,
        }
    }

    /// The same call, one attempt later.
    pub(crate) fn retry(&self) -> QueueItem {
        QueueItem {
            attempt: self.attempt + 1,
            ..self.clone()
        }
    }
}

/// The items ready to be called, in order.
#[derive(Debug, Default)]
pub(crate) struct Ready {
    items: VecDeque<QueueItem>,
}

impl Ready {
    pub(crate) fn push(&mut self, item: QueueItem) {
        self.items.push_back(item);
    }

    pub(crate) fn pop(&mut self) -> Option<QueueItem> {
        self.items.pop_front()
    }

    pub(crate) fn remove_run(&mut self, run_id: &str) {
        self.items.retain(|i| i.run_id != run_id);
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The items in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &QueueItem> {
        self.items.iter()
    }
}
