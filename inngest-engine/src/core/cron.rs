//! Cron triggers: five-field schedules (no seconds, no `@daily` descriptors at sync, as the
//! server's parser), with an optional `TZ=<zone> ` or `CRON_TZ=<zone> ` prefix that sets the
//! zone the fields are read in (robfig/cron's behaviour), UTC otherwise.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::TimeZone;

/// A parsed schedule.
pub(crate) struct Schedule {
    cron: croner::Cron,
    zone: chrono_tz::Tz,
}

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schedule")
            .field("zone", &self.zone.name())
            .finish_non_exhaustive()
    }
}

impl Schedule {
    /// Parses a schedule.
    pub(crate) fn parse(schedule: &str) -> Result<Schedule, String> {
        let trimmed = schedule.trim();
        let (zone, fields) = match trimmed.split_once(' ') {
            Some((tz, rest)) if tz.starts_with("TZ=") || tz.starts_with("CRON_TZ=") => {
                let name = tz.split_once('=').map_or("", |(_, z)| z);
                let zone: chrono_tz::Tz = name
                    .parse()
                    .map_err(|_| format!("unknown time zone `{name}`"))?;
                (zone, rest.trim())
            }
            _ => (chrono_tz::UTC, trimmed),
        };
        if fields.starts_with('@') || fields.split_whitespace().count() != 5 {
            return Err("a schedule has five fields".to_owned());
        }
        croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Disallowed)
            .build()
            .parse(fields)
            .map(|cron| Schedule { cron, zone })
            .map_err(|e| e.to_string())
    }

    /// The first time the schedule fires after `after_ms` (ms since the epoch).
    pub(crate) fn next_after(&self, after_ms: u64) -> Option<u64> {
        let after = UNIX_EPOCH + Duration::from_millis(after_ms);
        let after: chrono::DateTime<chrono::Utc> = after.into();
        let local = self.zone.from_utc_datetime(&after.naive_utc());
        let next = self.cron.find_next_occurrence(&local, false).ok()?;
        let next: SystemTime = next.with_timezone(&chrono::Utc).into();
        Some(inngest_protocol::time::unix_millis(next))
    }
}

/// The jitter of a cron tick, in ms: between 1 s and `max_ms`, the same for the same tick
/// (server `DeterministicJitter`, seeded by the tick's job).
pub(crate) fn jitter(function: &str, schedule: &str, at_ms: u64, max_ms: u64) -> u64 {
    const MIN_MS: u64 = 1_000;
    if max_ms <= MIN_MS {
        return if max_ms == 0 { 0 } else { MIN_MS };
    }
    let seed: Vec<u8> = function
        .bytes()
        .chain(schedule.bytes())
        .chain(at_ms.to_be_bytes())
        .collect();
    MIN_MS + super::flow::fnv1a(&seed) % (max_ms - MIN_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_minute() {
        let s = Schedule::parse("* * * * *").unwrap();
        assert_eq!(s.next_after(60_000 * 10 + 5), Some(60_000 * 11));
        assert!(Schedule::parse("61 * * * *").is_err());
        assert!(Schedule::parse("@daily").is_err());
        assert!(Schedule::parse("TZ=Nowhere/City * * * * *").is_err());
    }

    #[test]
    fn a_zone_moves_the_hour() {
        // 2023-11-14T00:00:00Z; 9:00 in Paris (UTC+1 in November) is 8:00 UTC.
        let midnight = 1_699_920_000_000;
        let hour = 3_600_000;
        let paris = Schedule::parse("TZ=Europe/Paris 0 9 * * *").unwrap();
        assert_eq!(paris.next_after(midnight), Some(midnight + 8 * hour));
        let utc = Schedule::parse("0 9 * * *").unwrap();
        assert_eq!(utc.next_after(midnight), Some(midnight + 9 * hour));
        let tokyo = Schedule::parse("CRON_TZ=Asia/Tokyo 0 9 * * *").unwrap();
        assert_eq!(tokyo.next_after(midnight), Some(midnight + 24 * hour));
    }

    #[test]
    fn jitter_is_stable_and_bounded() {
        let j = jitter("f", "* * * * *", 60_000, 30_000);
        assert_eq!(j, jitter("f", "* * * * *", 60_000, 30_000));
        assert!((1_000..30_000).contains(&j));
        assert_eq!(jitter("f", "* * * * *", 60_000, 0), 0);
    }
}
