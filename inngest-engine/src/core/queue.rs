//! Queue items: the calls a run needs. Each call request Inngest makes (a discovery, a planned
//! step, a retry) is one queue item with its own attempt count, as on the server (protocol.md
//! 3.3).
//!
//! Ready items wait in backlogs, one per set of constraints (the server's backlogs: function,
//! throttle key for runs not started yet, concurrency keys), each ordered by score: the run's
//! creation time less its priority factor, so that older runs go first and a higher priority
//! goes earlier (`queue/item.go` `Score`). A backlog whose constraints are full waits while
//! the others go on.

use std::collections::{BTreeSet, HashMap, HashSet};

use inngest_protocol::call::DISCOVERY_STEP_ID;
use serde::{Deserialize, Serialize};

use super::flow::concurrency::Limit;
use super::flow::gcra::Rate;
use super::tracked::TrackedMap;

/// One call to make for a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QueueItem {
    /// The run.
    pub run_id: String,
    /// `"step"` (discovery) or the hashed id of the step to run.
    pub step_id: String,
    /// The 0-based attempt.
    pub attempt: u32,
    /// The item's id (the server's job id, in `ctx.qi_id`): the same for all its attempts;
    /// `0` until it is first called, when it takes the id of that call.
    #[serde(default)]
    pub job: u64,
    /// Its dispatch generation (`x-inngest-generation-id`, the server's `GenerationID`): 1
    /// for its first call, one more each time it is queued again (a retry, a call lost in a
    /// restart), so that a checkpoint from a call superseded since is refused.
    #[serde(default)]
    pub generation: u32,
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
            job: 0,
            generation: 1,
        }
    }

    /// The same call, one attempt later.
    pub(crate) fn retry(&self) -> QueueItem {
        QueueItem {
            attempt: self.attempt + 1,
            ..self.requeued()
        }
    }

    /// The same call, the same attempt, queued again (server `Requeue`): the next
    /// generation.
    pub(crate) fn requeued(&self) -> QueueItem {
        QueueItem {
            generation: self.generation.max(1) + 1,
            ..self.clone()
        }
    }
}

/// What a backlog's items are held to before they are called.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Gate {
    /// Concurrency limits.
    pub limits: Vec<Limit>,
    /// The throttle, for runs that have not started.
    pub throttle: Option<(String, Rate)>,
}

impl Gate {
    fn key(&self) -> String {
        let mut key = String::new();
        for l in &self.limits {
            key.push_str(&l.key);
            key.push('\u{1}');
        }
        if let Some((t, _)) = &self.throttle {
            key.push('\u{2}');
            key.push_str(t);
        }
        key
    }
}

/// Ordered by score, then by the order of insertion.
pub(crate) type Position = (i64, u64);

/// An item waiting in a backlog, with the gate of its backlog (what is stored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Waiting {
    pub item: QueueItem,
    pub gate: Gate,
}

#[derive(Debug, Default)]
struct Backlog {
    positions: BTreeSet<Position>,
    gate: Gate,
}

/// The items ready to be called, in backlogs.
#[derive(Debug, Default)]
pub(crate) struct Ready {
    pub(super) seq: u64,
    /// Every waiting item by its position (stored); the rest is an index, rebuilt at restore.
    pub(super) items: TrackedMap<Position, Waiting>,
    backlogs: HashMap<String, Backlog>,
    /// The first item of each backlog.
    heads: BTreeSet<(Position, String)>,
    /// Where each run's items are.
    by_run: HashMap<String, Vec<(String, Position)>>,
}

impl Ready {
    /// Adds an item with its run's gate and score.
    pub(crate) fn push(&mut self, item: QueueItem, gate: Gate, score: i64) {
        self.seq += 1;
        let position = (score, self.seq);
        self.place(position, &item, &gate);
        self.items.insert(position, Waiting { item, gate });
    }

    /// Indexes an item at `position`.
    fn place(&mut self, position: Position, item: &QueueItem, gate: &Gate) {
        let key = gate.key();
        self.by_run
            .entry(item.run_id.clone())
            .or_default()
            .push((key.clone(), position));
        let backlog = self.backlogs.entry(key.clone()).or_insert_with(|| Backlog {
            positions: BTreeSet::new(),
            gate: gate.clone(),
        });
        let old_head = backlog.positions.first().copied();
        backlog.positions.insert(position);
        if old_head.is_none_or(|h| position < h) {
            if let Some(h) = old_head {
                self.heads.remove(&(h, key.clone()));
            }
            self.heads.insert((position, key));
        }
    }

