//! [`App`]: an explicitly built app, and [`serve`], the zero-configuration entry point.

pub(crate) mod connection;
pub(crate) mod serve;

use std::sync::Arc;
use std::time::Duration;

use crate::app::serve::Serve;
use crate::client::{Client, EventSink};
use crate::config::{Config, Mode, Overrides, Secret};
use crate::error::Error;
use crate::function::{Function, Registration};
use crate::middleware::{DynMiddleware, Middleware, Stack};
use crate::options::Checkpointing;
use crate::serving::handler::{Beside, Inner, InngestService};
use crate::serving::registry::{resolve_app_id, Registry};
use crate::step::StepEnv;

/// Serves every function of the binary declared with `#[inngest::function]` and
/// `#[inngest::on_failure]`, configured from the environment.
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> Result<(), inngest::Error> {
///     inngest::serve().await
/// }
/// ```
pub fn serve() -> Serve {
    App::from_env().serve()
}

/// An Inngest app: an id and the functions it serves.
///
/// `App::new("id")` serves every function declared in the binary; once you
/// [`register`](App::register) a function explicitly, it serves exactly the functions you
/// registered (for targets where functions cannot be discovered before `main`).
#[derive(Debug, Clone, Default)]
pub struct App {
    id: Option<String>,
    version: Option<String>,
    explicit: Vec<Registration>,
    overrides: Overrides,
    /// The event client its steps use, when not the one its mode implies (`inngest::testing`
    /// captures events).
    client: Option<Client>,
    /// Middleware for every function, in the order registered.
    middleware: Stack,
    /// Checkpointing for the functions that do not set their own (on by default).
    checkpointing: Option<Checkpointing>,
    /// Streamed call responses (`None`: as `INNGEST_STREAMING` says).
    streaming: Option<bool>,
    /// How often a streamed response sends a keepalive space.
    keepalive: Option<Duration>,
}

impl App {
    /// An app with this id.
    pub fn new(id: impl Into<String>) -> Self {
        App {
            id: Some(id.into()),
            ..App::default()
        }
    }

    /// An app whose id comes from `INNGEST_APP_ID`, else from the package name of its
    /// functions.
    pub fn from_env() -> Self {
        App::default()
    }

    /// The app's version (`"2026-11-30.1"`, a git commit), sent to Inngest at sync as
    /// `appVersion`: Inngest shows it, and it tells deploys of the same app apart.
    pub fn app_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Adds a middleware that applies to every function of the app, after the ones added
    /// before and before each function's own (see [`inngest::middleware`](crate::middleware)
    /// for the hooks and their order).
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        let added: Arc<dyn DynMiddleware> = Arc::new(middleware);
        self.middleware = self.middleware.then(vec![added]);
        self
    }

    /// How the app's functions checkpoint, unless one sets its own in its attribute
    /// (`checkpointing = false`, `checkpointing(..)`); [`Checkpointing::ON`] by default, as
    /// in the official TypeScript SDK. See [`Checkpointing`].
    pub fn checkpointing(mut self, checkpointing: Checkpointing) -> Self {
        self.checkpointing = Some(checkpointing);
        self
    }

    /// Streams call responses (what `INNGEST_STREAMING=true` does): each call is answered
    /// at once with `201` and a chunked body, a space every 3 s while the function runs, and
    /// then the answer as a JSON envelope, so that a load balancer or a serverless platform
    /// that cuts idle connections does not cut a long step (protocol-2.md section 2). Off by
    /// default.
    pub fn streaming(mut self, streaming: bool) -> Self {
        self.streaming = Some(streaming);
        self
    }

    /// How often a streamed call response sends its keepalive space: 3 s by default, as the
    /// official TypeScript SDK; shorter behind a proxy that cuts connections idle for less.
    /// Only with [`streaming`](App::streaming).
    pub fn streaming_keepalive(mut self, every: Duration) -> Self {
        self.keepalive = Some(every);
        self
    }

    /// Serves `F` (and stops discovering functions automatically).
    pub fn register<F: Function>(mut self) -> Self {
        self.explicit.push(Registration::of::<F>());
        self
    }

    /// Uses the Inngest dev server at `origin` (what `INNGEST_DEV=<url>` does).
    pub fn dev(mut self, origin: impl Into<String>) -> Self {
        self.overrides.dev = Some(origin.into());
        self
    }

    /// The public origin Inngest should call (what `INNGEST_SERVE_ORIGIN` does).
    pub fn serve_origin(mut self, origin: impl Into<String>) -> Self {
        self.overrides.serve_origin = Some(origin.into());
        self
    }

    /// The path of the endpoint (what `INNGEST_SERVE_PATH` does), `/api/inngest` by default.
    pub fn serve_path(mut self, path: impl Into<String>) -> Self {
        self.overrides.serve_path = Some(path.into());
        self
    }

    /// The port [`serve`](App::serve) listens on (what `PORT` does), 3000 by default.
    pub fn port(mut self, port: u16) -> Self {
        self.overrides.port = Some(port);
        self
    }

    /// The largest request body accepted, 8 MiB by default (Inngest sends up to 4 MB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.overrides.body_limit = Some(bytes);
        self
    }

    /// How long a request body may take to arrive, 30 s by default; a slower body is
    /// answered with 408. When [`serve`](App::serve) runs the server, the same limit holds
    /// for a request's head: a connection that sends no complete head for this long (one kept
    /// alive and idle after an answer too) is closed; one whose answer takes longer is not.
    pub fn body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.overrides.body_timeout = Some(timeout);
        self
    }

    /// How long one call of a function (its code and any step it runs) may take before the
    /// SDK answers with a retriable error; just under Inngest's 2 h HTTP timeout by default.
    pub fn call_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.overrides.call_timeout = Some(timeout);
        self
    }

    /// Runs the embedded engine in this process (what `INNGEST_DEV=embedded` does), in any
    /// build. A debug build with no mode configured runs it too; a release build refuses to
    /// start without a mode, so that a deploy which forgot its signing key fails loudly.
    #[cfg(feature = "engine")]
    pub fn embedded(mut self) -> Self {
        self.overrides.embedded = true;
        self
    }

    /// With the embedded engine: retry after this constant interval instead of Inngest's
    /// backoff table (what `INNGEST_RETRY_INTERVAL` does, in seconds, and the dev server's
    /// `--retry-interval`).
    #[cfg(feature = "engine")]
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.overrides.retry_interval = Some(interval);
        self
    }

    /// With the embedded engine: keep its state in a SQLite database in `dir` (created if
    /// missing), so that runs go on where they were after the process restarts, even after a
    /// `kill -9` (what `INNGEST_PERSIST=1` does, in `INNGEST_SQLITE_DIR` or `.inngest`; the
    /// command's `--persist`). Needs the feature `persist`.
    #[cfg(feature = "persist")]
    pub fn persist(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.overrides.persist = Some(dir.into());
        self
    }

    /// The signing key (what `INNGEST_SIGNING_KEY` does): without `INNGEST_DEV`, this means
    /// cloud mode, where every request must be signed with it.
    pub fn signing_key(mut self, key: impl Into<String>) -> Self {
        self.overrides.signing_key = Some(Secret::new(key.into()));
        self
    }

    /// The fallback signing key, tried after the signing key while keys are rotated (what
    /// `INNGEST_SIGNING_KEY_FALLBACK` does).
    pub fn signing_key_fallback(mut self, key: impl Into<String>) -> Self {
        self.overrides.signing_key_fallback = Some(Secret::new(key.into()));
        self
    }

    /// The event key (what `INNGEST_EVENT_KEY` does).
    pub fn event_key(mut self, key: impl Into<String>) -> Self {
        self.overrides.event_key = Some(Secret::new(key.into()));
        self
    }

    /// The Inngest API and event API origin, for a self-hosted server (what
    /// `INNGEST_BASE_URL` does).
    pub fn base_url(mut self, origin: impl Into<String>) -> Self {
        self.overrides.base_url = Some(origin.into());
        self
    }

    /// Serves the app over HTTP: await the returned value.
    pub fn serve(self) -> Serve {
        Serve::new(self)
    }

    /// The endpoint as a `tower::Service`, to mount in an axum or hyper app.
    pub fn into_service(self) -> Result<InngestService, Error> {
        self.build(false)
    }

    /// Serves this registration (as [`register`](App::register) does for a type).
    #[cfg(feature = "engine")]
    pub(crate) fn register_registration(mut self, registration: Registration) -> Self {
        self.explicit.push(registration);
        self
    }

    /// The app with another event client for its steps (for `inngest::testing`).
    #[cfg(feature = "engine")]
    pub(crate) fn with_client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    pub(crate) fn build(self, check_path: bool) -> Result<InngestService, Error> {
        let config = Config::resolve(&self.overrides)?;
        if config.mode == Mode::Cloud && config.signing_key.is_none() {
            return Err(Error::msg(
                "Inngest Cloud mode (INNGEST_DEV=0) needs INNGEST_SIGNING_KEY to check that requests come from Inngest; set it, or set INNGEST_DEV=1 to use the Inngest dev server",
            ));
        }
        let registrations = if self.explicit.is_empty() {
            Registry::discovered()
        } else {
            self.explicit
        };
        let app_id = resolve_app_id(self.id.as_deref(), &registrations)?;
        self.middleware.on_register(&app_id, None)?;
        let registry = Registry::build(&app_id, &registrations, &self.middleware)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(Error::new)?;
        let local = match config.mode {
            Mode::Embedded => {
                let engine = crate::local_engine().ok_or_else(|| {
                    Error::msg("the embedded engine is not part of this build of inngest")
                })?;
                let options = LocalOptions {
                    retry_interval: self.overrides.retry_interval,
                    persist: self.overrides.persist.clone(),
                };
                Some(engine.start(&options)?)
            }
            _ => None,
        };
        let sink = local.as_ref().map(|l| l.sink());
        let client = match (&self.client, &sink) {
            (Some(client), _) => client.clone(),
            (None, Some(sink)) => Client::with_sink(sink.clone()),
            (None, None) => Client::from_config(&config),
        };
        let step_env = Arc::new(StepEnv {
            app_id: app_id.clone(),
            client,
        });
        let service = InngestService::new(Inner {
            step_env,
            config,
            app_id,
            app_version: self.version,
            registry,
            client: http,
            checkpointing: self.checkpointing.unwrap_or_default(),
            streaming: self
                .streaming
                .unwrap_or_else(crate::config::streaming_from_env)
                .then(|| {
                    self.keepalive
                        .filter(|k| !k.is_zero())
                        .unwrap_or(crate::serving::streaming::KEEPALIVE)
                }),
            check_path,
            beside: local.as_ref().map(|l| l.clone().beside()),
        });
        if let (Some(local), Some(sink)) = (local, sink) {
            local.attach(&service)?;
            crate::client::install_local(&sink);
            crate::app::serve::announce(
                "running the embedded Inngest engine in this process: send events with inngest::send or to POST /e/<key> on this server; each run is logged as it happens and shown on the page of runs at / of this server. Set INNGEST_DEV=1 to use an Inngest dev server, or INNGEST_SIGNING_KEY for Inngest Cloud.",
            );
        }
        Ok(service)
    }
}

