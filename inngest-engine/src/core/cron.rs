//! Cron triggers: five-field schedules, with an optional `TZ=<zone> ` prefix (read, but the
//! engine fires in UTC).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A parsed schedule.
pub(crate) struct Schedule(croner::Cron);

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Schedule")
    }
}

impl Schedule {
    /// Parses a schedule.
    pub(crate) fn parse(schedule: &str) -> Result<Schedule, String> {
        let fields = match schedule.trim().split_once(' ') {
            Some((tz, rest)) if tz.starts_with("TZ=") || tz.starts_with("CRON_TZ=") => rest,
            _ => schedule.trim(),
        };
        croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Disallowed)
            .build()
            .parse(fields)
            .map(Schedule)
            .map_err(|e| e.to_string())
    }

    /// A `TZ=` zone the engine cannot apply (it fires in UTC then).
    pub(crate) fn unsupported_zone(&self) -> Option<&str> {
        None
    }

    /// The first time the schedule fires after `after_ms` (ms since the epoch).
    pub(crate) fn next_after(&self, after_ms: u64) -> Option<u64> {
        let after = UNIX_EPOCH + Duration::from_millis(after_ms);
        let after: chrono::DateTime<chrono::Utc> = after.into();
        let next = self.0.find_next_occurrence(&after, false).ok()?;
        let next: SystemTime = next.into();
        Some(inngest_protocol::time::unix_millis(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_minute() {
        let s = Schedule::parse("TZ=Europe/Paris * * * * *").unwrap();
        assert_eq!(s.next_after(60_000 * 10 + 5), Some(60_000 * 11));
        assert!(Schedule::parse("61 * * * *").is_err());
    }
}

/// The jitter of a cron tick, in ms: between 1 s and `max_ms`, the same for the same tick
/// (server `DeterministicJitter`, seeded by the tick's job).
pub(crate) fn jitter(function: &str, schedule: &str, at_ms: u64, max_ms: u64) -> u64 {
    const MIN_MS: u64 = 1_000;
    if max_ms <= MIN_MS {
        return if max_ms == 0 { 0 } else { MIN_MS };
    }
    // FNV-1a over the tick's identity.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in function
        .bytes()
        .chain(schedule.bytes())
        .chain(at_ms.to_be_bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    MIN_MS + hash % (max_ms - MIN_MS)
}
