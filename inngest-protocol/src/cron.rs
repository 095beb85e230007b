//! Cron schedules, checked at compile time as the Inngest server reads them.
//!
//! The server (`pkg/inngest/trigger.go` `CronTrigger.Validate`) parses a schedule with
//! robfig/cron's standard parser: exactly five fields (minute, hour, day of month, month, day
//! of week), names only in the month (`JAN`-`DEC`) and day-of-week (`SUN`-`SAT`) fields, days
//! of the week from 0 to 6, no `@daily`-style descriptors, no `L`, `W` or `#`, and an optional
//! `TZ=<zone> ` (or `CRON_TZ=<zone> `) prefix. Those rules, and the bounds of each field, are
//! checked here, each error naming the field. `#[inngest::function]` checks its `cron`
//! triggers with it at compile time, and the engine checks the schedules apps sync.

use crate::limits;

/// A field of a schedule as robfig/cron reads it.
struct Field {
    name: &'static str,
    bounds: (u32, u32),
    range: &'static str,
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        bounds: (0, 59),
        range: "minutes go from 0 to 59",
        names: &[],
    },
    Field {
        name: "hour",
        bounds: (0, 23),
        range: "hours go from 0 to 23",
        names: &[],
    },
    Field {
        name: "day-of-month",
        bounds: (1, 31),
        range: "days of the month go from 1 to 31",
        names: &[],
    },
    Field {
        name: "month",
        bounds: (1, 12),
        range: "months go from 1 to 12",
        names: &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ],
    },
    Field {
        name: "day-of-week",
        bounds: (0, 6),
        range: "days of the week go from 0 (Sunday) to 6 (Saturday)",
        names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    },
];

/// `Ok` when the server accepts `schedule`, else why not (a message naming the field).
pub fn check(schedule: &str) -> Result<(), String> {
    let schedule = schedule.trim();
    if schedule.is_empty() {
        return Err("the cron schedule is empty; write five fields, such as \"0 9 * * *\"".into());
    }
    if schedule.chars().count() > limits::MAX_CRON_LENGTH {
        return Err(format!(
            "a cron schedule is at most {} characters long, Inngest's limit",
            limits::MAX_CRON_LENGTH
        ));
    }
    let fields = without_time_zone(schedule)?;
    if fields.starts_with('@') {
        return Err(format!(
            "`{fields}`: Inngest does not accept `@` descriptors; write the five fields, \
             such as \"0 0 * * *\" for every day at midnight"
        ));
    }
    let parts: Vec<&str> = fields.split_whitespace().collect();
    if parts.len() != FIELDS.len() {
        return Err(format!(
            "`{fields}` has {} field{}; Inngest expects exactly 5: minute, hour, day of month, \
             month and day of week, such as \"0 9 * * MON-FRI\"",
            parts.len(),
            if parts.len() == 1 { "" } else { "s" }
        ));
    }
    for (field, part) in FIELDS.iter().zip(&parts) {
        server_dialect(field, part)?;
    }
    Ok(())
}

/// The fields of `schedule`, after its `TZ=<zone> ` prefix if it has one.
fn without_time_zone(schedule: &str) -> Result<&str, String> {
    let Some(rest) = schedule
        .strip_prefix("TZ=")
        .or_else(|| schedule.strip_prefix("CRON_TZ="))
    else {
        return Ok(schedule);
    };
    let Some((zone, fields)) = rest.split_once(char::is_whitespace) else {
        return Err(format!(
            "`{schedule}` names a time zone but no schedule; write the fields after it, \
             such as \"TZ=Europe/Paris 0 9 * * *\""
        ));
    };
    let valid_zone = !zone.is_empty()
        && zone.split('/').all(|part| {
            part.starts_with(|c: char| c.is_ascii_alphabetic())
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        });
    if !valid_zone {
        return Err(format!(
            "`{zone}` is not a time zone name; write an IANA name, such as \
             \"TZ=Europe/Paris 0 9 * * *\" or \"TZ=UTC 0 9 * * *\""
        ));
    }
    Ok(fields.trim_start())
}

