//! The tables of the throughput and replay phases: medians of the rounds, the ratios against
//! the Rust SDK (computed per round, then the median) and the targets.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::bench::Bench;
use crate::stats::{fmt_int, fmt_mb, fmt_ratio, fmt_us, median};
use crate::wrk::WrkRun;

impl Bench {
    pub fn throughput_tables(
        &mut self,
        tp: &BTreeMap<u32, BTreeMap<String, Vec<WrkRun>>>,
        hwm: &BTreeMap<String, u64>,
        load_before: &str,
        load_after: &str,
    ) {
        let mut md = String::new();
        md.push_str(&format!(
            "### Throughput and latency\n\nThe 10-step call request, `wrk -t1 -c<C> -d{}s`, {} rounds; medians of the rounds. \
             Ratios are Rust ÷ the other server (req/s) and the other ÷ Rust (latency), computed per round, then the median. \
             Load average (1, 5, 15 min) at the start: {load_before}; at the end: {load_after}.\n\n",
            self.opts.seconds, self.opts.rounds
        ));
        md.push_str("| connections | server | req/s | p50 | p99 | errors | Rust req/s ÷ this | this p50 ÷ Rust p50 | this p99 ÷ Rust p99 |\n|---|---|---|---|---|---|---|---|---|\n");
        let mut summary = serde_json::Map::new();
        for (&c, by_server) in tp {
            let rust = &by_server["rust"];
            for name in self.names() {
                let runs = &by_server[&name];
                let rps = median(runs.iter().map(WrkRun::rps).collect());
                let p50 = median(runs.iter().map(|r| r.p50_us).collect());
                let p99 = median(runs.iter().map(|r| r.p99_us).collect());
                let errors: u64 = runs.iter().map(WrkRun::errors).sum();
                let capped = runs.iter().any(|r| r.requests >= r.max_requests);
                let per_round = |f: &dyn Fn(&WrkRun, &WrkRun) -> f64| {
                    median(rust.iter().zip(runs).map(|(a, b)| f(a, b)).collect())
                };
                let r_rps = per_round(&|rust, other| rust.rps() / other.rps());
                let r_p50 = per_round(&|rust, other| other.p50_us / rust.p50_us);
                let r_p99 = per_round(&|rust, other| other.p99_us / rust.p99_us);
                let dash = |x: f64| {
                    if name == "rust" {
                        "–".to_owned()
                    } else {
                        fmt_ratio(x)
                    }
                };
                md.push_str(&format!(
                    "| {c} | {} | {}{} | {} | {} | {} | {} | {} | {} |\n",
                    self.label(&name),
                    fmt_int(rps),
                    if capped { " (capped)" } else { "" },
                    fmt_us(p50),
                    fmt_us(p99),
                    errors,
                    dash(r_rps),
                    dash(r_p50),
                    dash(r_p99),
                ));
                summary.insert(
                    format!("c{c}/{name}"),
                    json!({"rps": rps, "p50_us": p50, "p99_us": p99, "errors": errors,
                           "rust_rps_ratio": r_rps, "p50_ratio": r_p50, "p99_ratio": r_p99}),
                );
            }
        }
        // Targets at 64 connections against bare hyper.
        if let (Some(rust), Some(hyper)) = (
            tp.get(&64).and_then(|m| m.get("rust")),
            tp.get(&64).and_then(|m| m.get("hyper")),
        ) {
            let share = median(
                rust.iter()
                    .zip(hyper)
                    .map(|(r, h)| r.rps() / h.rps())
                    .collect(),
            );
            let p99 = median(
                rust.iter()
                    .zip(hyper)
                    .map(|(r, h)| r.p99_us / h.p99_us)
                    .collect(),
            );
            md.push_str(&format!(
                "\nTargets at 64 connections: the Rust SDK reaches **{:.0}%** of bare hyper's req/s (target ≥ 60%: {}), \
                 and its p99 is **{:.2}×** bare hyper's (target ≤ 1.5×: {}).\n",
                share * 100.0,
                if share >= 0.6 { "met" } else { "missed" },
                p99,
                if p99 <= 1.5 { "met" } else { "missed" },
            ));
            summary.insert("target/rust_share_of_hyper".into(), json!(share));
            summary.insert("target/rust_p99_over_hyper".into(), json!(p99));
        }
        self.results
            .insert("throughput_summary".into(), Value::Object(summary));
        self.report.push_str(&md);

        // Memory under load.
        let mut mem = String::from(
            "\n### Resident memory under load\n\nPeak `VmRSS` sampled every 50 ms during the 64-connection runs (median of the rounds' peaks), \
             and the process's peak (`VmHWM`) over the whole throughput and replay phases (which include the 1,000-step requests of 68 kB).\n\n\
             | server | under load (64 connections) | peak over the run |\n|---|---|---|\n",
        );
        let mut mem_json = serde_json::Map::new();
        if let Some(by_server) = tp.get(&64) {
            for name in self.names() {
                let peak = median(
                    by_server[&name]
                        .iter()
                        .map(|r| r.peak_rss_kib as f64)
                        .collect(),
                );
                let hw = hwm.get(&name).copied().unwrap_or(0) as f64;
                mem.push_str(&format!(
                    "| {} | {} | {} |\n",
                    self.label(&name),
                    fmt_mb(peak),
                    fmt_mb(hw)
                ));
                mem_json.insert(
                    name.clone(),
                    json!({"under_load_kib": peak, "vm_hwm_kib": hw}),
                );
            }
        }
        self.results
            .insert("memory_under_load".into(), Value::Object(mem_json));
        self.report.push_str(&mem);
    }

