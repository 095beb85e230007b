//! `step.invoke`: op `InvokeFunction`, resumed with `{"data"}` (the child's output) or
//! `{"error"}`; any other memo means the child was cancelled.

use std::marker::PhantomData;
use std::time::Duration;

use inngest_protocol::op::{InvokeFunctionOpts, InvokePayload, Opcode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{decode, Step};
use crate::error::{Error, NonRetriableError, StepError};
use crate::execution::memo::Memo;
use crate::execution::{Claim, NewStep, StepOpts};
use crate::middleware::StepKind;
use crate::timestr;

/// A function a step can invoke: every function declared with `#[inngest::function]` (through
/// [`Function`](crate::Function)). Typed by its event data and its output.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an Inngest function",
    label = "not declared with #[inngest::function]",
    note = "`step.invoke::<f>` takes the name of a function annotated with #[inngest::function]"
)]
pub trait Invocable: 'static {
    /// The type of its triggering event's `data`.
    type Event;
    /// What it returns on success.
    type Output;
    /// Its id within its app (`"send-welcome"`).
    #[doc(hidden)]
    fn function_id() -> &'static str;
}

/// An invocation of the function `F` with its event data, built for
/// [`Step::invoke_with`].
#[derive(Debug)]
pub struct Invoke<F: Invocable> {
    data: F::Event,
    timeout: Option<Duration>,
    _target: PhantomData<fn() -> F>,
}

impl<F: Invocable> Invoke<F> {
    /// Invokes `F` with this event data.
    pub fn new(data: F::Event) -> Self {
        Invoke {
            data,
            timeout: None,
            _target: PhantomData,
        }
    }

    /// Fails the step if `F` has not finished after `timeout` (Inngest's default is a year).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

impl Step {
    /// Invokes the function `F` of this app with `data` as its event data and waits for its
    /// result. Typed by `F`: `data` is its event type, the result its output type.
    ///
    /// ```ignore
    /// let welcome: String = ctx.step.invoke::<send_welcome>("welcome", signup).await?;
    /// ```
    ///
    /// If `F` fails, this returns its error as a [`StepError`].
    pub async fn invoke<F>(&self, id: &str, data: F::Event) -> Result<F::Output, Error>
    where
        F: Invocable,
        F::Event: Serialize,
        F::Output: DeserializeOwned,
    {
        self.invoke_with(id, Invoke::<F>::new(data)).await
    }

    /// [`invoke`](Step::invoke) with options.
    pub async fn invoke_with<F>(&self, id: &str, invoke: Invoke<F>) -> Result<F::Output, Error>
    where
        F: Invocable,
        F::Event: Serialize,
        F::Output: DeserializeOwned,
    {
        let function_id = format!("{}-{}", self.env.app_id, F::function_id());
        self.invoke_by_id(id, &function_id, invoke.data, invoke.timeout)
            .await
    }

    /// Invokes any function by its composite id (`"<app>-<fn>"`), in this app or another,
    /// with `data` as its event data.
    pub async fn invoke_by_id<T: DeserializeOwned>(
        &self,
        id: &str,
        function_id: &str,
        data: impl Serialize,
        timeout: Option<Duration>,
    ) -> Result<T, Error> {
        let mut claim = self.claim(id);
        // What the memo means: the child's output, or its error (a memo of another shape
        // means it was cancelled).
        let memo = claim.memo.take().map(|memo| match memo {
            Memo::Data(value) => Ok(value),
            Memo::Error(error) => Err(StepError::from_memo(&error, &claim.id.user).into()),
            Memo::Raw(_) => Err(StepError {
                name: "InvokeCancelled".to_owned(),
                message: format!("the invoked function `{function_id}` was cancelled"),
                stack: None,
                cause: None,
                step_id: Some(claim.id.user.to_string()),
            }
            .into()),
            Memo::Input(_) => unreachable!("unfinished steps are not claimed as memos"),
        });
        let new = || invoke_op(id, &claim, function_id, data, timeout);
        let value = match &self.hooks {
            Some(hooks) => {
                let kind = StepKind::Invoke;
                self.through_hooks(hooks, &claim.id, claim.ended_replay, kind, memo, new)
                    .await?
            }
            None => match memo {
                Some(result) => result?,
                None => self.suspend(new()?).await,
            },
        };
        decode(value, &claim.id.user)
    }
}

/// The op of a new invoke.
fn invoke_op(
    id: &str,
    claim: &Claim,
    function_id: &str,
    data: impl Serialize,
    timeout: Option<Duration>,
) -> Result<Box<NewStep>, Error> {
    {
        let data = serde_json::to_value(data).map_err(|e| {
            NonRetriableError::new(format!(
                "step `{id}`: the invoke data does not serialize: {e}"
            ))
        })?;
        let opts = InvokeFunctionOpts {
            function_id: function_id.to_owned(),
            payload: InvokePayload {
                data,
                ..InvokePayload::default()
            },
            timeout: timeout.map(timestr::format),
            parallel_mode: None,
        };
        Ok(NewStep::new(
            Opcode::InvokeFunction,
            &claim.id,
            StepOpts::InvokeFunction(opts),
        ))
    }
}
