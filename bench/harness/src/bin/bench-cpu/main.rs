//! Server CPU time per call request, against bare hyper, in one run (BENCHMARKS.md, "The hot
//! path").
//!
//! Each server is started in a child process (a fresh one each round, the servers in a
//! rotated order), gets the bench function's call request (`--steps` memoized steps) over
//! 1, 16 and 64 keep-alive connections from the generator in this process (one thread), and
//! is measured by the CPU time `/proc/<pid>/stat` gives it (user + system, all threads) before
//! and after a fixed number of requests: CPU µs per request does not depend on how the
//! machine's cores are shared, wall throughput and latency do. Each answer is checked
//! (200, the exact body). The tables give the median over the rounds; the ratio to the
//! baseline is computed within each round, then its median taken.
//!
//! ```text
//! cargo build --release -p inngest-bench
//! target/release/bench-cpu [--server NAME=PATH]... [--baseline hyper] [--connections 1,16,64]
//!                          [--requests 200000] [--warmup 20000] [--rounds 3] [--steps 10]
//!                          [--server-cpus 1] [--generator spin|sleep]
//! ```
//!
//! `--server-cpus LIST` runs each server under `taskset -c LIST`; with the generator pinned
//! apart (`taskset -c 0 target/release/bench-cpu --server-cpus 1 ...`), the server and the
//! generator do not preempt each other on the same core, and the rounds agree more closely.
//!
//! `--generator spin` (the default) keeps the generator's thread from sleeping while it
//! measures: over loopback, a server's write runs the generator's receive path in the
//! server's own system time, and if the generator sleeps in `epoll_wait` that includes waking
//! it (an inter-processor interrupt, dear in a VM). The generator sleeps only when it waits
//! on the server, so without spinning a slower server pays for a wake-up per answer that a
//! faster one, which keeps the generator busy, does not: the measurement would charge the
//! generator's idleness to the server. `--generator sleep` measures the old way.
//!
//! Without `--server`: `rust` (`bench-sdk-server`) and `hyper` (`bench-hyper-server`) from the
//! directory of this binary.

mod load;
mod proc;

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::Bytes;
use load::{Connections, Exchange};
use proc::{cpu_ticks, Running, ServerSpec};

struct Args {
    servers: Vec<ServerSpec>,
    baseline: String,
    connections: Vec<usize>,
    requests: u64,
    warmup: u64,
    rounds: usize,
    steps: u64,
    /// Whether the generator spins rather than sleeping while it waits on the server.
    spin: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        servers: Vec::new(),
        baseline: "hyper".to_owned(),
        connections: vec![1, 16, 64],
        requests: 200_000,
        warmup: 20_000,
        rounds: 3,
        steps: 10,
        spin: true,
    };
    let mut server_cpus = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("bad value `{value}` for `{flag}`: {e}");
        match flag.as_str() {
            "--server" => {
                let (name, path) = value
                    .split_once('=')
                    .ok_or_else(|| bad(&"expected NAME=PATH"))?;
                args.servers.push(ServerSpec {
                    name: name.to_owned(),
                    program: PathBuf::from(path),
                    cpus: None,
                });
            }
            "--baseline" => args.baseline = value,
            "--connections" => {
                args.connections = value
                    .split(',')
                    .map(|c| c.trim().parse::<usize>().map_err(|e| bad(&e)))
                    .collect::<Result<_, _>>()?;
                if args.connections.contains(&0) {
                    return Err(bad(&"a run needs at least one connection"));
                }
            }
            "--requests" => args.requests = value.parse().map_err(|e| bad(&e))?,
            "--warmup" => args.warmup = value.parse().map_err(|e| bad(&e))?,
            "--rounds" => args.rounds = value.parse().map_err(|e| bad(&e))?,
            "--steps" => args.steps = value.parse().map_err(|e| bad(&e))?,
            "--generator" => {
                args.spin = match value.as_str() {
                    "spin" => true,
                    "sleep" => false,
                    _ => return Err(bad(&"expected `spin` or `sleep`")),
                }
            }
            "--server-cpus" => {
                if value.is_empty()
                    || !value
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b"-,".contains(&b))
                {
                    return Err(bad(&"expected a CPU list such as `1` or `0-1`"));
                }
                server_cpus = Some(value);
            }
            _ => return Err(format!("unknown argument `{flag}`")),
        }
    }
    if args.servers.is_empty() {
        let dir = std::env::current_exe()
            .map_err(|e| e.to_string())?
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        for (name, bin) in [
            ("rust", "bench-sdk-server"),
            ("hyper", "bench-hyper-server"),
        ] {
            args.servers.push(ServerSpec {
                name: name.to_owned(),
                program: dir.join(bin),
                cpus: None,
            });
        }
    }
    for server in &mut args.servers {
        server.cpus.clone_from(&server_cpus);
    }
    if args.requests == 0 || args.rounds == 0 {
        return Err("--requests and --rounds must be at least 1".to_owned());
    }
    Ok(args)
}

