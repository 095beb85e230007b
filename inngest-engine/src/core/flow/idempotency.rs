//! Run idempotency: a run per function and key once in 24 hours. The key is the event's `id`
//! (else its internal id), a batch's id, or a cron tick's time (server `idempotencyKey` in
//! `executor.go`).

use super::super::tracked::TrackedMap;

/// How long a key holds (`consts.FunctionIdempotencyPeriod`).
pub(crate) const PERIOD_MS: u64 = 24 * 3600 * 1000;

/// The keys seen (by a 64-bit hash, to hold a day of runs in little memory), with when each
/// stops holding (ms since the epoch).
#[derive(Debug, Default)]
pub(crate) struct Keys {
    pub(crate) expires: TrackedMap<u64, u64>,
}

impl Keys {
    /// Whether `key` holds at `now`.
    pub(crate) fn holds(&self, key: &str, now: u64) -> bool {
        self.expires
            .get(&super::fnv1a(key.as_bytes()))
            .is_some_and(|at| *at > now)
    }

    /// Claims `key` at `now`: `true` if it was free (and now holds for 24 hours).
    pub(crate) fn claim(&mut self, key: String, now: u64) -> bool {
        if self.holds(&key, now) {
            return false;
        }
        let key = super::fnv1a(key.as_bytes());
        if self.expires.len() > 100_000 {
            self.expires.retain(|_, at| *at > now);
        }
        self.expires.insert(key, now.saturating_add(PERIOD_MS));
        true
    }
}
