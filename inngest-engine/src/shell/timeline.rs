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

/// Logs a happening at `info`.
pub(crate) fn log(h: &Happening) {
    tracing::info!(target: "inngest::engine", "{}", line(h));
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
