//! The core's state as a store keeps it: rows of plain data (JSON), each a key in a named
//! space, and the change set of what changed since the last one.
//!
//! The core stays pure: it remembers which entries its inputs changed
//! ([`super::tracked`]), [`Core::take_changes`] hands them over as rows, and a store writes
//! them (the shell does, in one transaction, before it releases the calls and answers those
//! inputs caused). At start, [`Core::restore`] builds the core again from the rows a store
//! loaded: indexes (pauses by event, timers by run, the backlogs, runs by event) are rebuilt,
//! calls that were out are queued again, timers that came due while the engine was stopped
//! fire at the first tick. Compiled expressions and parsed schedules are never stored: they
//! are rebuilt from the functions' configurations.
//!
//! What is stored, by space (the key, then the value, both JSON):
//!
//! | space | key | value |
//! |---|---|---|
//! | `meta` | `"globals"` | the clock, the randomness, the counters ([`Globals`]) |
//! | `apps`, `functions` | app id, slug | an app as synced; a function's configuration |
//! | `runs` | run id | a run: its events, memoized steps, history, status, flow control |
//! | `pauses` | pause id | a wait, an invoke or a cancellation rule listening for an event |
//! | `timers` | `[due, seq]` | sleeps, timeouts, retries, debounces, batches, cron ticks |
//! | `ready`, `in_flight` | position, call id | queue items waiting, and those out |
//! | `throttle`, `rate_limit`, `idempotency`, `debounces`, `batches`, `singletons` | key | flow control |
//! | `events` | event id | a received event |
//! | `signals` | signal name | the run waiting for it |
//! | `fetches` | request id | an HTTP request out for `step.fetch` or `step.ai.infer` |

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::event_log::EventLog;
use super::events::Pauses;
use super::queue::Ready;
use super::registry::{Registry, StoredFunction};
use super::timers::{Timer, Timers};
use super::tracked::{TrackedMap, TrackedTree};
use super::{Core, CoreConfig};

/// The version of the stored rows. Bump it (and teach the store to migrate or refuse the
/// older one) when a stored type changes in a way an older row no longer reads as meant; a
/// new field with `#[serde(default)]` needs no bump.
pub const STATE_VERSION: u32 = 1;

/// The space of the core's scalars.
const META: &str = "meta";
/// Its one key.
const GLOBALS: &str = "globals";

/// One changed entry of the core's state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Row {
    /// The space (the kind of entry: `runs`, `timers`, ...).
    pub space: &'static str,
    /// The key, as JSON.
    pub key: String,
    /// The value, as JSON; `None` when the entry was removed.
    pub value: Option<Vec<u8>>,
}

impl Row {
    pub(crate) fn new<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        space: &'static str,
        key: &K,
        value: Option<&V>,
    ) -> Row {
        // Serializing plain data to JSON does not fail (no map has keys that are not
        // strings or numbers); should it ever, the row reads back as an error, not as data.
        Row {
            space,
            key: serde_json::to_string(key).unwrap_or_default(),
            value: value.map(|v| serde_json::to_vec(v).unwrap_or_default()),
        }
    }
}

/// What the inputs since the last [`Core::take_changes`] changed: to be written in one
/// transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChangeSet {
    /// The entries written or removed.
    pub rows: Vec<Row>,
}

impl ChangeSet {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The whole stored state: the rows of each space, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Space, then key, then value (JSON).
    pub spaces: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
}

impl Snapshot {
    /// Applies a change set (what a store does).
    pub fn apply(&mut self, changes: &ChangeSet) {
        for row in &changes.rows {
            match &row.value {
                Some(value) => {
                    self.spaces
                        .entry(row.space.to_owned())
                        .or_default()
                        .insert(row.key.clone(), value.clone());
                }
                None => {
                    if let Some(space) = self.spaces.get_mut(row.space) {
                        space.remove(&row.key);
                        if space.is_empty() {
                            self.spaces.remove(row.space);
                        }
                    }
                }
            }
        }
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.spaces.values().all(BTreeMap::is_empty)
    }

    /// How many entries are stored in `space`.
    pub fn count(&self, space: &str) -> usize {
        self.spaces.get(space).map_or(0, BTreeMap::len)
    }
}

/// Why stored state could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct RestoreError {
    /// What could not be read, and where.
    pub message: String,
}

impl RestoreError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        RestoreError {
            message: message.into(),
        }
    }
}

/// A core built again from stored state.
#[derive(Debug)]
#[non_exhaustive]
pub struct Restored {
    /// The core, remembering its changes from now on.
    pub core: Core,
    /// What was stored but could not be kept (a function that this version of the engine
    /// refuses), one line each.
    pub warnings: Vec<String>,
    /// How many calls were out when the state was stored (they are queued again).
    pub requeued: usize,
}

