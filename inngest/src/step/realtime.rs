//! `step.realtime_publish` (protocol-2.md section 5): publishes a message on a channel's
//! topic as a run step (`opts.type = "step.realtime.publish"`), once per run.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Step;
use crate::error::Error;
use crate::json::Text;
use crate::middleware::StepKind;

impl Step {
    /// Publishes `data` on the realtime `channel` and `topic`, as a step: published once per
    /// run, whatever the retries; returns `data`. Subscribers (a browser, a test) watch it
    /// arrive: with the embedded engine or `inngest-engine dev`, at
    /// `GET /v1/realtime/sse?channel=<channel>&topic=<topic>`.
    ///
    /// ```no_run
    /// # async fn f(ctx: inngest::Context) -> Result<(), inngest::Error> {
    /// ctx.step
    ///     .realtime_publish("progress", "order-123", "status", serde_json::json!({"done": 50}))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn realtime_publish<T>(
        &self,
        id: &str,
        channel: &str,
        topic: &str,
        data: T,
    ) -> Result<T, Error>
    where
        T: Serialize + DeserializeOwned + Send + Sync,
    {
        let client = self.env.client.clone();
        let run_id = self.run_id.clone();
        self.run_kind(
            id,
            super::RunSpec::plain(StepKind::RealtimePublish),
            || async move {
                client
                    .publish_for(channel, topic, &data, run_id.as_ref().map(Text::as_str))
                    .await?;
                Ok(data)
            },
        )
        .await
    }
}
