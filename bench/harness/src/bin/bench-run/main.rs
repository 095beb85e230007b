//! The benchmark driver: starts the Rust bench server, the bare hyper server and the JS (Node's
//! http and Express) and Python peers on loopback, drives `wrk` against each in turn, and
//! writes the tables of BENCHMARKS.md (`report.md`) and the raw figures (`results.json`).
//!
//! Run it with `bench/bench.sh`, which builds it and installs what it needs. Every load is
//! bounded in time (`wrk -d`) and in requests (`bench/wrk.lua`); every figure is measured
//! against the other servers in the same run, in alternating rounds (the order of the servers
//! rotates each round).
//!
//! ```text
//! bench-run [--rounds 3] [--seconds 5] [--replay-seconds 3] [--startups 5]
//!           [--compile-rounds 2] [--phases throughput,replay,startup,compile]
//!           [--servers rust,hyper,node,express,python] [--out target/bench] [--quick]
//! ```
//!
//! `--quick` is a smoke run (1 round of 1 s, 2 start-ups, no compile phase) that checks the
//! harness works; its figures mean nothing. `BENCH_SDK_SERVER=<path>` measures another build
//! of the Rust bench server; `--servers rust,rust-before,hyper` with
//! `BENCH_SDK_SERVER_BEFORE=<path>` measures two builds side by side (before/after a fix).
//!
//! The modules follow a run: `opts` (the command line); `servers` (starting and checking the
//! servers under test, over the small `http` client); `wrk` (the load driver); `system` (memory
//! and load from `/proc`, the machine); the phases `load` (throughput and replay rounds),
//! `startup` and `compile`, on the state of `bench`; `tables` (medians, ratios and targets, with
//! `stats`); and `report`.

mod bench;
mod compile;
mod http;
mod load;
mod opts;
mod report;
mod servers;
mod startup;
mod stats;
mod system;
mod tables;
mod wrk;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use bench::Bench;

/// Memoized steps of the replay phase.
const REPLAY_STEPS: [u64; 3] = [10, 100, 1_000];

type Res<T> = Result<T, String>;

fn run() -> Res<()> {
    let opts = opts::parse_opts()?;
    if !Path::new("bench/wrk.lua").exists() {
        return Err("run bench-run from the repository's root (bench/bench.sh does)".into());
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| e.to_string())?;
    let logs = opts.out.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let mut bodies = BTreeMap::new();
    for n in REPLAY_STEPS {
        let p = opts.out.join(format!("call-{n}.json"));
        std::fs::write(&p, inngest_bench::call_bytes(n)).map_err(|e| e.to_string())?;
        bodies.insert(n, p);
    }
    let specs = opts.servers.iter().map(|s| servers::spec(s)).collect();
    let mut bench = Bench {
        opts: opts.clone(),
        specs,
        bodies,
        logs,
        results: serde_json::Map::new(),
        report: String::new(),
    };
    let started = report::chrono_now();
    let machine = system::machine();
    bench.throughput_and_replay()?;
    bench.startup()?;
    bench.compile()?;
    report::write(&opts, &started, machine, bench)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-run: {e}");
            ExitCode::FAILURE
        }
    }
}
