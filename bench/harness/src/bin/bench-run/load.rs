//! The throughput and replay phases: every server started once, warmed up, then driven by wrk
//! in alternating rounds (the order of the servers rotates each round).

use std::collections::BTreeMap;

use serde_json::json;

use crate::bench::Bench;
use crate::stats::{fmt_int, fmt_us};
use crate::system::{loadavg, proc_status_kib};
use crate::wrk::{wrk, WrkRun};
use crate::Res;

/// Connection counts of the throughput phase.
const CONCURRENCY: [u32; 3] = [1, 16, 64];

impl Bench {
    pub fn throughput_and_replay(&mut self) -> Res<()> {
        let do_tp = self.opts.phases.iter().any(|p| p == "throughput");
        let do_replay = self.opts.phases.iter().any(|p| p == "replay");
        if !do_tp && !do_replay {
            return Ok(());
        }
        let load_before = loadavg();
        self.say(&format!(
            "starting {} servers (load {load_before})",
            self.specs.len()
        ));
        let running = self.start_all()?;
        let find = |name: &str| running.iter().find(|r| r.name == name).expect("started");
        let body10 = self.bodies[&10].clone();
        // Warm-up: JIT compilers, allocator pools, connection set-up.
        for s in &self.specs {
            wrk(find(&s.name), &body10, 16, 2)?;
        }
        // tp[c][server] = one run per round
        let mut tp: BTreeMap<u32, BTreeMap<String, Vec<WrkRun>>> = BTreeMap::new();
        if do_tp {
            for r in 0..self.opts.rounds {
                for &c in &CONCURRENCY {
                    for s in self.order(r) {
                        let run = wrk(find(&s.name), &body10, c, self.opts.seconds)?;
                        self.say(&format!(
                            "round {} c={c:>2} {:<8} {:>9} req/s  p50 {:>9}  p99 {:>9}  errors {}",
                            r + 1,
                            s.name,
                            fmt_int(run.rps()),
                            fmt_us(run.p50_us),
                            fmt_us(run.p99_us),
                            run.errors()
                        ));
                        tp.entry(c)
                            .or_default()
                            .entry(s.name.clone())
                            .or_default()
                            .push(run);
                    }
                }
            }
        }
        let load_mid = loadavg();
        let mut rp: BTreeMap<u64, BTreeMap<String, Vec<WrkRun>>> = BTreeMap::new();
        if do_replay {
            for r in 0..self.opts.rounds {
                for (&n, body) in &self.bodies {
                    for s in self.order(r) {
                        let run = wrk(find(&s.name), body, 1, self.opts.replay_seconds)?;
                        self.say(&format!(
                            "round {} replay n={n:>4} {:<8} p50 {:>9}  mean {:>9}  ({} requests)",
                            r + 1,
                            s.name,
                            fmt_us(run.p50_us),
                            fmt_us(run.mean_us),
                            run.requests
                        ));
                        rp.entry(n)
                            .or_default()
                            .entry(s.name.clone())
                            .or_default()
                            .push(run);
                    }
                }
            }
        }
        let load_after = loadavg();
        let hwm: BTreeMap<String, u64> = running
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    proc_status_kib(r.pid(), "VmHWM:").unwrap_or(0),
                )
            })
            .collect();
        for r in running {
            r.stop();
        }
        self.results.insert(
            "throughput".into(),
            json!({ "runs": tp, "load": [load_before, load_mid, load_after], "vm_hwm_kib": hwm }),
        );
        if do_tp {
            self.throughput_tables(&tp, &hwm, &load_before, &load_mid);
        }
        if do_replay {
            self.replay_table(&rp, &load_mid, &load_after);
        }
        Ok(())
    }
}
