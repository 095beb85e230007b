//! `step.sleep` and `step.sleep_until`: op `Sleep`, resumed with a `null` memo.

use std::time::{Duration, SystemTime};

use crate::execution::StepId;
use inngest_protocol::op::{Opcode, SleepOpts};
use inngest_protocol::time::rfc3339;

use super::Step;
use crate::error::{Error, NonRetriableError};
use crate::execution::{Claim, NewStep, StepOpts};
use crate::middleware::StepKind;
use crate::timestr::{self, MAX_SLEEP};
use serde_json::Value;

/// How long to sleep: a [`Duration`] or a time string such as `"30s"`, `"2h45m"`, `"1d"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SleepFor(Result<Duration, String>);

impl From<Duration> for SleepFor {
    fn from(d: Duration) -> Self {
        SleepFor(Ok(d))
    }
}

impl From<&str> for SleepFor {
    fn from(s: &str) -> Self {
        SleepFor(timestr::parse(s))
    }
}

impl From<String> for SleepFor {
    fn from(s: String) -> Self {
        SleepFor::from(s.as_str())
    }
}

/// When to wake: a [`SystemTime`], or (with the `chrono` feature) a `chrono::DateTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SleepUntil(SystemTime);

impl From<SystemTime> for SleepUntil {
    fn from(t: SystemTime) -> Self {
        SleepUntil(t)
    }
}

#[cfg(feature = "chrono")]
impl<Tz: chrono::TimeZone> From<chrono::DateTime<Tz>> for SleepUntil {
    fn from(t: chrono::DateTime<Tz>) -> Self {
        SleepUntil(t.to_utc().into())
    }
}

impl Step {
    /// Sleeps for `duration` (at most 366 days): the run is suspended, and Inngest calls
    /// again when the time is up. Costs nothing while asleep.
    ///
    /// ```no_run
    /// # async fn f(ctx: inngest::Context) -> Result<(), inngest::Error> {
    /// ctx.step.sleep("wait-a-day", "1d").await?;
    /// ctx.step.sleep("and-a-bit", std::time::Duration::from_secs(90)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn sleep(&self, id: &str, duration: impl Into<SleepFor>) -> Result<(), Error> {
        let claim = self.claim(id);
        let new = || {
            let duration = duration.into().0.map_err(|e| {
                NonRetriableError::new(format!("step `{id}`: cannot sleep for {e}"))
            })?;
            if duration > MAX_SLEEP {
                return Err(NonRetriableError::new(format!(
                    "step `{id}`: cannot sleep for {}; Inngest sleeps at most 366 days",
                    timestr::format(duration)
                ))
                .into());
            }
            Ok(sleep_op(&claim.id, timestr::format(duration)))
        };
        self.sleep_step(&claim, new).await
    }

    /// A sleep: over once it has a memo.
    async fn sleep_step(
        &self,
        claim: &Claim,
        new: impl FnOnce() -> Result<Box<NewStep>, Error>,
    ) -> Result<(), Error> {
        let memo = claim.memo.as_ref().map(|_| Ok(Value::Null));
        match &self.hooks {
            Some(hooks) => self
                .through_hooks(
                    hooks,
                    &claim.id,
                    claim.ended_replay,
                    StepKind::Sleep,
                    memo,
                    new,
                )
                .await
                .map(drop),
            None if memo.is_some() => Ok(()),
            None => self.suspend(new()?).await,
        }
    }

    /// Sleeps until `time` (a past time resumes at once; at most 366 days ahead).
    pub async fn sleep_until(&self, id: &str, time: impl Into<SleepUntil>) -> Result<(), Error> {
        let claim = self.claim(id);
        let new = || {
            let time = time.into().0;
            if time
                .duration_since(SystemTime::now())
                .is_ok_and(|ahead| ahead > MAX_SLEEP)
            {
                return Err(NonRetriableError::new(format!(
                    "step `{id}`: cannot sleep until {}; Inngest sleeps at most 366 days",
                    rfc3339(time)
                ))
                .into());
            }
            Ok(sleep_op(&claim.id, rfc3339(time)))
        };
        self.sleep_step(&claim, new).await
    }
}

/// `Sleep` with the duration in both `opts.duration` and `name` (protocol.md 3.2).
fn sleep_op(id: &StepId, duration: String) -> Box<NewStep> {
    let opts = SleepOpts {
        duration: Some(duration.clone()),
        ..SleepOpts::default()
    };
    let mut step = NewStep::new(Opcode::Sleep, id, StepOpts::Sleep(opts));
    step.op.name = duration;
    step
}
