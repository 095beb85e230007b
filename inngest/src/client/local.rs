//! The sink `inngest::send` uses in embedded mode: the engine the app in this process
//! starts. An app installs it when it starts its engine; events sent before then wait for it.

use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;

use super::{EventSink, Publish, TraceHeaders};
use crate::error::Error;
use crate::BoxFuture;

/// How long an event sent before the app started its engine waits for it.
const WAIT_FOR_ENGINE: Duration = Duration::from_secs(10);

/// The sink of the app that last started an engine in this process.
struct Slot {
    sink: Mutex<Option<Weak<dyn EventSink>>>,
    installed: Notify,
}

fn slot() -> &'static Slot {
    static SLOT: OnceLock<Slot> = OnceLock::new();
    SLOT.get_or_init(|| Slot {
        sink: Mutex::new(None),
        installed: Notify::new(),
    })
}

impl Slot {
    fn current(&self) -> Option<Arc<dyn EventSink>> {
        self.sink
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(Weak::upgrade)
    }
}

/// Makes `inngest::send` deliver through `sink` (held weakly: once its app is gone, the
/// next app to start an engine takes its place).
pub(crate) fn install_local(sink: &Arc<dyn EventSink>) {
    let slot = slot();
    *slot.sink.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::downgrade(sink));
    slot.installed.notify_waiters();
}

/// Delivers to the installed sink, waiting for one to be installed.
pub(super) struct Deferred;

/// The installed sink, once there is one (waiting at most [`WAIT_FOR_ENGINE`]).
async fn installed() -> Result<Arc<dyn EventSink>, Error> {
    let slot = slot();
    let deadline = tokio::time::Instant::now() + WAIT_FOR_ENGINE;
    loop {
        let installed = slot.installed.notified();
        if let Some(sink) = slot.current() {
            return Ok(sink);
        }
        if tokio::time::timeout_at(deadline, installed).await.is_err() {
            return Err(Error::msg(format!(
                "inngest::send: no app in this process has started the embedded engine within {}s; start serving (inngest::serve() or App::serve()) before or while sending, or set INNGEST_DEV / INNGEST_SIGNING_KEY to send to an Inngest server",
                WAIT_FOR_ENGINE.as_secs()
            )));
        }
    }
}

impl EventSink for Deferred {
    fn deliver(&self, events: Vec<Value>) -> BoxFuture<Result<Vec<String>, Error>> {
        Box::pin(async move { installed().await?.deliver(events).await })
    }

    fn deliver_traced(
        &self,
        events: Vec<Value>,
        trace: Option<TraceHeaders>,
    ) -> BoxFuture<Result<Vec<String>, Error>> {
        Box::pin(async move { installed().await?.deliver_traced(events, trace).await })
    }

    fn signal(&self, signal: String, data: Value) -> BoxFuture<Result<Option<String>, Error>> {
        Box::pin(async move { installed().await?.signal(signal, data).await })
    }

    fn publish(&self, message: Publish) -> BoxFuture<Result<(), Error>> {
        Box::pin(async move { installed().await?.publish(message).await })
    }
}
