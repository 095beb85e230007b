//! The compile-time phase: a generated crate of 100 `#[inngest::function]` functions against
//! the same 100 bodies as plain `async fn`s, each rebuilt from a warm dependency cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use crate::bench::Bench;
use crate::opts::target_dir;
use crate::stats::median;
use crate::system::loadavg;
use crate::Res;

impl Bench {
    pub fn compile(&mut self) -> Res<()> {
        if !self.opts.phases.iter().any(|p| p == "compile") {
            return Ok(());
        }
        let root = std::env::current_dir().map_err(|e| e.to_string())?;
        let dir = target_dir().join("bench-compile");
        let dir = if dir.is_absolute() {
            dir
        } else {
            root.join(dir)
        };
        let crates = ["annotated", "plain"];
        for c in crates {
            write_compile_crate(&dir.join(c), c, &root)?;
        }
        let target = dir.join("target");
        let build = |krate: &str, release: bool| -> Res<f64> {
            let mut cmd = Command::new("cargo");
            cmd.arg("build").arg("--quiet");
            if release {
                cmd.arg("--release");
            }
            let t0 = Instant::now();
            let status = cmd
                .current_dir(dir.join(krate))
                .env("CARGO_TARGET_DIR", &target)
                .env("CARGO_INCREMENTAL", "0")
                .stdin(Stdio::null())
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("building the {krate} crate failed"));
            }
            Ok(t0.elapsed().as_secs_f64())
        };
        // Warm the dependency cache of both profiles (not timed).
        self.say("compile: warming the dependency cache (both profiles)");
        for release in [false, true] {
            for c in crates {
                build(c, release)?;
            }
        }
        // Let the warm-up's load settle out of the load average before the timed builds.
        std::thread::sleep(Duration::from_secs(30));
        let load_before = loadavg();
        let mut secs: BTreeMap<(bool, &str), Vec<f64>> = BTreeMap::new();
        for r in 0..self.opts.compile_rounds {
            for release in [false, true] {
                let order = if r % 2 == 0 {
                    crates
                } else {
                    [crates[1], crates[0]]
                };
                for c in order {
                    touch(&dir.join(c).join("src/main.rs"))?;
                    let t = build(c, release)?;
                    self.say(&format!(
                        "compile {} {} {c}: {t:.1} s",
                        r + 1,
                        if release { "release" } else { "debug" }
                    ));
                    secs.entry((release, c)).or_default().push(t);
                }
            }
        }
        let load_after = loadavg();
        let mut md = format!(
            "\n### Compile time of the macros\n\nA generated crate with 100 `#[inngest::function]` functions (and `inngest::serve()`) against the same crate with the \
             same 100 bodies as plain `async fn`s (called from `main`, which also calls `inngest::serve()`). Each is rebuilt from a warm dependency cache \
             (`touch src/main.rs`, `CARGO_INCREMENTAL=0`), median of {} builds; the binary's size for context. Load average at the start: {load_before}; at the end: {load_after}.\n\n\
             | profile | 100 annotated fns | 100 plain async fns | macros cost | annotated binary | plain binary |\n|---|---|---|---|---|---|\n",
            self.opts.compile_rounds
        );
        let mut j = serde_json::Map::new();
        for release in [false, true] {
            let profile = if release { "release" } else { "debug" };
            let a = median(secs[&(release, "annotated")].clone());
            let p = median(secs[&(release, "plain")].clone());
            let size = |c: &str| {
                std::fs::metadata(target.join(profile).join(format!("compile-{c}")))
                    .map(|m| format!("{:.1} MB", m.len() as f64 / 1e6))
                    .unwrap_or_else(|_| "–".into())
            };
            md.push_str(&format!(
                "| {profile} | {a:.1} s | {p:.1} s | +{:.1} s ({:.2}×) | {} | {} |\n",
                a - p,
                a / p,
                size("annotated"),
                size("plain")
            ));
            j.insert(
                profile.into(),
                json!({"annotated_s": secs[&(release, "annotated")], "plain_s": secs[&(release, "plain")]}),
            );
        }
        self.results.insert("compile".into(), Value::Object(j));
        self.report.push_str(&md);
        Ok(())
    }
}

fn touch(path: &Path) -> Res<()> {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .map_err(|e| format!("touch {}: {e}", path.display()))
}

/// Writes the crate of the compile-time phase: 100 functions, annotated or plain.
fn write_compile_crate(dir: &Path, kind: &str, root: &Path) -> Res<()> {
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    let manifest = format!(
        "[package]\nname = \"compile-{kind}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\ninngest = {{ path = \"{}\" }}\nserde_json = \"1\"\ntokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"macros\"] }}\n\n\
         # Not part of the inngest workspace.\n[workspace]\n",
        root.join("inngest").display()
    );
    let mut src = format!(
        "//! Generated by bench-run (compile-time phase of the benchmark).\n\nuse inngest::{};\nuse serde_json::{{json, Value}};\n",
        if kind == "annotated" { "{Context, Error}" } else { "Error" }
    );
    for i in 0..100 {
        if kind == "annotated" {
            src.push_str(&format!(
                "\n#[inngest::function(id = \"fn-{i:03}\", event = \"bench/fn-{i:03}\")]\n\
                 async fn fn_{i:03}(ctx: Context) -> Result<Value, Error> {{\n    \
                 Ok(json!({{ \"fn\": {i}, \"event\": ctx.event.name }}))\n}}\n"
            ));
        } else {
            src.push_str(&format!(
                "\nasync fn fn_{i:03}(name: String) -> Result<Value, Error> {{\n    \
                 Ok(json!({{ \"fn\": {i}, \"event\": name }}))\n}}\n"
            ));
        }
    }
    src.push_str("\n#[tokio::main]\nasync fn main() -> Result<(), Error> {\n");
    if kind == "plain" {
        for i in 0..100 {
            src.push_str(&format!(
                "    println!(\"{{}}\", fn_{i:03}(\"bench/fn-{i:03}\".to_owned()).await?);\n"
            ));
        }
    }
    src.push_str("    inngest::serve().await\n}\n");
    let write = |p: PathBuf, text: &str| -> Res<()> {
        // Rewritten only when it changed, so the warm cache stays warm across runs.
        if std::fs::read_to_string(&p).ok().as_deref() != Some(text) {
            std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        Ok(())
    };
    write(dir.join("Cargo.toml"), &manifest)?;
    write(dir.join("src/main.rs"), &src)?;
    // The workspace's lock file: the same dependency versions as the SDK is tested with.
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| e.to_string())?;
    if !dir.join("Cargo.lock").exists() {
        write(dir.join("Cargo.lock"), &lock)?;
    }
    Ok(())
}
