//! Serving over HTTP with hyper, in the manner of `axum::serve`.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::app::connection::Connections;
use crate::app::App;
use crate::config::Mode;
use crate::error::Error;
use crate::serving::handler::InngestService;
use crate::BoxFuture;

/// A server that is not running yet: `.await` it to serve until it fails or shuts down.
///
/// Built by [`serve`](crate::app::serve()) or [`App::serve`].
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve {
    app: App,
    listener: Option<TcpListener>,
    shutdown: Option<BoxFuture<()>>,
}

impl std::fmt::Debug for Serve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

impl Serve {
    pub(crate) fn new(app: App) -> Self {
        Serve {
            app,
            listener: None,
            shutdown: None,
        }
    }

    /// Stops accepting connections when `signal` completes, lets requests in flight finish,
    /// then returns.
    pub fn with_graceful_shutdown<F>(mut self, signal: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// Serves on this listener instead of binding `PORT`.
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    async fn run(self) -> Result<(), Error> {
        let service = self.app.build(true)?;
        let inner = service.inner();
        let listener = match self.listener {
            Some(l) => l,
            None => {
                let host = inner
                    .config
                    .host
                    .clone()
                    .unwrap_or_else(|| match inner.config.mode {
                        Mode::Dev { .. } | Mode::Embedded => "127.0.0.1".to_owned(),
                        Mode::Cloud => "0.0.0.0".to_owned(),
                    });
                let addr = format!("{host}:{}", inner.config.port);
                TcpListener::bind(&addr).await.map_err(|e| {
                    Error::msg(format!(
                        "cannot listen on {addr}: {e} (set PORT to use another port)"
                    ))
                })?
            }
        };
        let local: SocketAddr = listener.local_addr().map_err(Error::new)?;
        let mode = match &inner.config.mode {
            Mode::Dev { origin } => format!("dev mode, Inngest dev server at {origin}"),
            Mode::Cloud => "cloud mode".to_owned(),
            Mode::Embedded => format!(
                "embedded engine: runs at http://{}/, events to POST /e/<key> on this server",
                page_host(local)
            ),
        };
        announce(&format!(
            "Inngest app `{}` serving {} function(s) at http://{local}{} ({mode})",
            inner.app_id,
            inner.registry.entries().len(),
            inner.config.serve_path,
        ));
        let signal = self
            .shutdown
            .unwrap_or_else(|| Box::pin(std::future::pending()));
        let beside = inner.beside.clone();
        let shutdown: BoxFuture<()> = Box::pin(async move {
            signal.await;
            if let Some(beside) = beside {
                beside.shutdown();
            }
        });
        let header_timeout = inner.config.body_timeout;
        accept_loop(listener, service, header_timeout, shutdown).await;
        Ok(())
    }
}

/// The address to show for the page of runs: a loopback address for an unspecified bind.
fn page_host(local: SocketAddr) -> String {
    match local.ip() {
        ip if ip.is_unspecified() => format!("127.0.0.1:{}", local.port()),
        _ => local.to_string(),
    }
}

/// Serves `service` on `listener` until `shutdown` completes, then lets requests in flight
/// finish. A connection that sends no request head for `header_timeout` is closed.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    service: InngestService,
    header_timeout: std::time::Duration,
    mut shutdown: BoxFuture<()>,
) {
    let connections = Connections::new(service, header_timeout);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, _)) => connections.spawn(stream),
                    Err(e) => {
                        // Out of file descriptors and the like: keep serving.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::task::yield_now().await;
                    }
                }
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    connections.shutdown().await;
}

impl IntoFuture for Serve {
    type Output = Result<(), Error>;
    type IntoFuture = BoxFuture<Result<(), Error>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// Logs a start-up line; printed to stderr as well when no tracing subscriber is installed,
/// so a first `cargo run` says what it does.
pub(crate) fn announce(line: &str) {
    if tracing::dispatcher::has_been_set() {
        tracing::info!("{line}");
    } else {
        eprintln!("inngest: {line}");
    }
}
