//! Retries as the server schedules them (`pkg/backoff`, `pkg/execution/queue`): the default
//! count, the backoff table with its jitter, and `Retry-After` (protocol.md section 3.1).

use std::time::{Duration, SystemTime};

pub use crate::limits::{DEFAULT_RETRIES, MAX_RETRIES};

/// The server's backoff table (`pkg/backoff/backoff.go`), indexed by the attempt that failed;
/// the last entry repeats.
pub const BACKOFF: [Duration; 10] = [
    Duration::from_secs(15),
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(2 * 60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(20 * 60),
    Duration::from_secs(40 * 60),
    Duration::from_secs(3600),
    Duration::from_secs(2 * 3600),
];

/// The most jitter the server adds to a backoff: a flat 0 to 30 s.
pub const MAX_JITTER: Duration = Duration::from_secs(30);

/// The shortest delay `Retry-After` can ask for (`MinRetryDuration`).
pub const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The longest delay `Retry-After` can ask for (`MaxRetryDuration`).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The delay after the 0-based attempt `attempt` failed, before jitter.
pub fn backoff(attempt: u32) -> Duration {
    BACKOFF[(attempt as usize).min(BACKOFF.len() - 1)]
}

/// The delay a `Retry-After` value asks for at `now`, as the server reads it (`ParseRetry`):
/// 7 characters or fewer are whole seconds (more than 0), anything longer is a date (RFC 3339,
/// `2006-01-02T15:04:05`, an HTTP date, `2006-01-02`); clamped to 1 s ..= 24 h. `None` when it
/// says nothing usable (then the backoff table applies).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = if value.len() <= 7 {
        let secs: u64 = value.parse().ok().filter(|s| *s > 0)?;
        Duration::from_secs(secs)
    } else {
        let at =
            crate::time::parse_rfc3339(value).or_else(|| crate::time::parse_http_date(value))?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(delay.clamp(MIN_RETRY_AFTER, MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn the_servers_table() {
        let mins: Vec<u64> = (0..12).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(
            mins,
            [15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200, 7200, 7200]
        );
    }

    #[test]
    fn retry_after_in_every_form() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("0", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(
            parse_retry_after("2023-11-14T22:14:20Z", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:15:20 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("2020-01-01T00:00:00Z", now),
            Some(MIN_RETRY_AFTER),
            "a past date is the shortest delay"
        );
        assert_eq!(parse_retry_after("9999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon-ish, maybe", now), None);
    }
}