/// Runs an app's functions in its own process: the embedded engine, which the edge of the
/// SDK provides (`crate::local_engine`). The app layer knows it only through this.
pub(crate) trait LocalEngine: Send + Sync {
    /// Starts an engine with no functions yet.
    fn start(&self, options: &LocalOptions) -> Result<Arc<dyn LocalRun>, Error>;
}

/// How the app wants its local engine.
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalOptions {
    /// A constant retry interval instead of Inngest's backoff.
    #[cfg_attr(not(feature = "engine"), allow(dead_code))]
    pub retry_interval: Option<Duration>,
    /// Where the engine keeps its state (`App::persist`); `None` falls back to the
    /// environment (`INNGEST_PERSIST`, `INNGEST_SQLITE_DIR`).
    #[cfg_attr(not(feature = "persist"), allow(dead_code))]
    pub persist: Option<std::path::PathBuf>,
}

/// A running local engine.
pub(crate) trait LocalRun: Send + Sync + 'static {
    /// Delivers events into it.
    fn sink(&self) -> Arc<dyn EventSink>;
    /// Syncs the app's functions with it, called in-process through `service`.
    fn attach(&self, service: &InngestService) -> Result<(), Error>;
    /// Its HTTP API, served beside the app's endpoint.
    fn beside(self: Arc<Self>) -> Arc<dyn Beside>;
}
