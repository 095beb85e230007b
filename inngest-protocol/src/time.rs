//! Times on the wire: RFC 3339 (sleeps until a time, timeouts, `Retry-After`) and the HTTP
//! dates of `Retry-After` (RFC 1123, RFC 850, asctime). Pure: the current time is passed in.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Formats a time as RFC 3339 in UTC with whole seconds, e.g. `2023-11-14T22:13:20Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Formats a time as RFC 3339 in UTC with milliseconds, e.g. `2023-11-14T22:13:20.123Z`.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let ms = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .subsec_millis();
    let whole = rfc3339(t);
    format!("{}.{ms:03}Z", whole.trim_end_matches('Z'))
}

/// Milliseconds since the Unix epoch (0 before it).
pub fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The time `ms` milliseconds after the Unix epoch.
pub fn from_unix_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// Parses an RFC 3339 time such as `2023-11-14T22:13:20Z`, `...20.5Z` or `...20+01:00`; also
/// `2006-01-02T15:04:05` (read as UTC) and a bare date `2006-01-02`, which the server accepts.
/// Out-of-range values are `None`, never a panic.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let (date, rest) = match s.split_once(['T', 't', ' ']) {
        Some(parts) => parts,
        None => (s, "00:00:00Z"),
    };
    let mut d = date.split('-');
    let (y, m, day): (i64, u32, u32) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    if d.next().is_some() || !(0..=9999).contains(&y) {
        return None;
    }
    let (clock, offset_secs) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0i64)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (c, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':').unwrap_or((&off[1..], "0"));
        let (oh, om): (i64, i64) = (oh.parse().ok()?, om.parse().ok()?);
        if oh > 23 || om > 59 {
            return None;
        }
        (c, sign * (oh * 3600 + om * 60))
    } else {
        (rest, 0)
    };
    let mut c = clock.split(':');
    let (h, mi): (i64, i64) = (c.next()?.parse().ok()?, c.next()?.parse().ok()?);
    let sec: f64 = c.next().unwrap_or("0").parse().ok()?;
    if c.next().is_some()
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || !(0..=23).contains(&h)
        || !(0..=59).contains(&mi)
        || !(0.0..61.0).contains(&sec)
    {
        return None;
    }
    at(y, m, day, h * 3600 + mi * 60 - offset_secs, sec)
}

/// Parses an HTTP date: RFC 1123 (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) or asctime (`Sun Nov  6 08:49:37 1994`).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let words: Vec<&str> = s.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    let (day, month, year, clock) = match words.as_slice() {
        // RFC 1123 / RFC 822: Sun, 06 Nov 1994 08:49:37 GMT
        [_, day, month, year, clock, zone] if is_utc(zone) => (*day, *month, *year, *clock),
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [_, date, clock, zone] if is_utc(zone) => {
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            (day, month, year, *clock)
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [_, month, day, clock, year] => (*day, *month, *year, *clock),
        _ => return None,
    };
    let day: u32 = day.parse().ok()?;
    let month = month_number(month)?;
    let mut year: i64 = year.parse().ok()?;
    if year < 100 {
        // RFC 850's two-digit years, read as RFC 7231 says (within 50 years).
        year += if year < 70 { 2000 } else { 1900 };
    }
    let mut c = clock.split(':');
    let (h, mi, sec): (i64, i64, i64) = (
        c.next()?.parse().ok()?,
        c.next()?.parse().ok()?,
        c.next()?.parse().ok()?,
    );
    if !(1..=31).contains(&day)
        || !(0..=23).contains(&h)
        || !(0..=59).contains(&mi)
        || !(0..=60).contains(&sec)
    {
        return None;
    }
    at(year, month, day, h * 3600 + mi * 60, sec as f64)
}

fn is_utc(zone: &str) -> bool {
    matches!(zone, "GMT" | "UTC" | "UT" | "Z" | "+0000")
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.get(..3)?.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .map(|i| i as u32 + 1)
}

/// The instant `secs_of_day` seconds (plus `frac` seconds) after midnight UTC of the date;
/// `None` before the epoch or past year 9999.
fn at(y: i64, m: u32, d: u32, secs_of_day: i64, frac: f64) -> Option<SystemTime> {
    if !(0..=9999).contains(&y) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    let secs = days.checked_mul(86_400)?.checked_add(secs_of_day)?;
    let whole = u64::try_from(secs).ok()?;
    UNIX_EPOCH
        .checked_add(Duration::from_secs(whole))?
        .checked_add(Duration::try_from_secs_f64(frac).ok()?)
}

/// (year, month, day) to days since 1970-01-01 (Howard Hinnant's `days_from_civil`); the
/// year is within 0..=9999, so nothing overflows.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // leap day
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_712_345_678_901);
        assert_eq!(rfc3339(t), "2024-04-05T19:34:38Z");
        assert_eq!(rfc3339_millis(t), "2024-04-05T19:34:38.901Z");
    }

    #[test]
    fn parses_what_it_formats_and_offsets() {
        for secs in [0_u64, 951_782_400, 1_712_345_678, 1_900_000_000] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_rfc3339("2023-11-14T23:13:20+01:00"), Some(t));
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20"), Some(t));
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.5Z"),
            Some(t + Duration::from_millis(500))
        );
        assert_eq!(
            parse_rfc3339("2023-11-14"),
            Some(t - Duration::from_secs(22 * 3600 + 13 * 60 + 20))
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2023-13-14T22:13:20Z"), None);
    }

    #[test]
    fn huge_years_are_refused_not_a_panic() {
        assert_eq!(parse_rfc3339("9999999999999-01-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("-5-01-01T00:00:00Z"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 99999999999 08:49:37 GMT"),
            None
        );
    }

    #[test]
    fn http_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(t));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
    }
}
