//! The state of one benchmark run, shared by its phases (`load`, `startup`, `compile`): the
//! options, the servers, the request bodies, the raw results and the report so far.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::opts::Opts;
use crate::servers::{start, verify, Running, Spec};
use crate::Res;

/// One run of the benchmark.
pub struct Bench {
    pub opts: Opts,
    pub specs: Vec<Spec>,
    pub bodies: BTreeMap<u64, PathBuf>,
    pub logs: PathBuf,
    pub results: serde_json::Map<String, Value>,
    pub report: String,
}

impl Bench {
    pub fn say(&self, line: &str) {
        eprintln!("bench-run: {line}");
    }

    /// The servers in the order of round `r` (rotated by one each round).
    pub fn order(&self, r: usize) -> Vec<&Spec> {
        let n = self.specs.len();
        (0..n).map(|i| &self.specs[(i + r) % n]).collect()
    }

    pub fn start_all(&self) -> Res<Vec<Running>> {
        let mut running = Vec::new();
        for s in &self.specs {
            let r = start(s, 0, &self.logs)?;
            verify(&r, &self.bodies)?;
            running.push(r);
        }
        Ok(running)
    }

    pub fn names(&self) -> Vec<String> {
        self.specs.iter().map(|s| s.name.clone()).collect()
    }

    pub fn label(&self, name: &str) -> &'static str {
        self.specs
            .iter()
            .find(|s| s.name == name)
            .map_or("?", |s| s.label)
    }
}