/// The core's scalars: its clock, its randomness and its counters.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Globals {
    now: u64,
    rng: u64,
    next_pause: u64,
    timer_seq: u64,
    ready_seq: u64,
    generation: u64,
    event_seq: u64,
    next_call: u64,
    next_fetch: u64,
}

/// Decodes one stored row.
pub(crate) fn decode_row<K: DeserializeOwned, V: DeserializeOwned>(
    space: &str,
    key: &str,
    value: &[u8],
) -> Result<(K, V), RestoreError> {
    let k = serde_json::from_str(key).map_err(|e| {
        RestoreError::new(format!("a key of `{space}` cannot be read ({key:?}): {e}"))
    })?;
    let v = serde_json::from_slice(value)
        .map_err(|e| RestoreError::new(format!("the `{space}` entry {key} cannot be read: {e}")))?;
    Ok((k, v))
}

/// Calls `$method(space, $rows)` on every stored map of the core: the one list of what is
/// persisted.
macro_rules! each_space {
    ($core:expr, $method:ident, $rows:expr) => {
        $core.registry.apps.$method("apps", $rows);
        $core.registry.functions.$method("functions", $rows);
        $core.runs.$method("runs", $rows);
        $core.pauses.by_id.$method("pauses", $rows);
        $core.timers.queue.$method("timers", $rows);
        $core.ready.items.$method("ready", $rows);
        $core.in_flight.$method("in_flight", $rows);
        $core.flow.throttle.tat.$method("throttle", $rows);
        $core.flow.rate_limit.tat.$method("rate_limit", $rows);
        $core.flow.idempotency.expires.$method("idempotency", $rows);
        $core.flow.debounces.pending.$method("debounces", $rows);
        $core.flow.batches.open.$method("batches", $rows);
        $core.flow.singletons.runs.$method("singletons", $rows);
        $core.event_log.by_id.$method("events", $rows);
        $core.signals.waits.$method("signals", $rows);
        $core.gateways.pending.$method("fetches", $rows);
    };
}

impl Core {
    /// What changed since the last call (nothing unless the core was restored: a core made
    /// with [`Core::new`] does not remember its changes). Written in one transaction, in
    /// order, they keep a store equal to [`Core::snapshot`].
    pub fn take_changes(&mut self) -> ChangeSet {
        let mut rows = Vec::new();
        each_space!(self, drain, &mut rows);
        if !rows.is_empty() {
            rows.push(Row::new(META, GLOBALS, Some(&self.globals())));
        }
        ChangeSet { rows }
    }

    /// The whole state, as a store holds it.
    pub fn snapshot(&self) -> Snapshot {
        let mut rows = vec![Row::new(META, GLOBALS, Some(&self.globals()))];
        each_space!(self, rows, &mut rows);
        let mut snapshot = Snapshot::default();
        snapshot.apply(&ChangeSet { rows });
        snapshot
    }

    fn globals(&self) -> Globals {
        Globals {
            now: self.now,
            rng: self.rng.get_seed(),
            next_pause: self.pauses.next,
            timer_seq: self.timers.seq,
            ready_seq: self.ready.seq,
            generation: self.registry.generation,
            event_seq: self.event_log.seq,
            next_call: self.next_call,
            next_fetch: self.gateways.next,
        }
    }

