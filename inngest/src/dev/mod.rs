//! The embedded engine: runs functions with nothing else installed, behaving as the Inngest
//! server does (steps memoized, retries with backoff, sleeps, waits, invokes, failure
//! handlers). `serve()` runs it in-process when neither `INNGEST_DEV` nor
//! `INNGEST_SIGNING_KEY` is set; [`Engine`] also runs on its own in front of other apps' serve
//! URLs (any SDK registers with it through `POST /fn/register`, like the dev server).
//!
//! It is a local engine for development and tests on one machine; production runs on Inngest.

pub(crate) mod api;
pub(crate) mod engine;
mod expr;
mod transport;

pub use engine::{Engine, EngineConfig, Happening, RunStatus, RunView};
pub use transport::{CallResponse, HttpTransport, InProcessTransport, Transport};

/// The embedded engine `serve()` started in this process, if any (for timelines and tests).
pub fn embedded() -> Option<Engine> {
    crate::client::embedded()
}

/// Serves an engine on its own: the dev server's HTTP surface (`POST /e/<key>`,
/// `POST /fn/register`, `GET /health`, `/v1/runs/...`), in front of any app that registers
/// with it (point the app's `INNGEST_DEV` at this server's URL and sync it).
pub async fn serve_engine(
    engine: Engine,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let service = api::EngineService::new(engine);
    crate::app::serve::accept_loop(
        listener,
        service,
        crate::app::config::DEFAULT_BODY_TIMEOUT,
        Box::pin(shutdown),
    )
    .await;
}
