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
use crate::execution::{Claim, NewStep, StepOpts};
use crate::middleware::StepKind;
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
        let mut claim = self.claim(id);
        // What the memo means: the event (`null` on timeout), or an error.
        let memo = claim.memo.take().map(|memo| match memo {
            Memo::Raw(event) | Memo::Data(event) => Ok(event),
            Memo::Error(error) => Err(StepError::from_memo(&error, &claim.id.user).into()),
            Memo::Input(_) => unreachable!("unfinished steps are not claimed as memos"),
        });
        let new = || self.wait_op(id, &claim, wait);
        let event = match &self.hooks {
            Some(hooks) => {
                let kind = StepKind::WaitForEvent;
                self.through_hooks(hooks, &claim.id, claim.ended_replay, kind, memo, new)
                    .await?
            }
            None => match memo {
                Some(result) => result?,
                None => self.suspend(new()?).await,
            },
        };
        match event {
            Value::Null => Ok(None),
            event => decode(event, &claim.id.user).map(Some),
        }
    }

    /// The op of a new wait.
    fn wait_op(&self, id: &str, claim: &Claim, wait: WaitForEvent) -> Result<Box<NewStep>, Error> {
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
        Ok(step)
    }
}