    /// Builds a core again from stored state (an empty snapshot gives an empty core), which
    /// remembers its changes from then on. The calls that were out are queued again (their
    /// answers were lost with the engine), and the core's clock moves to `now`: timers due
    /// since fire at the next [`Core::tick`]. `seed` seeds the randomness of a new store.
    pub fn restore(
        config: CoreConfig,
        mut snapshot: Snapshot,
        seed: u64,
        now: SystemTime,
    ) -> Result<Restored, RestoreError> {
        let mut take = |space: &str| -> Vec<(String, Vec<u8>)> {
            snapshot
                .spaces
                .remove(space)
                .map(|rows| rows.into_iter().collect())
                .unwrap_or_default()
        };
        let mut globals = None;
        for (key, value) in take(META) {
            let (key, value): (String, Globals) = decode_row(META, &key, &value)?;
            if key != GLOBALS {
                return Err(RestoreError::new(format!(
                    "unknown entry `{key}` in `meta`"
                )));
            }
            globals = Some(value);
        }
        let globals = globals.unwrap_or(Globals {
            rng: seed,
            ..Globals::default()
        });
        let mut core = Core::new(config, globals.rng);
        core.now = globals.now;
        core.advance_clock(now);
        core.next_call = globals.next_call;
        let mut warnings = Vec::new();

        let apps = TrackedTree::restore("apps", take("apps"))?;
        let functions = take("functions")
            .into_iter()
            .map(|(k, v)| decode_row::<String, StoredFunction>("functions", &k, &v).map(|r| r.1))
            .collect::<Result<Vec<_>, _>>()?;
        core.registry = Registry::restore(
            apps,
            functions,
            globals.generation,
            core.now,
            &mut core.expressions,
            &mut warnings,
        );
        core.runs = TrackedMap::restore("runs", take("runs"))?;
        core.pauses = Pauses::rebuild(
            TrackedMap::restore("pauses", take("pauses"))?,
            globals.next_pause,
        );
        core.timers = Timers::rebuild(
            TrackedTree::restore("timers", take("timers"))?,
            globals.timer_seq,
        );
        core.ready = Ready::rebuild(
            TrackedMap::restore("ready", take("ready"))?,
            globals.ready_seq,
        );
        core.in_flight = TrackedMap::restore("in_flight", take("in_flight"))?;
        core.flow.throttle.tat = TrackedMap::restore("throttle", take("throttle"))?;
        core.flow.rate_limit.tat = TrackedMap::restore("rate_limit", take("rate_limit"))?;
        core.flow.idempotency.expires = TrackedMap::restore("idempotency", take("idempotency"))?;
        core.flow.debounces.pending = TrackedMap::restore("debounces", take("debounces"))?;
        core.flow.batches.open = TrackedMap::restore("batches", take("batches"))?;
        core.flow.singletons.runs = TrackedMap::restore("singletons", take("singletons"))?;
        core.event_log = EventLog::rebuild(
            TrackedMap::restore("events", take("events"))?,
            globals.event_seq,
        );
        core.signals.waits = TrackedTree::restore("signals", take("signals"))?;
        core.signals.swept = core.signals.waits.len();
        core.gateways.pending = TrackedTree::restore("fetches", take("fetches"))?;
        core.gateways.next = globals
            .next_fetch
            .max(core.gateways.pending.keys().copied().max().unwrap_or(0));
        if let Some(space) = snapshot.spaces.keys().next() {
            return Err(RestoreError::new(format!(
                "unknown space `{space}`: the state was written by another version of the engine"
            )));
        }
        core.rebuild_indexes();
        let requeued = core.requeue_in_flight() + core.requeue_fetches();
        core.dispatch();
        Ok(Restored {
            core,
            warnings,
            requeued,
        })
    }

    /// The indexes that are not stored: runs by event, finished runs in the order they
    /// ended, the wake-ups of throttled backlogs.
    fn rebuild_indexes(&mut self) {
        let mut runs: Vec<(u64, &str)> = self
            .runs
            .values()
            .map(|r| (r.created_at, r.id.as_str()))
            .collect();
        runs.sort();
        let mut ended: Vec<(u64, String)> = Vec::new();
        for (_, id) in runs {
            let Some(run) = self.runs.get(id) else {
                continue;
            };
            for event_id in &run.event_ids {
                self.event_runs
                    .entry(event_id.clone())
                    .or_default()
                    .push(run.id.clone());
            }
            if !run.status.is_active() {
                ended.push((run.ended_at.unwrap_or(run.created_at), run.id.clone()));
            }
        }
        ended.sort();
        self.finished = ended.into_iter().map(|(_, id)| id).collect();
        self.wakes = self
            .timers
            .iter()
            .filter(|(_, t)| matches!(t, Timer::Wake))
            .map(|((at, _), _)| *at)
            .collect();
    }

    /// Forgets the HTTP requests (`step.fetch`, `step.ai.infer`) that were out, and queues
    /// again the calls that reported them: the SDK reports the op again, and the request is
    /// made again (at least once, as a call that was out).
    fn requeue_fetches(&mut self) -> usize {
        let ids: Vec<u64> = self.gateways.pending.keys().copied().collect();
        for id in &ids {
            let Some(pending) = self.gateways.pending.remove(id) else {
                continue;
            };
            if !self.is_active(&pending.run_id) {
                continue;
            }
            if let Some(run) = self.runs.get_mut(&pending.run_id) {
                run.pending.remove(&pending.step);
            }
            self.enqueue(pending.item().requeued());
        }
        ids.len()
    }

    /// Queues again the calls that were out: nothing is in progress after a restart. Each
    /// is the next generation of its queue item (as the server's scavenger requeues an item
    /// whose lease lapsed), so a checkpoint from the call lost in the restart is refused.
    fn requeue_in_flight(&mut self) -> usize {
        let mut ids: Vec<super::CallId> = self.in_flight.keys().copied().collect();
        ids.sort();
        self.calls_by_job.clear();
        for id in &ids {
            if let Some((item, _)) = self.in_flight.remove(id) {
                if self.is_active(&item.run_id) {
                    self.enqueue(item.requeued());
                }
            }
        }
        ids.len()
    }
}
