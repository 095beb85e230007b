//! The timeline of runs as readable log lines (target `inngest::engine`), one per happening:
//!
//! ```text
//! run 4XZ2QK  started  quickstart-send-welcome (by user/signup)
//! run 4XZ2QK  step     load-user: StepRun (attempt 1)
//! run 4XZ2QK  FAILED   quickstart-send-welcome: NonRetriableError: banned users get no welcome
//! ```

use crate::core::{Happening, RunStatus};

/// The line for a happening.
pub(crate) fn line(h: &Happening) -> String {
    match h {
        Happening::Event { id, name } => format!("event    {name} ({})", short(id)),
        Happening::RunStarted {
            run_id,
            function_id,
            event,
        } => format!("run {}  started  {function_id} (by {event})", short(run_id)),
        Happening::Step {
            run_id,
            step,
            op,
            attempt,
        } => format!(
            "run {}  step     {step}: {op} (attempt {})",
            short(run_id),
            attempt + 1
        ),
        Happening::Retrying {
            run_id,
            attempt,
            delay,
            error,
        } => format!(
            "run {}  retry    attempt {} failed ({error}); retrying in {}",
            short(run_id),
            attempt + 1,
            inngest_protocol::timestr::format(whole_seconds(*delay))
        ),
        Happening::RunEnded {
            run_id,
            function_id,
            status: RunStatus::Failed,
            output,
        } => format!(
            "run {}  FAILED   {function_id}: {}: {}",
            short(run_id),
            output["name"].as_str().unwrap_or("Error"),
            output["message"].as_str().unwrap_or_default()
        ),
        Happening::RunEnded {
            run_id,
            function_id,
            status,
            output,
        } => format!("run {}  {status}  {function_id}: {output}", short(run_id)),
    }
}

/// Logs a timeline line at `info`.
pub(crate) fn log(line: &str) {
    tracing::info!(target: "inngest::engine", "{line}");
}

/// How many timeline lines the page can read back.
const RECENT_LINES: usize = 500;

/// The latest timeline lines, numbered from 1.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    lines: std::collections::VecDeque<(u64, String)>,
    seq: u64,
}

impl Recent {
    /// Keeps a line; returns its number.
    pub(crate) fn push(&mut self, line: String) -> u64 {
        self.seq += 1;
        self.lines.push_back((self.seq, line));
        while self.lines.len() > RECENT_LINES {
            self.lines.pop_front();
        }
        self.seq
    }

    /// The number of the latest line.
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// The kept lines numbered above `after`.
    pub(crate) fn since(&self, after: u64) -> Vec<(u64, String)> {
        self.lines
            .iter()
            .filter(|(n, _)| *n > after)
            .cloned()
            .collect()
    }
}

/// The last 6 characters of an id: enough to tell runs apart in a timeline.
fn short(id: &str) -> &str {
    let start = id.char_indices().rev().nth(5).map_or(0, |(i, _)| i);
    &id[start..]
}

/// A delay as shown: whole seconds, once it is a second or more.
fn whole_seconds(d: std::time::Duration) -> std::time::Duration {
    if d.as_secs() == 0 {
        d
    } else {
        std::time::Duration::from_secs(d.as_secs())
    }
}
