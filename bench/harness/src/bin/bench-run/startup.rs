//! The start-up phase: from spawning each server to its first 200 answer, then its idle memory.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::bench::Bench;
use crate::http::http;
use crate::servers::{free_port, start};
use crate::stats::{fmt_mb, fmt_ratio, fmt_us, median};
use crate::system::{loadavg, proc_status_kib};
use crate::Res;

impl Bench {
    pub fn startup(&mut self) -> Res<()> {
        if !self.opts.phases.iter().any(|p| p == "startup") {
            return Ok(());
        }
        let load_before = loadavg();
        let mut times: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut idle: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for r in 0..self.opts.startups {
            for s in self.order(r) {
                let port = free_port()?;
                let t0 = Instant::now();
                let running = start(s, port, &self.logs)?;
                let deadline = t0 + Duration::from_secs(60);
                let ready = loop {
                    if let Ok(a) = http(
                        port,
                        "GET",
                        inngest_bench::SERVE_PATH,
                        b"",
                        Duration::from_millis(500),
                    ) {
                        if a.status == 200 {
                            break t0.elapsed();
                        }
                    }
                    if Instant::now() > deadline {
                        running.stop();
                        return Err(format!("{} never answered GET with 200", s.name));
                    }
                    std::thread::sleep(Duration::from_millis(1));
                };
                // Idle memory: one GET answered, then a second of rest.
                std::thread::sleep(Duration::from_secs(1));
                let rss = proc_status_kib(running.pid(), "VmRSS:").unwrap_or(0) as f64;
                running.stop();
                self.say(&format!(
                    "start-up {} {:<8} {:>9}  idle {}",
                    r + 1,
                    s.name,
                    fmt_us(ready.as_secs_f64() * 1e6),
                    fmt_mb(rss)
                ));
                times
                    .entry(s.name.clone())
                    .or_default()
                    .push(ready.as_secs_f64() * 1e6);
                idle.entry(s.name.clone()).or_default().push(rss);
            }
        }
        let load_after = loadavg();
        let mut md = format!(
            "\n### Start-up and idle memory\n\nFrom spawning the process to the first 200 answer to `GET /api/inngest` (polled every millisecond), \
             median of {} starts; then `VmRSS` after one second of rest, 100 functions registered. Load average at the start: {load_before}; at the end: {load_after}.\n\n\
             | server | start-up | this ÷ Rust | idle memory |\n|---|---|---|---|\n",
            self.opts.startups
        );
        let rust = median(times["rust"].clone());
        let mut j = serde_json::Map::new();
        for n in self.names() {
            let t = median(times[&n].clone());
            let m = median(idle[&n].clone());
            md.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                self.label(&n),
                fmt_us(t),
                if n == "rust" {
                    "–".into()
                } else {
                    fmt_ratio(t / rust)
                },
                fmt_mb(m)
            ));
            j.insert(
                n.clone(),
                json!({"startup_us": times[&n], "idle_rss_kib": idle[&n]}),
            );
        }
        self.results.insert("startup".into(), Value::Object(j));
        self.report.push_str(&md);
        Ok(())
    }
}
