//! Signals (protocol-2.md section 3): `step.wait_for_signal` (op `WaitForSignal`, resumed with
//! `{"signal", "data"}` or `null` on timeout) and `step.send_signal` (a run step that sends
//! one through the event client, `opts.type = "step.sendSignal"`).

use std::time::Duration;

use inngest_protocol::op::{
    Opcode, WaitForSignalOpts, SIGNAL_CONFLICT_FAIL, SIGNAL_CONFLICT_REPLACE,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{decode, RunSpec, Step};
use crate::error::{Error, NonRetriableError, StepError};
use crate::execution::memo::Memo;
use crate::execution::{NewStep, StepOpts};
use crate::middleware::StepKind;
use crate::timestr;

/// What happens when a run starts waiting for a signal another run already waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// The new wait fails its run at once (without retries).
    #[default]
    Fail,
    /// The new wait takes the signal over; the other run's wait only times out.
    Replace,
}

impl OnConflict {
    fn as_str(self) -> &'static str {
        match self {
            OnConflict::Fail => SIGNAL_CONFLICT_FAIL,
            OnConflict::Replace => SIGNAL_CONFLICT_REPLACE,
        }
    }
}

/// A signal a run received: its name and the data it was sent with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal<T = Value> {
    /// The signal's name.
    pub signal: String,
    /// The data it was sent with (`null` when it was sent without).
    pub data: T,
}

/// The memo of a `step.send_signal`, as the JS SDK stores it: `{"runId"}`, empty when no run
/// waited.
#[derive(Serialize, Deserialize)]
struct Sent {
    #[serde(rename = "runId", default, skip_serializing_if = "Option::is_none")]
    run_id: Option<String>,
}

impl Step {
    /// Waits up to `timeout` for the signal named `signal` (sent with
    /// [`inngest::send_signal`](crate::send_signal), [`Client::send_signal`](crate::Client::send_signal),
    /// [`Step::send_signal`] or `POST /v1/signals`): `Some` with its data when it arrives,
    /// `None` on timeout.
    ///
    /// One run at a time may wait for a signal; `on_conflict` says what happens when another
    /// run already waits for it. Signal names are global to the environment: make them
    /// unique, such as `"order-123-approved"`.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # use inngest::step::OnConflict;
    /// # async fn f(ctx: inngest::Context) -> Result<(), inngest::Error> {
    /// let approval = ctx
    ///     .step
    ///     .wait_for_signal::<serde_json::Value>(
    ///         "wait-for-approval",
    ///         "order-123-approved",
    ///         Duration::from_secs(24 * 3600),
    ///         OnConflict::Fail,
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_signal<T: DeserializeOwned>(
        &self,
        id: &str,
        signal: &str,
        timeout: Duration,
        on_conflict: OnConflict,
    ) -> Result<Option<Signal<T>>, Error> {
        let claim = self.claim(id);
        match claim.memo {
            Some(Memo::Raw(Value::Null) | Memo::Data(Value::Null)) => return Ok(None),
            Some(Memo::Raw(received) | Memo::Data(received)) => {
                return decode(received, &claim.id.user).map(Some)
            }
            Some(Memo::Error(error)) => {
                return Err(StepError::from_memo(&error, &claim.id.user).into())
            }
            Some(Memo::Input(_)) | None => {}
        }
        if signal.trim().is_empty() {
            return Err(NonRetriableError::new(format!(
                "step `{id}`: wait for which signal? The name is empty"
            ))
            .into());
        }
        if timeout.is_zero() {
            return Err(NonRetriableError::new(format!(
                "step `{id}`: a signal wait needs a timeout above zero"
            ))
            .into());
        }
        let opts = WaitForSignalOpts {
            signal: signal.to_owned(),
            timeout: Some(timestr::format(timeout)),
            conflict: Some(on_conflict.as_str().to_owned()),
            parallel_mode: None,
        };
        let mut step = NewStep::new(
            Opcode::WaitForSignal,
            &claim.id,
            StepOpts::WaitForSignal(opts),
        );
        step.op.name = signal.to_owned();
        self.suspend(step).await
    }

    /// Sends the signal `signal` with `data` as a step: sent once per run, whatever the
    /// retries. Returns the run it resumed, or `None` when no run waited for it.
    pub async fn send_signal<T: Serialize + Send>(
        &self,
        id: &str,
        signal: &str,
        data: T,
    ) -> Result<Option<String>, Error> {
        let client = self.env.client.clone();
        let spec = RunSpec::named(StepKind::SendSignal, "sendSignal").with_signal(signal);
        let sent: Sent = self
            .run_kind(id, spec, || async move {
                let run_id = client.send_signal(signal, data).await?;
                Ok(Sent { run_id })
            })
            .await?;
        Ok(sent.run_id)
    }
}
