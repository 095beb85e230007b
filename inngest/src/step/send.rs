//! `step.send_event`: a run step (`opts.type = "step.sendEvent"`) that sends events through
//! the event client and memoizes their ids.

use serde::{Deserialize, Serialize};

use super::Step;
use crate::error::Error;
use crate::middleware::StepKind;
use inngest_protocol::event::Event;

/// The memo of a send: `{"ids": [...]}` as the JS SDK stores it; a plain list (PY, GO) is
/// read too.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Sent {
    Ids { ids: Vec<String> },
    List(Vec<String>),
}

impl Step {
    /// Sends events as a step: sent once per run, whatever the retries, and returns their
    /// ids.
    pub async fn send_event<E: Serialize + Send + Sync>(
        &self,
        id: &str,
        events: Vec<Event<E>>,
    ) -> Result<Vec<String>, Error> {
        let client = self.env.client.clone();
        let hooks = self.hooks.clone();
        let sent: Sent = self
            .run_kind(
                id,
                super::RunSpec::named(StepKind::SendEvent, "sendEvent"),
                || async move {
                    let ids = match hooks {
                        // `transform_send_event` and `wrap_send_event` of the app's and the
                        // function's middleware, as the run sends them.
                        Some(hooks) => {
                            let events = crate::client::encode(&events)?;
                            let run = Some(&hooks.run);
                            let send = |events| client.deliver(events);
                            hooks.stack.send_events(run, events, send).await?
                        }
                        None => client.send_many(&events).await?,
                    };
                    Ok(Sent::Ids { ids })
                },
            )
            .await?;
        Ok(match sent {
            Sent::Ids { ids } | Sent::List(ids) => ids,
        })
    }
}
