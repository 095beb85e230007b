//! The generic cell rate algorithm the server's rate limiter and throttle use (`gcra.lua` in
//! `pkg/constraintapi/lua/helper`): one "theoretical arrival time" per key, in ms since the
//! epoch.

use serde::{Deserialize, Serialize};

use super::super::tracked::TrackedMap;

/// The theoretical arrival time of each key (ms since the epoch).
#[derive(Debug, Default)]
pub(crate) struct Gcra {
    pub(crate) tat: TrackedMap<String, f64>,
}

/// How a key is limited: `limit` per `period_ms`, with `burst` more at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Rate {
    pub limit: u32,
    pub period_ms: u64,
    pub burst: u32,
}

impl Gcra {
    /// Admits one request for `key` at `now` if the key has capacity (and counts it); else
    /// `Err(retry_at)`, when the next one would be admitted (ms since the epoch).
    pub(crate) fn admit(&mut self, key: &str, now: u64, rate: Rate) -> Result<(), u64> {
        let now_f = now as f64;
        let limit = f64::from(rate.limit.max(1));
        let emission = rate.period_ms as f64 / limit;
        let dvt = emission * (f64::from(rate.burst) + 1.0);
        let tat = self.tat.get(key).copied().unwrap_or(now_f);
        let new_tat = tat.max(now_f) + emission;
        let diff = now_f - (new_tat - dvt);
        let mut retry_at = now_f + emission;
        if diff < 0.0 && emission <= dvt {
            retry_at = now_f - diff;
        }
        let next = dvt - (tat - now_f);
        let remaining = if next > -emission {
            (next / emission).floor()
        } else {
            0.0
        };
        if remaining <= 0.0 {
            return Err(retry_at.ceil() as u64);
        }
        if self.tat.len() > 10_000 {
            self.tat.retain(|_, t| *t > now_f);
        }
        self.tat.insert(key.to_owned(), new_tat);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_a_day() {
        let mut g = Gcra::default();
        let day = 86_400_000;
        let rate = Rate {
            limit: 1,
            period_ms: day,
            burst: 0,
        };
        assert_eq!(g.admit("k", 0, rate), Ok(()));
        assert_eq!(g.admit("k", 3_600_000, rate), Err(day));
        assert_eq!(g.admit("other", 3_600_000, rate), Ok(()));
        assert_eq!(g.admit("k", day, rate), Ok(()));
    }

    #[test]
    fn ten_a_minute_with_the_rate_limits_burst_is_smooth() {
        // The rate limiter's burst is limit / 10: two at once, then one every 6 s.
        let mut g = Gcra::default();
        let rate = Rate {
            limit: 10,
            period_ms: 60_000,
            burst: 1,
        };
        assert!(g.admit("k", 0, rate).is_ok());
        assert!(g.admit("k", 0, rate).is_ok());
        assert_eq!(g.admit("k", 0, rate), Err(6_000));
        assert!(g.admit("k", 6_000, rate).is_ok());
        assert!(g.admit("k", 6_000, rate).is_err());
    }

    #[test]
    fn a_throttle_admits_its_limit_at_once() {
        // The throttle's burst is limit + burst - 1: a limit of 3 per minute admits 3 at
        // once, then one every 20 s.
        let mut g = Gcra::default();
        let rate = Rate {
            limit: 3,
            period_ms: 60_000,
            burst: 2,
        };
        for _ in 0..3 {
            assert!(g.admit("k", 0, rate).is_ok());
        }
        assert_eq!(g.admit("k", 0, rate), Err(20_000));
        assert!(g.admit("k", 20_000, rate).is_ok());
    }
}