/// One measurement: one server, one round, one connection count.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Server CPU µs per request.
    cpu_us: f64,
    /// Of which in user mode (the rest is the kernel's).
    user_us: f64,
    /// This process's (the generator's) CPU µs per request.
    gen_cpu_us: f64,
    rps: f64,
    p50_us: f64,
    p99_us: f64,
}

/// Measures one started server at each connection count.
async fn measure(
    server: &Running,
    args: &Args,
    exchange: &Exchange,
    ticks: f64,
) -> Result<Vec<Sample>, String> {
    let pid = server.pid();
    let mut samples = Vec::new();
    for &c in &args.connections {
        let mut conns = Connections::open(server.port, c).await?;
        conns.run(exchange, args.warmup.max(c as u64)).await?;
        let spinner = args.spin.then(spin);
        let (server0, gen0) = (cpu_ticks(&pid)?, cpu_ticks("self")?);
        let m = conns.run(exchange, args.requests).await;
        let (server1, gen1) = (cpu_ticks(&pid)?, cpu_ticks("self")?);
        if let Some(spinner) = spinner {
            spinner.abort();
        }
        let m = m?;
        let per_request = |t0: u64, t1: u64| (t1 - t0) as f64 / ticks * 1e6 / args.requests as f64;
        samples.push(Sample {
            cpu_us: per_request(server0.total(), server1.total()),
            user_us: per_request(server0.user, server1.user),
            gen_cpu_us: per_request(gen0.total(), gen1.total()),
            rps: args.requests as f64 / m.wall.as_secs_f64(),
            p50_us: m.quantile_us(0.50),
            p99_us: m.quantile_us(0.99),
        });
    }
    Ok(samples)
}

/// A task that keeps the generator's runtime from sleeping while it runs: it yields at every
/// turn, so the runtime polls its sockets without blocking (`epoll_wait` with no timeout)
/// instead of waiting in the kernel to be woken by the server's answer. Abort it to stop.
fn spin() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async {
        loop {
            tokio::task::yield_now().await;
        }
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn main() -> Result<(), String> {
    let args = parse_args()?;
    let ticks = proc::clock_ticks();
    let exchange = Exchange {
        path: inngest_bench::CALL_PATH,
        body: Bytes::from(inngest_bench::call_bytes(args.steps)),
        answer: Bytes::from(
            serde_json::to_vec(&inngest_bench::expected(args.steps)).map_err(|e| e.to_string())?,
        ),
    };
    if args.steps != 10 && args.servers.iter().any(|s| s.name == "hyper") {
        return Err("bare hyper answers the 10-step request only (--steps 10)".to_owned());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // (server, connections) -> the rounds' samples; (server, connections, round) -> sample.
    let mut by_round: BTreeMap<(usize, usize, usize), Sample> = BTreeMap::new();
    for round in 0..args.rounds {
        for k in 0..args.servers.len() {
            let s = (k + round) % args.servers.len();
            let spec = &args.servers[s];
            let server = Running::start(spec)?;
            let samples = rt
                .block_on(measure(&server, &args, &exchange, ticks))
                .map_err(|e| format!("{}: {e}", spec.name))?;
            drop(server);
            for (ci, sample) in samples.into_iter().enumerate() {
                eprintln!(
                    "round {} {:>12} c={:<3} server {:6.2} µs/req (user {:6.2})  generator {:6.2} µs/req  {:>8.0} req/s  p50 {:7.1} µs  p99 {:7.1} µs",
                    round + 1,
                    spec.name,
                    args.connections[ci],
                    sample.cpu_us,
                    sample.user_us,
                    sample.gen_cpu_us,
                    sample.rps,
                    sample.p50_us,
                    sample.p99_us
                );
                by_round.insert((s, ci, round), sample);
            }
        }
    }
    let base = args.servers.iter().position(|s| s.name == args.baseline);
    println!(
        "{}-step call request, {} requests per measurement, median of {} rounds, the generator {}",
        args.steps,
        args.requests,
        args.rounds,
        if args.spin {
            "spinning"
        } else {
            "sleeping when idle"
        }
    );
    println!();
    println!("| connections | server | server CPU µs/request | of which user | ÷ {} | generator CPU µs/request | req/s (shared cores) | p50 | p99 |", args.baseline);
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for (ci, &c) in args.connections.iter().enumerate() {
        for (s, spec) in args.servers.iter().enumerate() {
            let rounds: Vec<Sample> = (0..args.rounds).map(|r| by_round[&(s, ci, r)]).collect();
            let field = |f: fn(&Sample) -> f64| median(rounds.iter().map(f).collect());
            let ratio = base.map_or(f64::NAN, |b| {
                median(
                    (0..args.rounds)
                        .map(|r| by_round[&(s, ci, r)].cpu_us / by_round[&(b, ci, r)].cpu_us)
                        .collect(),
                )
            });
            println!(
                "| {c} | {} | {:.2} | {:.2} | {:.2}× | {:.2} | {:.0} | {:.0} µs | {:.0} µs |",
                spec.name,
                field(|x| x.cpu_us),
                field(|x| x.user_us),
                ratio,
                field(|x| x.gen_cpu_us),
                field(|x| x.rps),
                field(|x| x.p50_us),
                field(|x| x.p99_us),
            );
        }
    }
    Ok(())
}