/// What robfig/cron refuses in one field and croner would accept, and the bounds of each
/// field, with a message that names the field.
fn server_dialect(field: &Field, part: &str) -> Result<(), String> {
    let name = field.name;
    let mut rest = part;
    while let Some(start) = rest.find(|c: char| !is_plain(c)) {
        rest = &rest[start..];
        let end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len())
            .max(rest.chars().next().map_or(1, char::len_utf8));
        let found = &rest[..end];
        rest = &rest[end..];
        if field.names.iter().any(|n| n.eq_ignore_ascii_case(found)) {
            continue;
        }
        if ["L", "W", "LW", "#"]
            .iter()
            .any(|special| found.eq_ignore_ascii_case(special))
        {
            return Err(format!(
                "`{found}` in the {name} field `{part}`: Inngest's cron schedules have no \
                 `L`, `W` or `#`"
            ));
        }
        return Err(if found.starts_with(|c: char| c.is_ascii_alphabetic()) {
            format!(
                "`{found}` in the {name} field `{part}`: names are allowed only in the month \
                 field (JAN-DEC) and the day-of-week field (SUN-SAT)"
            )
        } else {
            format!("unexpected `{found}` in the {name} field `{part}`")
        });
    }
    let (min, max) = field.bounds;
    for item in part.split(',') {
        if item.matches('/').count() > 1 {
            return Err(format!(
                "`{item}` in the {name} field `{part}`: a step is written once, as `<range>/<step>`"
            ));
        }
        let mut range_and_step = item.split('/');
        let range = range_and_step.next().unwrap_or(item);
        let wildcard = matches!(range, "*" | "?");
        if !wildcard && (range.contains(['*', '?']) || range.matches('-').count() > 1) {
            return Err(format!(
                "`{range}` in the {name} field `{part}` is not a value, a range `a-b`, `*` or `?`"
            ));
        }
        if range.split('-').any(str::is_empty) {
            return Err(format!(
                "`{item}` in the {name} field `{part}` is incomplete: a value is missing"
            ));
        }
        if let Some((Ok(low), Ok(high))) = range
            .split_once('-')
            .map(|(low, high)| (low.parse::<u32>(), high.parse::<u32>()))
        {
            if low > high {
                return Err(format!(
                    "`{range}` in the {name} field `{part}`: a range goes from the lower value \
                     to the higher one"
                ));
            }
        }
        for bound in range.split('-') {
            if let Ok(n) = bound.parse::<u32>() {
                if !(min..=max).contains(&n) {
                    return Err(format!(
                        "`{n}` is out of range in the {name} field `{part}`: {}",
                        field.range
                    ));
                }
            }
        }
        if let Some(step) = range_and_step.next() {
            if !matches!(step.parse::<u32>(), Ok(1..)) {
                return Err(format!(
                    "`{item}` in the {name} field `{part}`: a step must be a number of at least 1"
                ));
            }
        }
    }
    Ok(())
}

/// A character any field may hold: digits and `* / , - ?`.
fn is_plain(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '/' | ',' | '-' | '?')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_the_server_accepts() {
        for schedule in [
            "0 9 * * *",
            "*/15 * * * *",
            "0 9 * * MON-FRI",
            "0 9 1 JAN,jul *",
            "30 2 1-15/2 * sun",
            "0/10 * * * *",
            "TZ=Europe/Paris 0 9 * * *",
            "CRON_TZ=America/Argentina/Buenos_Aires 0 9 * * 1",
            "TZ=Etc/GMT+5 0 0 * * 0",
            "  0 0 * * 6  ",
            "0 0 ? * *",
        ] {
            assert_eq!(check(schedule), Ok(()), "{schedule}");
        }
    }

    #[test]
    fn refuses_what_the_server_refuses() {
        for (schedule, message) in [
            ("", "empty"),
            ("0 9 * *", "has 4 fields"),
            ("0 0 9 * * *", "has 6 fields"),
            ("@daily", "descriptors"),
            ("0 9 L * *", "`L` in the day-of-month field"),
            ("0 9 * * 5L", "`L` in the day-of-week field"),
            ("0 9 15W * *", "`W` in the day-of-month field"),
            ("0 9 * * 1#2", "`#` in the day-of-week field"),
            ("0 9 * * 7", "`7` is out of range in the day-of-week field"),
            (
                "0 9 * * 1-7",
                "`7` is out of range in the day-of-week field",
            ),
            ("MON 9 * * *", "names are allowed only"),
            ("0 9 * * JAN", "names are allowed only"),
            ("60 9 * * *", "`60` is out of range in the minute field"),
            ("0 24 * * *", "`24` is out of range in the hour field"),
            ("0 9 0 * *", "`0` is out of range in the day-of-month field"),
            (
                "0 9 32 * *",
                "`32` is out of range in the day-of-month field",
            ),
            ("0 9 * 13 *", "`13` is out of range in the month field"),
            ("*/0 * * * *", "a step must be a number of at least 1"),
            ("*/ * * * *", "a step must be a number of at least 1"),
            ("5-3 * * * *", "a range goes from the lower value"),
            ("1- * * * *", "is incomplete"),
            ("1,,2 * * * *", "is incomplete"),
            ("*/5/2 * * * *", "a step is written once"),
            ("1-2-3 * * * *", "is not a value, a range"),
            ("*-5 * * * *", "is not a value, a range"),
            ("0 9 * * % ", "unexpected `%`"),
            ("TZ=Europe/Paris", "no schedule"),
            ("TZ=Europe/Par!s 0 9 * * *", "not a time zone name"),
            ("TZ= 0 9 * * *", "not a time zone name"),
        ] {
            let error = check(schedule).expect_err(schedule);
            assert!(error.contains(message), "{schedule}: {error}");
        }
        assert!(check(&"1,".repeat(128))
            .unwrap_err()
            .contains("at most 255"));
    }
}