    pub fn replay_table(
        &mut self,
        rp: &BTreeMap<u64, BTreeMap<String, Vec<WrkRun>>>,
        load_before: &str,
        load_after: &str,
    ) {
        let names = self.names();
        // The peers, whose latency is shown as a multiple of the Rust SDK's.
        let peers: Vec<String> = names
            .iter()
            .filter(|n| !matches!(n.as_str(), "rust" | "rust-before" | "hyper"))
            .cloned()
            .collect();
        let mut md = format!(
            "\n### Replay cost end to end\n\nOne request at a time (`wrk -t1 -c1 -d{}s`) of the call request with 10, 100 and 1,000 memoized steps; \
             median of the rounds' p50 latency (client side: request written to answer read). \
             Load average at the start: {load_before}; at the end: {load_after}.\n\n| steps |",
            self.opts.replay_seconds
        );
        for n in &names {
            md.push_str(&format!(" {} |", self.label(n)));
        }
        for n in &peers {
            md.push_str(&format!(" {} ÷ Rust |", self.label(n)));
        }
        md.push('\n');
        md.push_str(&"|---".repeat(1 + names.len() + peers.len()));
        md.push_str("|\n");
        let mut p50s: BTreeMap<String, BTreeMap<u64, f64>> = BTreeMap::new();
        for (&steps, by_server) in rp {
            md.push_str(&format!("| {} |", fmt_int(steps as f64)));
            for n in &names {
                let p50 = median(by_server[n].iter().map(|r| r.p50_us).collect());
                p50s.entry(n.clone()).or_default().insert(steps, p50);
                md.push_str(&format!(" {} |", fmt_us(p50)));
            }
            let rust = &by_server["rust"];
            for n in &peers {
                let ratio = median(
                    rust.iter()
                        .zip(&by_server[n])
                        .map(|(r, o)| o.p50_us / r.p50_us)
                        .collect(),
                );
                md.push_str(&format!(" {} |", fmt_ratio(ratio)));
            }
            md.push('\n');
        }
        // Cost per step between the sizes: linear growth means the two slopes agree.
        md.push_str("| µs per step, 10→100 / 100→1,000 |");
        let mut slopes = serde_json::Map::new();
        for n in &names {
            let p = &p50s[n];
            let (Some(a), Some(b), Some(c)) = (p.get(&10), p.get(&100), p.get(&1_000)) else {
                md.push_str(" – |");
                continue;
            };
            // `+ 0.0` turns a -0.0 into 0.0; a slope within noise of zero prints as 0.00.
            let s1 = ((b - a) / 90.0 * 100.0).round() / 100.0 + 0.0;
            let s2 = ((c - b) / 900.0 * 100.0).round() / 100.0 + 0.0;
            slopes.insert(n.clone(), json!([s1, s2]));
            md.push_str(&format!(" {s1:.2} / {s2:.2} |"));
        }
        md.push_str(&" |".repeat(peers.len()));
        md.push('\n');
        if let Some(&t) = p50s.get("rust").and_then(|p| p.get(&1_000)) {
            md.push_str(&format!(
                "\nTarget: 1,000 memoized steps end to end in under 2 ms: the Rust SDK takes **{}** ({}).\n",
                fmt_us(t),
                if t < 2_000.0 { "met" } else { "missed" }
            ));
        }
        self.results.insert(
            "replay".into(),
            json!({ "runs": rp, "p50_us": p50s, "slopes_us_per_step": slopes }),
        );
        self.report.push_str(&md);
    }
}
