//! `step.send_event`: a run step (`opts.type = "step.sendEvent"`) that sends events through
//! the event client and memoizes their ids.

use serde::{Deserialize, Serialize};

use super::Step;
use crate::error::Error;
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
    pub async fn send_event<E: Serialize>(
        &self,
        id: &str,
        events: Vec<Event<E>>,
    ) -> Result<Vec<String>, Error> {
        let client = self.env.client.clone();
        let sent: Sent = self
            .run_kind(
                id,
                super::run_opts("step.sendEvent"),
                Some("sendEvent"),
                || async move {
                    let ids = client.send_many(&events).await?;
                    Ok(Sent::Ids { ids })
                },
            )
            .await?;
        Ok(match sent {
            Sent::Ids { ids } | Sent::List(ids) => ids,
        })
    }
}
