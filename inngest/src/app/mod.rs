//! [`App`]: an explicitly built app, and [`serve`], the zero-configuration entry point.

pub(crate) mod config;
pub(crate) mod serve;

use crate::client::Client;
use crate::app::config::{Config, Mode, Overrides, Secret};
use crate::error::Error;
use crate::function::{Function, Registration};
use crate::serving::handler::{Inner, InngestService};
use crate::serving::registry::{resolve_app_id, Registry};
use crate::app::serve::Serve;
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
    explicit: Vec<Registration>,
    overrides: Overrides,
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
    /// answered with 408.
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

    /// With the embedded engine: retry after `interval × attempt` instead of Inngest's backoff
    /// table (what `INNGEST_RETRY_INTERVAL` does, in seconds).
    pub fn retry_interval(mut self, interval: std::time::Duration) -> Self {
        self.overrides.retry_interval = Some(interval);
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
    pub(crate) fn register_registration(mut self, registration: Registration) -> Self {
        self.explicit.push(registration);
        self
    }

    /// The app with another event client for its steps (for `inngest::testing`).
    pub(crate) fn with_client(mut self, client: Client) -> Self {
        self.overrides.client = Some(client);
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
        let registry = Registry::build(&app_id, &registrations)?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(Error::new)?;
        let engine = (config.mode == Mode::Embedded).then(|| {
            let mut engine_config = crate::dev::EngineConfig::default();
            if let Some(interval) = self.overrides.retry_interval {
                engine_config.retry_interval = Some(interval);
            }
            crate::dev::Engine::new(engine_config)
        });
        let client = match (&self.overrides.client, &engine) {
            (Some(client), _) => client.clone(),
            (None, Some(engine)) => Client::embedded(engine.clone()),
            (None, None) => Client::from_config(&config),
        };
        let step_env = std::sync::Arc::new(StepEnv {
            app_id: app_id.clone(),
            client,
        });
        let service = InngestService::new(Inner {
            step_env,
            config,
            app_id,
            registry,
            client: http,
            check_path,
            engine: engine.clone(),
        });
        if let Some(engine) = engine {
            service.register_with(&engine)?;
            crate::app::serve::announce(
                "no INNGEST_DEV or INNGEST_SIGNING_KEY set: running the embedded Inngest engine in this process (send events to POST /e/<key> on this server or with inngest::send). Set INNGEST_DEV=1 to use the Inngest dev server, or INNGEST_SIGNING_KEY for Inngest Cloud.",
            );
            if check_path {
                crate::client::set_embedded(engine);
            }
        }
        Ok(service)
    }
}
