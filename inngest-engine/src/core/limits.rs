//! The server's limits on a run (protocol-2.md section 9), with its error names and messages:
//! 1,000 steps, 4 MiB per step output, 8 MiB per SDK answer, 32 MiB of state, sleeps and waits
//! of at most 366 days. Past the step, state and timeout limits the run fails at once ("fail
//! early"); an oversized step output or answer is an error that is retried.

use inngest_protocol::limits::{
    MAX_SLEEP, MAX_STATE_BYTES, MAX_STEPS_PER_RUN, MAX_STEP_OUTPUT_BYTES,
};
use inngest_protocol::op::{Op, Opcode};
use serde_json::{json, Value};

use super::types::RunStatus;
use super::Core;

/// The size of a value as JSON, without building the text.
pub(crate) fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// The message of an SDK answer over the 8 MiB limit (`syscode.CodeOutputTooLarge`).
pub(crate) const OUTPUT_TOO_LARGE: &str = "output_too_large";
const OUTPUT_TOO_LARGE_MESSAGE: &str =
    "Your function's response body exceeds the maximum size limit";

/// The error of an SDK answer over the limit, as the server stores it.
pub(crate) fn output_too_large() -> Value {
    json!({
        "error": format!("{OUTPUT_TOO_LARGE}: {OUTPUT_TOO_LARGE_MESSAGE}"),
        "name": OUTPUT_TOO_LARGE,
        "message": OUTPUT_TOO_LARGE_MESSAGE,
    })
}

/// `InngestErrFunctionOverflowed`: the run reached the step limit before a call.
fn too_many_steps() -> Value {
    json!({
        "error": "function has too many steps",
        "name": "InngestErrFunctionOverflowed",
        "message": format!("The function run exceeded the step limit of {MAX_STEPS_PER_RUN} steps."),
    })
}

/// A fail-early error (`WrapInStandardError`): `error` is `"<name>: <message>"`.
pub(crate) fn fail_early(name: &str, message: String) -> Value {
    json!({"error": format!("{name}: {message}"), "name": name, "message": message})
}

/// `InngestErrTimeoutTooLong` for a sleep (`what` = `"sleep"`) or a wait past 366 days.
pub(crate) fn timeout_too_long(sleep: bool, raw: &str) -> Value {
    let message = if sleep {
        format!("The sleep {raw:?} ends more than one year in the future; sleeps may last at most one year.")
    } else {
        format!("The wait-for-event timeout {raw:?} expires more than one year in the future; timeouts may last at most one year.")
    };
    fail_early("InngestErrTimeoutTooLong", message)
}

/// The longest sleep or wait, in ms.
pub(crate) fn max_sleep_ms() -> u64 {
    u64::try_from(MAX_SLEEP.as_millis()).unwrap_or(u64::MAX)
}

/// Why an op of a 206 answer is over a limit: its output (or input) is over 4 MiB
/// (`GeneratorOpcode.Validate`), an error that is retried.
pub(crate) fn check_op(op: &Op) -> Result<(), Value> {
    let size = |v: &Option<Value>| v.as_ref().map_or(0, json_size);
    let over = if size(&op.data).max(size(&op.error)) > MAX_STEP_OUTPUT_BYTES {
        Some("step output size is greater than the limit")
    } else {
        None
    };
    match over {
        Some(why) => {
            let message = format!("error validating generator opcode {}: {why}", op.id);
            Err(json!({"error": message, "name": "Error", "message": message}))
        }
        None => Ok(()),
    }
}

impl Core {
    /// Before a call: a run that has saved the most steps fails (server `checkStepLimit`).
    /// `true` when the run ended.
    pub(crate) fn over_step_limit(&mut self, run_id: &str) -> bool {
        let over = self
            .runs
            .get(run_id)
            .is_some_and(|r| r.step_count >= MAX_STEPS_PER_RUN);
        if over {
            self.finish(run_id, RunStatus::Failed, too_many_steps());
        }
        over
    }

    /// An answer with more ops than the step limit fails the run at once.
    pub(crate) fn too_many_ops(&mut self, run_id: &str, ops: &[Op]) -> bool {
        let real = ops.iter().filter(|op| op.op != Opcode::None).count();
        if real <= MAX_STEPS_PER_RUN {
            return false;
        }
        let message =
            format!("The function run exceeded the step limit of {MAX_STEPS_PER_RUN} steps.");
        self.finish(
            run_id,
            RunStatus::Failed,
            fail_early("InngestErrFunctionOverflowed", message),
        );
        true
    }

    /// Counts a saved step and its output against the run's state limit; fails the run
    /// (`InngestErrStateOverflowed`) past it. `false` when the run ended.
    pub(crate) fn account_step(&mut self, run_id: &str, memo: &Value) -> bool {
        let size = json_size(memo);
        let Some(run) = self.runs.get_mut(run_id) else {
            return false;
        };
        if run.state_bytes + size > MAX_STATE_BYTES {
            let message = format!(
                "The function run exceeded the state size limit of {MAX_STATE_BYTES} bytes."
            );
            self.finish(
                run_id,
                RunStatus::Failed,
                fail_early("InngestErrStateOverflowed", message),
            );
            return false;
        }
        run.state_bytes += size;
        run.step_count += 1;
        true
    }
}
