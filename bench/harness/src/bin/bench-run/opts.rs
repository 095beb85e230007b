//! The command line: `--rounds`, `--seconds`, `--phases`, `--servers`, `--out`, `--quick`...

use std::path::PathBuf;

use crate::Res;

#[derive(Clone)]
pub struct Opts {
    pub rounds: usize,
    pub seconds: u64,
    pub replay_seconds: u64,
    pub startups: usize,
    pub compile_rounds: usize,
    pub phases: Vec<String>,
    pub servers: Vec<String>,
    pub out: PathBuf,
}

pub fn parse_opts() -> Res<Opts> {
    let mut o = Opts {
        rounds: 3,
        seconds: 5,
        replay_seconds: 3,
        startups: 5,
        compile_rounds: 2,
        phases: ["throughput", "replay", "startup", "compile"]
            .map(String::from)
            .to_vec(),
        servers: ["rust", "hyper", "node", "express", "python"]
            .map(String::from)
            .to_vec(),
        out: target_dir().join("bench"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--quick" {
            o.rounds = 1;
            o.seconds = 1;
            o.replay_seconds = 1;
            o.startups = 2;
            o.phases.retain(|p| p != "compile");
            continue;
        }
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let num = |v: &str| -> Res<u64> {
            v.parse()
                .map_err(|e| format!("bad value `{v}` for `{flag}`: {e}"))
        };
        match flag.as_str() {
            "--rounds" => o.rounds = num(&value)?.max(1) as usize,
            "--seconds" => o.seconds = num(&value)?.max(1),
            "--replay-seconds" => o.replay_seconds = num(&value)?.max(1),
            "--startups" => o.startups = num(&value)?.max(1) as usize,
            "--compile-rounds" => o.compile_rounds = num(&value)?.max(1) as usize,
            "--phases" => o.phases = value.split(',').map(String::from).collect(),
            "--servers" => o.servers = value.split(',').map(String::from).collect(),
            "--out" => o.out = PathBuf::from(value),
            _ => return Err(format!("unknown argument `{flag}`")),
        }
    }
    for s in &o.servers {
        if !["rust", "rust-before", "hyper", "node", "express", "python"].contains(&s.as_str()) {
            return Err(format!("unknown server `{s}`"));
        }
        if s == "rust-before" && std::env::var_os("BENCH_SDK_SERVER_BEFORE").is_none() {
            return Err("`rust-before` needs BENCH_SDK_SERVER_BEFORE=<path of another build of bench-sdk-server>".into());
        }
    }
    if !o.servers.iter().any(|s| s == "rust") {
        return Err("the servers must include `rust` (every ratio is against it)".into());
    }
    Ok(o)
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}
