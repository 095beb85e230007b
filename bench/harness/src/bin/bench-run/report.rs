//! The report: the machine and the command line at its head, then each phase's tables, written
//! to `report.md` (and printed), with the raw figures in `results.json`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::{json, Value};

use crate::bench::Bench;
use crate::opts::Opts;
use crate::Res;

/// Writes `report.md` and `results.json` under `opts.out`, and prints the report.
pub fn write(
    opts: &Opts,
    started: &str,
    machine: Vec<(String, String)>,
    mut bench: Bench,
) -> Res<()> {
    let mut head = format!("## Figures of {started}\n\n| machine | |\n|---|---|\n");
    for (k, v) in &machine {
        head.push_str(&format!("| {k} | {v} |\n"));
    }
    head.push_str(&format!(
        "| run | `bench-run {}` |\n\n",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    ));
    let report = head + &bench.report;
    bench.results.insert(
        "machine".into(),
        json!(machine.into_iter().collect::<BTreeMap<_, _>>()),
    );
    bench.results.insert("started".into(), json!(started));
    std::fs::write(opts.out.join("report.md"), &report).map_err(|e| e.to_string())?;
    std::fs::write(
        opts.out.join("results.json"),
        serde_json::to_vec_pretty(&Value::Object(bench.results)).expect("JSON"),
    )
    .map_err(|e| e.to_string())?;
    println!("{report}");
    eprintln!(
        "bench-run: wrote {} and {}",
        opts.out.join("report.md").display(),
        opts.out.join("results.json").display()
    );
    Ok(())
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC` (no date crate needed).
pub fn chrono_now() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3_600, (secs % 3_600) / 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02} UTC")
}
