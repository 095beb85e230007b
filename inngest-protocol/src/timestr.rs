//! Inngest time strings (`"30s"`, `"2h45m"`, `"1d"`, `"1w"`), as the server parses them with
//! `str2duration`: a sequence of `<integer><unit>` with units `ns us µs ms s m h d w`.

use std::time::Duration;

pub use crate::limits::MAX_SLEEP;

/// Parses a time string. Fractions and signs are refused, as the server refuses them.
pub fn parse(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("an empty time string".to_owned());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "`{s}` is not a time string such as \"30s\", \"2h45m\" or \"1d\""
            ));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{s}` has a number that is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let one = match unit {
            "ns" => Duration::from_nanos(1),
            "us" | "µs" => Duration::from_micros(1),
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            "d" => Duration::from_secs(86_400),
            "w" => Duration::from_secs(7 * 86_400),
            "" => {
                return Err(format!(
                    "`{s}` lacks a unit after {n} (ns, us, ms, s, m, h, d or w)"
                ))
            }
            other => {
                return Err(format!(
                    "`{s}` has the unknown unit `{other}` (expected ns, us, ms, s, m, h, d or w)"
                ))
            }
        };
        let part = one
            .checked_mul(u32::try_from(n).map_err(|_| format!("`{s}` is too long"))?)
            .ok_or_else(|| format!("`{s}` is too long"))?;
        total = total
            .checked_add(part)
            .ok_or_else(|| format!("`{s}` is too long"))?;
    }
    Ok(total)
}

/// Formats a duration as a time string the server reads back exactly: `"1d2h3m4s"`,
/// `"1500ms"`, `"0s"`.
pub fn format(d: Duration) -> String {
    if d.subsec_nanos() != 0 {
        if d.subsec_nanos() % 1_000_000 == 0 {
            return format!("{}ms", d.as_millis());
        }
        return format!("{}ns", d.as_nanos());
    }
    let mut secs = d.as_secs();
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_time_strings() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2h45m"), Ok(Duration::from_secs(2 * 3600 + 45 * 60)));
        assert_eq!(parse("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("1w"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse("150ms"), Ok(Duration::from_millis(150)));
        assert_eq!(parse("5µs"), Ok(Duration::from_micros(5)));
    }

    #[test]
    fn refuses_what_the_server_refuses() {
        assert_eq!(
            parse("10"),
            Err("`10` lacks a unit after 10 (ns, us, ms, s, m, h, d or w)".to_owned())
        );
        assert_eq!(
            parse("3y"),
            Err("`3y` has the unknown unit `y` (expected ns, us, ms, s, m, h, d or w)".to_owned())
        );
        assert!(parse("").is_err());
        assert!(parse("1.5h").is_err());
        assert!(parse("-1s").is_err());
        assert!(parse("h").is_err());
    }

    #[test]
    fn formats_round_trip() {
        for d in [0, 1, 59, 60, 61, 3600, 86_400, 90_061, 366 * 86_400] {
            let d = Duration::from_secs(d);
            assert_eq!(parse(&format(d)), Ok(d), "{}", format(d));
        }
        assert_eq!(format(Duration::from_secs(90_061)), "1d1h1m1s");
        assert_eq!(format(Duration::from_millis(1500)), "1500ms");
        assert_eq!(
            parse(&format(Duration::from_nanos(1_000_001))),
            Ok(Duration::from_nanos(1_000_001))
        );
    }
}