    /// The items of `items` (restored), with their backlogs rebuilt; positions go on after
    /// `seq`.
    pub(crate) fn rebuild(items: TrackedMap<Position, Waiting>, seq: u64) -> Ready {
        let mut ready = Ready {
            seq,
            ..Ready::default()
        };
        let mut all: Vec<(Position, Waiting)> =
            items.iter().map(|(p, w)| (*p, w.clone())).collect();
        all.sort_by_key(|(p, _)| *p);
        for (position, waiting) in &all {
            ready.seq = ready.seq.max(position.1);
            ready.place(*position, &waiting.item, &waiting.gate);
        }
        ready.items = items;
        ready
    }

    /// The first backlog, in the order of their first items, that is not `blocked`.
    pub(crate) fn first_open(&self, blocked: &HashSet<String>) -> Option<(String, Gate)> {
        self.heads
            .iter()
            .find(|(_, key)| !blocked.contains(key))
            .and_then(|(_, key)| Some((key.clone(), self.backlogs.get(key)?.gate.clone())))
    }

    /// Takes the first item of a backlog.
    pub(crate) fn pop_from(&mut self, key: &str) -> Option<QueueItem> {
        let backlog = self.backlogs.get_mut(key)?;
        let position = backlog.positions.pop_first()?;
        self.heads.remove(&(position, key.to_owned()));
        match backlog.positions.first() {
            Some(next) => {
                self.heads.insert((*next, key.to_owned()));
            }
            None => {
                self.backlogs.remove(key);
            }
        }
        let item = self.items.remove(&position)?.item;
        if let Some(places) = self.by_run.get_mut(&item.run_id) {
            places.retain(|(k, p)| !(k == key && *p == position));
            if places.is_empty() {
                self.by_run.remove(&item.run_id);
            }
        }
        Some(item)
    }

    /// Drops every item of a run.
    pub(crate) fn remove_run(&mut self, run_id: &str) {
        for (key, position) in self.by_run.remove(run_id).unwrap_or_default() {
            self.items.remove(&position);
            let Some(backlog) = self.backlogs.get_mut(&key) else {
                continue;
            };
            let was_head = backlog.positions.first() == Some(&position);
            backlog.positions.remove(&position);
            if was_head {
                self.heads.remove(&(position, key.clone()));
                match backlog.positions.first() {
                    Some(next) => {
                        self.heads.insert((*next, key));
                    }
                    None => {
                        self.backlogs.remove(&key);
                    }
                }
            }
        }
    }

    /// The items of a run, in the order they go.
    pub(crate) fn of_run(&self, run_id: &str) -> Vec<&QueueItem> {
        let mut positions: Vec<Position> = self
            .by_run
            .get(run_id)
            .map(|places| places.iter().map(|(_, p)| *p).collect())
            .unwrap_or_default();
        positions.sort();
        positions
            .iter()
            .filter_map(|p| self.items.get(p).map(|w| &w.item))
            .collect()
    }

    /// How many items wait.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(key: &str) -> Gate {
        Gate {
            limits: vec![Limit {
                key: key.into(),
                limit: 1,
            }],
            throttle: None,
        }
    }

    #[test]
    fn backlogs_in_score_order_and_a_blocked_one_lets_others_go() {
        let mut r = Ready::default();
        r.push(QueueItem::discovery("a"), gate("x"), 10);
        r.push(QueueItem::discovery("b"), gate("x"), 5);
        r.push(QueueItem::discovery("c"), gate("y"), 7);
        let (first, _) = r.first_open(&HashSet::new()).unwrap();
        assert_eq!(r.pop_from(&first).unwrap().run_id, "b");
        let blocked: HashSet<String> = [gate("x").key()].into();
        let (open, _) = r.first_open(&blocked).unwrap();
        assert_eq!(r.pop_from(&open).unwrap().run_id, "c");
        r.remove_run("a");
        assert_eq!((r.len(), r.first_open(&HashSet::new())), (0, None));
    }
}
