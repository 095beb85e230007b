//! `step.wait_for_event`: op `WaitForEvent`, resumed with the matching event (unwrapped) or
//! `null` on timeout.

use std::time::Duration;

use inngest_protocol::event::Event;
use inngest_protocol::op::{Opcode, WaitForEventOpts};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{decode, Step};
use crate::error::{Error, NonRetriableError, StepError};
use crate::execution::memo::Memo;
use crate::execution::{NewStep, StepOpts};
use crate::timestr::{self, MAX_SLEEP};

/// What to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitForEvent {
    /// The event name, e.g. `"app/invoice.paid"`.
    pub event: String,
    /// How long to wait (at most 366 days).
    pub timeout: Duration,
    /// A CEL expression the event must match: `event` is the run's triggering event, `async`
    /// the candidate, e.g. `"event.data.invoice_id == async.data.invoice_id"`.
    pub if_expression: Option<String>,
}

impl WaitForEvent {
    /// Waits up to `timeout` for an event named `event`.
    pub fn new(event: impl Into<String>, timeout: Duration) -> Self {
        WaitForEvent {
            event: event.into(),
            timeout,
            if_expression: None,
        }
    }

    /// Only an event matching this CEL expression resumes the run.
    pub fn matching(mut self, expression: impl Into<String>) -> Self {
        self.if_expression = Some(expression.into());
        self
    }
}

impl Step {
    /// Waits for an event: `Some(event)` when one arrives in time, `None` on timeout.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # use inngest::step::WaitForEvent;
    /// # async fn f(ctx: inngest::Context) -> Result<(), inngest::Error> {
    /// let paid = ctx
    ///     .step
    ///     .wait_for_event::<serde_json::Value>(
    ///         "wait-for-payment",
    ///         WaitForEvent::new("app/invoice.paid", Duration::from_secs(3600))
    ///             .matching("event.data.invoice_id == async.data.invoice_id"),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_event<E: DeserializeOwned>(
        &self,
        id: &str,
        wait: WaitForEvent,
    ) -> Result<Option<Event<E>>, Error> {
        let claim = self.claim(id);
        match claim.memo {
            Some(Memo::Raw(Value::Null)) | Some(Memo::Data(Value::Null)) => return Ok(None),
            Some(Memo::Raw(event)) | Some(Memo::Data(event)) => {
                return decode(event, &claim.id).map(Some)
            }
            Some(Memo::Error(error)) => return Err(StepError::from_memo(&error).into()),
            Some(Memo::Input(_)) | None => {}
        }
        if wait.event.trim().is_empty() {
            return Err(NonRetriableError::new(format!(
                "step `{id}`: wait for which event? The name is empty"
            ))
            .into());
        }
        if wait.timeout > MAX_SLEEP {
            return Err(NonRetriableError::new(format!(
                "step `{id}`: cannot wait {}; Inngest waits at most 366 days",
                timestr::format(wait.timeout)
            ))
            .into());
        }
        let opts = WaitForEventOpts {
            event: Some(wait.event.clone()),
            timeout: Some(timestr::format(wait.timeout)),
            if_expression: wait.if_expression,
            parallel_mode: None,
        };
        let mut step = NewStep::new(
            Opcode::WaitForEvent,
            &claim.id,
            StepOpts::WaitForEvent(opts),
        );
        step.op.name = wait.event;
        self.suspend(step).await
    }
}
