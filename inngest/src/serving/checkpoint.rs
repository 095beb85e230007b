//! Saving a call's checkpoints (protocol-2.md section 1.3): `POST <api
//! origin>/v1/checkpoint/{runId}/async` with the hashed signing key (the fallback key when
//! refused), retried as the official SDK retries it (5 attempts, `100 ms · 2^(n-1)` plus up
//! to 100 ms of jitter between them); `409` is not retried. A call that came in-process from
//! a local engine checkpoints into that engine directly ([`InProcessCheckpoints`]).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use http::request::Parts;
use inngest_protocol::checkpoint::{async_path, AsyncCheckpoint};
use inngest_protocol::error::SerializedError;
use inngest_protocol::headers;

use crate::execution::checkpoint::{CheckpointFailure, Checkpointer};
use crate::execution::Op;
use crate::json::Text;
use crate::serving::handler::Inner;

/// How many times a checkpoint is tried.
const ATTEMPTS: u32 = 5;
/// The first delay between attempts; each next one doubles.
const BASE_DELAY: Duration = Duration::from_millis(100);

/// Where the checkpoints of a call made in-process by a local engine go: that engine. The
/// edge puts it in the request's extensions.
#[derive(Clone)]
pub(crate) struct InProcessCheckpoints(pub Arc<dyn CheckpointSink>);

/// An engine in this process that saves checkpoints.
pub(crate) trait CheckpointSink: Send + Sync {
    /// Saves a checkpoint (the JSON body of `POST /v1/checkpoint/{runId}/async`); on
    /// refusal, the status and message the API would answer with.
    fn save(&self, body: &[u8]) -> Result<(), (u16, String)>;
}

/// The checkpoints of one call. Most calls never checkpoint (every step was memoized, or the
/// first new step is not a `step.run`), so it keeps what a checkpoint's body needs as the call
/// has it, and reads the headers and builds the body only when a checkpoint is sent.
pub(crate) struct CallCheckpoints<'a> {
    inner: &'a Inner,
    parts: &'a Parts,
    run_id: Text,
    fn_id: Text,
    qi_id: Option<String>,
    /// When the SDK received the call, in ms since the epoch.
    started: i64,
}

impl<'a> CallCheckpoints<'a> {
    /// The checkpoints of the call of `run_id`, `fn_id` and `qi_id` that `parts` asked for.
    pub(crate) fn new(
        inner: &'a Inner,
        parts: &'a Parts,
        run_id: Text,
        fn_id: Text,
        qi_id: Option<String>,
        started: SystemTime,
    ) -> CallCheckpoints<'a> {
        CallCheckpoints {
            inner,
            parts,
            run_id,
            fn_id,
            qi_id,
            started: millis(started),
        }
    }

    /// The body of a checkpoint of `steps`.
    fn body(&self, steps: Vec<Op>) -> AsyncCheckpoint<SerializedError> {
        let header = |name: &str| {
            self.parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        AsyncCheckpoint {
            run_id: self.run_id.as_str().to_owned(),
            fn_id: self.fn_id.as_str().to_owned(),
            qi_id: self.qi_id.clone().unwrap_or_default(),
            request_id: header(headers::X_REQUEST_ID),
            generation_id: header(headers::X_INNGEST_GENERATION_ID)
                .and_then(|g| g.trim().parse().ok()),
            request_started_at: Some(self.started),
            steps,
            ts: millis(SystemTime::now()),
        }
    }

    /// One attempt: `Ok`, or the failure and whether another attempt may succeed.
    async fn attempt(&self, body: &[u8]) -> Result<(), (CheckpointFailure, bool)> {
        let failed = |message: String| (CheckpointFailure::Failed(message), true);
        if let Some(InProcessCheckpoints(local)) = self.parts.extensions.get() {
            return local.save(body).map_err(|(status, message)| {
                classify(
                    status,
                    &format!("the engine refused the checkpoint: {status} {message}"),
                )
            });
        }
        let url = format!(
            "{}{}",
            self.inner.config.api_origin.trim_end_matches('/'),
            async_path(self.run_id.as_str())
        );
        let res = self
            .inner
            .send_signed(|| {
                self.inner
                    .client
                    .post(&url)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body.to_vec())
            })
            .await
            .map_err(|e| failed(format!("checkpointing to {url} failed: {e}")))?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        let text = res.text().await.unwrap_or_default();
        let text: String = text.trim().chars().take(500).collect();
        Err(classify(
            status.as_u16(),
            &format!("checkpointing to {url} failed: {status} {text}"),
        ))
    }
}

/// A refused checkpoint: stale (409, final), or a failure that is retried.
fn classify(status: u16, message: &str) -> (CheckpointFailure, bool) {
    if status == 409 {
        (CheckpointFailure::Stale(message.to_owned()), false)
    } else {
        (CheckpointFailure::Failed(message.to_owned()), true)
    }
}

impl Checkpointer for CallCheckpoints<'_> {
    fn checkpoint(&self, steps: Vec<Op>) -> BoxFuture<'_, Result<(), CheckpointFailure>> {
        Box::pin(async move {
            let body = serde_json::to_vec(&self.body(steps)).map_err(|e| {
                CheckpointFailure::Failed(format!("the checkpoint is not JSON: {e}"))
            })?;
            let mut n = 0;
            loop {
                n += 1;
                match self.attempt(&body).await {
                    Ok(()) => return Ok(()),
                    Err((failure, retry)) if !retry || n >= ATTEMPTS => return Err(failure),
                    Err(_) => tokio::time::sleep(delay(n)).await,
                }
            }
        })
    }
}

/// The delay after the `n`th failed attempt: `100 ms · 2^(n-1)` and up to 100 ms more.
fn delay(n: u32) -> Duration {
    let jitter = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos() % 100_000_000)
        .unwrap_or(0);
    BASE_DELAY * 2u32.pow(n.saturating_sub(1).min(10)) + Duration::from_nanos(u64::from(jitter))
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_with_jitter() {
        for (n, base) in [(1, 100), (2, 200), (3, 400), (4, 800)] {
            let d = delay(n).as_millis();
            assert!((base..base + 100).contains(&d), "{n}: {d}");
        }
    }

    #[test]
    fn only_409_is_final() {
        assert!(matches!(
            classify(409, "x"),
            (CheckpointFailure::Stale(_), false)
        ));
        assert!(matches!(
            classify(500, "x"),
            (CheckpointFailure::Failed(_), true)
        ));
        assert!(matches!(
            classify(400, "x"),
            (CheckpointFailure::Failed(_), true)
        ));
    }
}
