//! Reading a process's CPU time from `/proc`, and the server processes under test.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// CPU time of process `pid` (all its threads), user + system, in clock ticks: fields 14 and
/// 15 of `/proc/<pid>/stat` (`self` for this process).
pub fn cpu_ticks(pid: &str) -> Result<CpuTicks, String> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("{path}: no `)`"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime field 15.
    let field = |n: usize| -> Result<u64, String> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("{path}: no field {n}"))
    };
    Ok(CpuTicks {
        user: field(14)?,
        system: field(15)?,
    })
}

/// A process's CPU time so far, in clock ticks (all its threads).
#[derive(Debug, Clone, Copy)]
pub struct CpuTicks {
    /// In user mode.
    pub user: u64,
    /// In the kernel.
    pub system: u64,
}

impl CpuTicks {
    /// User and system together.
    pub fn total(self) -> u64 {
        self.user + self.system
    }
}

/// A server under test, as given on the command line: `name=path`.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    pub name: String,
    pub program: PathBuf,
    /// The CPUs to run it on (`taskset -c`), if given.
    pub cpus: Option<String>,
}

/// A running server, stopped when dropped (SIGTERM, then SIGKILL after 5 s).
pub struct Running {
    child: Child,
    pub port: u16,
}

impl Running {
    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Starts `spec` on a free port and waits for its `LISTENING <port>` line.
    pub fn start(spec: &ServerSpec) -> Result<Running, String> {
        let mut command = match &spec.cpus {
            Some(cpus) => {
                let mut taskset = Command::new("taskset");
                taskset.arg("-c").arg(cpus).arg(&spec.program);
                taskset
            }
            None => Command::new(&spec.program),
        };
        let mut child = command
            .env("PORT", "0")
            .env_remove("INNGEST_SIGNING_KEY")
            .env_remove("INNGEST_BASE_URL")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {} ({}): {e}",
                    spec.name,
                    spec.program.display()
                )
            })?;
        let rx = inngest_bench::first_stdout_line(&mut child);
        let mut running = Running { child, port: 0 };
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| format!("{} did not print LISTENING within 60 s", spec.name))?;
        running.port = line
            .strip_prefix("LISTENING ")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| format!("{} printed `{line}`, not `LISTENING <port>`", spec.name))?;
        Ok(running)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.pid()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
