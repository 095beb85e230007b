//! Signals (protocol-2.md section 3): a `WaitForSignal` step waits for a named signal, which
//! `POST /v1/signals` ([`Core::signal`]) sends. One run at a time may wait for a signal: a
//! second wait fails its run at once, unless it asks to replace the first (which then only
//! times out). A wait that times out resumes with `null`.

use std::time::SystemTime;

use inngest_protocol::op::{Op, WaitForSignalOpts, SIGNAL_CONFLICT_REPLACE};
use inngest_protocol::signal::{SignalReturn, SIGNAL_CONFLICT_MESSAGE};
use inngest_protocol::time::{parse_rfc3339, unix_millis};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::gateway::{handler_error, OpOutcome};
use super::runs::millis;
use super::timers::Timer;
use super::tracked::TrackedTree;
use super::types::RunStatus;
use super::Core;

/// Why a signal was not received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignalError {
    /// The signal has no name.
    #[error("signal ID is empty")]
    Empty,
}

/// A run waiting for a signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SignalWait {
    pub run_id: String,
    /// The hashed id of the waiting step.
    pub step: String,
}

/// The waits by signal name (stored). An entry whose run no longer waits (it timed out,
/// ended, or was replaced) is stale: it is ignored, and swept now and then.
#[derive(Debug, Default)]
pub(crate) struct Signals {
    pub(super) waits: TrackedTree<String, SignalWait>,
    /// How many entries there were after the last sweep.
    pub(super) swept: usize,
}

impl Signals {
    /// How many waits are indexed (live or stale).
    pub(crate) fn len(&self) -> usize {
        self.waits.len()
    }
}

/// A year from `now` (ms), as the server's `AddDate(1, 0, 0)`.
fn a_year_from(now: u64) -> u64 {
    use chrono::{DateTime, Months};
    DateTime::from_timestamp_millis(now as i64)
        .and_then(|t| t.checked_add_months(Months::new(12)))
        .map_or(now.saturating_add(365 * 86_400_000), |t| {
            t.timestamp_millis() as u64
        })
}

impl Core {
    /// A `WaitForSignal` op: indexes the wait and sets its timeout.
    pub(crate) fn wait_for_signal(&mut self, run_id: &str, op: &Op) -> OpOutcome {
        let opts: WaitForSignalOpts = match op.opts_as() {
            Ok(opts) => opts,
            Err(e) => {
                return OpOutcome::Retry(handler_error(format!("unable to parse signal opts: {e}")))
            }
        };
        if opts.signal.is_empty() {
            return OpOutcome::Retry(handler_error("signal name is empty".to_owned()));
        }
        let expires = match opts.timeout.as_deref().filter(|t| !t.is_empty()) {
            None => a_year_from(self.now),
            Some(spec) => match inngest_protocol::timestr::parse(spec) {
                Ok(d) => self.now.saturating_add(millis(d)),
                Err(e) => match parse_rfc3339(spec) {
                    Some(at) => unix_millis(at),
                    None => {
                        return OpOutcome::Retry(handler_error(format!(
                            "unable to parse signal expires: {e}"
                        )))
                    }
                },
            },
        };
        if self
            .runs
            .get(run_id)
            .is_some_and(|r| r.pending.contains(&op.id))
        {
            return OpOutcome::Ok; // reported again while it waits
        }
        let mine = SignalWait {
            run_id: run_id.to_owned(),
            step: op.id.clone(),
        };
        let replace = opts.conflict.as_deref() == Some(SIGNAL_CONFLICT_REPLACE);
        if let Some(other) = self.signals.waits.get(&opts.signal) {
            if *other != mine && self.waits_for(other) && !replace {
                let message = SIGNAL_CONFLICT_MESSAGE;
                return OpOutcome::FailRun(json!({
                    "error": format!("Error: {message}"),
                    "name": "Error",
                    "message": message,
                }));
            }
        }
        self.signals.waits.insert(opts.signal, mine);
        self.sweep_signals();
        if let Some(run) = self.runs.get_mut(run_id) {
            run.pending.insert(op.id.clone());
        }
        self.timers.add(
            expires,
            Timer::Resume {
                run_id: run_id.to_owned(),
                step: op.id.clone(),
                memo: Value::Null,
            },
        );
        OpOutcome::Ok
    }

    /// Receives a signal (`POST /v1/signals`): resumes the run waiting for it with
    /// `{"signal", "data"}`. Returns that run's id, or `None` when no run waits for it.
    pub fn signal(
        &mut self,
        signal: &str,
        data: Value,
        now: SystemTime,
    ) -> Result<Option<String>, SignalError> {
        self.advance_clock(now);
        if signal.is_empty() {
            return Err(SignalError::Empty);
        }
        let Some(wait) = self.signals.waits.remove(signal) else {
            return Ok(None);
        };
        if !self.waits_for(&wait) {
            return Ok(None);
        }
        let memo = SignalReturn {
            signal: signal.to_owned(),
            data,
        };
        let memo = json!({ "data": memo });
        self.resume(&wait.run_id, &wait.step, memo);
        self.settle();
        Ok(Some(wait.run_id))
    }

    /// Whether the wait's run still waits at its step.
    fn waits_for(&self, wait: &SignalWait) -> bool {
        self.runs
            .get(&wait.run_id)
            .is_some_and(|r| r.status == RunStatus::Running && r.pending.contains(&wait.step))
    }

    /// Forgets stale waits once the index has doubled since the last sweep (amortized O(1)).
    fn sweep_signals(&mut self) {
        if self.signals.waits.len() <= (2 * self.signals.swept).max(64) {
            return;
        }
        let stale: Vec<String> = self
            .signals
            .waits
            .iter()
            .filter(|(_, w)| !self.waits_for(w))
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            self.signals.waits.remove(&name);
        }
        self.signals.swept = self.signals.waits.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_is_a_calendar_year() {
        // 2024-03-01 to 2025-03-01: 365 days; 2023-03-01 to 2024-03-01: 366.
        let t = |s: &str| unix_millis(parse_rfc3339(s).unwrap());
        assert_eq!(
            a_year_from(t("2024-03-01T00:00:00Z")),
            t("2025-03-01T00:00:00Z")
        );
        assert_eq!(
            a_year_from(t("2023-03-01T00:00:00Z")),
            t("2024-03-01T00:00:00Z")
        );
    }
}
