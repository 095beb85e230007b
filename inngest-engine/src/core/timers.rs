//! One deadline queue for everything the core waits for (style.md 17): retries, sleeps, wait
//! and invoke timeouts, expiring cancellation rules and cron ticks. The shell sleeps until
//! [`Timers::next`]; a run's timers are removed with it, so nothing outlives its run.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::queue::QueueItem;
use super::tracked::TrackedTree;

/// A key of the queue: when, then the order of insertion.
pub(crate) type TimerKey = (u64, u64);

/// What happens when a timer is due.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Timer {
    /// A call is due again (a retry after its backoff).
    Enqueue(QueueItem),
    /// A step Inngest itself finishes: a sleep ends, a wait or an invoke times out.
    Resume {
        /// The run.
        run_id: String,
        /// The hashed step id.
        step: String,
        /// The memo it resumes with.
        memo: Value,
    },
    /// A pause (a cancellation rule) stops listening.
    ExpirePause {
        /// The run.
        run_id: String,
        /// The pause.
        pause: u64,
    },
    /// A run that has not started by its `timeouts.start` is cancelled.
    StartTimeout {
        /// The run.
        run_id: String,
    },
    /// A run that has not finished by its `timeouts.finish` is cancelled.
    FinishTimeout {
        /// The run.
        run_id: String,
    },
    /// A throttled backlog may go on: dispatch again.
    Wake,
    /// A debounce's period may have passed.
    Debounce {
        /// The function and key.
        key: String,
    },
    /// A batch's timeout passed.
    Batch {
        /// The function and key.
        key: String,
        /// The batch.
        id: String,
    },
    /// A cron trigger fires.
    Cron {
        /// The function's slug.
        function: String,
        /// Which registration of it (a newer one has its own schedule).
        generation: u64,
        /// The schedule, as registered.
        schedule: String,
    },
}

impl Timer {
    /// The run the timer belongs to, if any: its timers go when it ends.
    fn run_id(&self) -> Option<&str> {
        match self {
            Timer::Enqueue(item) => Some(&item.run_id),
            Timer::Resume { run_id, .. }
            | Timer::ExpirePause { run_id, .. }
            | Timer::StartTimeout { run_id }
            | Timer::FinishTimeout { run_id } => Some(run_id),
            Timer::Cron { .. } | Timer::Wake | Timer::Debounce { .. } | Timer::Batch { .. } => None,
        }
    }
}

/// The deadline queue: the timers (stored) and their index by run (rebuilt at restore).
#[derive(Debug, Default)]
pub(crate) struct Timers {
    pub(super) queue: TrackedTree<TimerKey, Timer>,
    by_run: HashMap<String, Vec<TimerKey>>,
    pub(super) seq: u64,
}

impl Timers {
    /// Adds a timer due at `at` (ms since the epoch).
    pub(crate) fn add(&mut self, at: u64, timer: Timer) -> TimerKey {
        self.seq += 1;
        let key = (at, self.seq);
        if let Some(run) = timer.run_id() {
            self.by_run.entry(run.to_owned()).or_default().push(key);
        }
        self.queue.insert(key, timer);
        key
    }

    /// The timers of `queue` (restored), with their index by run rebuilt; keys go on after
    /// `seq`.
    pub(crate) fn rebuild(queue: TrackedTree<TimerKey, Timer>, seq: u64) -> Timers {
        let mut by_run: HashMap<String, Vec<TimerKey>> = HashMap::new();
        let mut max_seq = seq;
        for (key, timer) in queue.iter() {
            max_seq = max_seq.max(key.1);
            if let Some(run) = timer.run_id() {
                by_run.entry(run.to_owned()).or_default().push(*key);
            }
        }
        Timers {
            queue,
            by_run,
            seq: max_seq,
        }
    }

    /// The timers, soonest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&TimerKey, &Timer)> {
        self.queue.iter()
    }

    /// When the next timer is due.
    pub(crate) fn next(&self) -> Option<u64> {
        self.queue.first_key_value().map(|((at, _), _)| *at)
    }

    /// When the next timer other than a cron tick is due: while there is one, some work is
    /// still under way.
    pub(crate) fn next_work(&self) -> Option<u64> {
        self.queue
            .iter()
            .find(|(_, t)| !matches!(t, Timer::Cron { .. }))
            .map(|((at, _), _)| *at)
    }

    /// Takes the next timer due at or before `now`, with when it was due.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<(u64, Timer)> {
        let (&key, _) = self
            .queue
            .first_key_value()
            .filter(|((at, _), _)| *at <= now)?;
        let timer = self.queue.remove(&key)?;
        if let Some(run) = timer.run_id() {
            if let Some(keys) = self.by_run.get_mut(run) {
                keys.retain(|k| *k != key);
                if keys.is_empty() {
                    self.by_run.remove(run);
                }
            }
        }
        Some((key.0, timer))
    }

    /// Removes every timer of a run.
    pub(crate) fn remove_run(&mut self, run_id: &str) {
        for key in self.by_run.remove(run_id).unwrap_or_default() {
            self.queue.remove(&key);
        }
    }

    /// Removes the timers of one step of a run (a wait resumed before its timeout).
    pub(crate) fn remove_step(&mut self, run_id: &str, step: &str) {
        let Some(keys) = self.by_run.get_mut(run_id) else {
            return;
        };
        let queue = &mut self.queue;
        keys.retain(|key| {
            let mine = matches!(queue.get(key), Some(Timer::Resume { step: s, .. }) if s == step);
            if mine {
                queue.remove(key);
            }
            !mine
        });
    }

    /// The timers of a run, soonest first, with when they are due.
    pub(crate) fn of_run(&self, run_id: &str) -> Vec<(u64, &Timer)> {
        let mut timers: Vec<(u64, &Timer)> = self
            .by_run
            .get(run_id)
            .into_iter()
            .flatten()
            .filter_map(|key| Some((key.0, self.queue.get(key)?)))
            .collect();
        timers.sort_by_key(|(at, _)| *at);
        timers
    }

    /// How many timers are waiting.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resume(run: &str, step: &str) -> Timer {
        Timer::Resume {
            run_id: run.into(),
            step: step.into(),
            memo: Value::Null,
        }
    }

    #[test]
    fn due_in_order_and_removed_with_their_run() {
        let mut t = Timers::default();
        t.add(30, resume("a", "s1"));
        t.add(10, resume("b", "s1"));
        t.add(20, resume("a", "s2"));
        assert_eq!(t.next(), Some(10));
        assert!(t.pop_due(5).is_none());
        assert!(matches!(t.pop_due(10), Some((10, Timer::Resume { run_id, .. })) if run_id == "b"));
        t.remove_run("a");
        assert_eq!((t.next(), t.len()), (None, 0));
    }

    #[test]
    fn a_steps_timer_goes_alone() {
        let mut t = Timers::default();
        t.add(10, resume("a", "s1"));
        t.add(20, resume("a", "s2"));
        t.remove_step("a", "s1");
        assert_eq!(t.next(), Some(20));
    }
}
