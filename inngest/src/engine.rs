//! The local engine, at the edge of the SDK (feature `engine`, on by default).
//!
//! [`inngest-engine`](inngest_engine) runs functions as the Inngest server does. In embedded
//! mode (`INNGEST_DEV=embedded`, [`App::embedded`](crate::App::embedded), or nothing
//! configured in a debug build) `serve()` starts one in its own process: the app's functions
//! are called in-process (no sockets), `inngest::send` and `step.send_event` deliver into it,
//! its runs are logged as they happen, and its HTTP API (the Inngest dev server's: `POST
//! /e/<key>`, `POST /fn/register`, `GET /v1/runs/<id>`, ...) shares the app's port.
//!
//! An engine can also run on its own in front of apps in any language
//! ([`serve`](fn@serve)), or in front of this app in a test ([`InngestService::register_with`]).
//!
//! Nothing below this module names the engine: the app layer asks for a local engine
//! through a trait, and this module provides it.

use std::any::Any;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use inngest_engine::{EngineService, ServiceTransport};
use inngest_protocol::realtime::{RealtimeMessage, KIND_DATA};
use inngest_protocol::register::RegisterRequest;
use serde_json::Value;

use crate::app::{LocalEngine, LocalOptions, LocalRun};
use crate::client::{EventSink, Publish, TraceHeaders};
use crate::config::var;
use crate::error::Error;
use crate::sdk::SDK_NAME;
use crate::serving::body::Body;
use crate::serving::checkpoint::{CheckpointSink, InProcessCheckpoints};
use crate::serving::handler::{Beside, Inner, InngestService};
use crate::serving::sync::FRAMEWORK;
use crate::BoxFuture;

pub use inngest_engine::{
    serve, AppView, Engine, EngineConfig, EngineError, Happening, RunStatus, RunView, StepRecord,
    Synced, WeakEngine,
};
pub use inngest_protocol::op::Opcode;

/// The embedded engine, as the app layer starts it.
pub(crate) struct Embedded;

impl LocalEngine for Embedded {
    fn start(&self, options: &LocalOptions) -> Result<Arc<dyn LocalRun>, Error> {
        let interval = options.retry_interval.or_else(|| {
            var("INNGEST_RETRY_INTERVAL")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| *n >= 1)
                .map(std::time::Duration::from_secs)
        });
        let mut config = EngineConfig::default();
        if let Some(interval) = interval {
            config = config.retry_interval(interval);
        }
        // `INNGEST_PERSIST` and `INNGEST_SQLITE_DIR`, as the dev server reads them.
        let from_env = var("INNGEST_PERSIST")
            .is_some_and(|v| !matches!(v.trim(), "" | "0" | "false" | "no" | "off"))
            .then(|| {
                std::path::PathBuf::from(var("INNGEST_SQLITE_DIR").unwrap_or(".inngest".into()))
            });
        #[cfg(feature = "persist")]
        if let Some(dir) = options.persist.clone().or(from_env) {
            config = config.persist(dir);
        }
        #[cfg(not(feature = "persist"))]
        if from_env.is_some() {
            return Err(Error::msg(
                "INNGEST_PERSIST is set, but this build of inngest has no store: enable its feature `persist`",
            ));
        }
        let engine = Engine::start(config).map_err(Error::new)?;
        Ok(Arc::new(Running {
            api: EngineService::new(engine.clone()),
            engine,
        }))
    }
}

/// An engine an app started.
struct Running {
    engine: Engine,
    api: EngineService,
}

impl LocalRun for Running {
    fn sink(&self) -> Arc<dyn EventSink> {
        Arc::new(Sink(self.engine.downgrade()))
    }

    fn attach(&self, service: &InngestService) -> Result<(), Error> {
        service.register_with(&self.engine).map(|_| ())
    }

    fn beside(self: Arc<Self>) -> Arc<dyn Beside> {
        self
    }
}

impl Beside for Running {
    fn owns(&self, path: &str) -> bool {
        EngineService::owns(path)
    }

    fn handle(&self, req: Request<Bytes>) -> BoxFuture<Response<Body>> {
        let api = self.api.clone();
        let (parts, body) = req.into_parts();
        Box::pin(async move {
            api.handle(Request::from_parts(parts, Full::new(body)))
                .await
                .map(Body::streamed)
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn shutdown(&self) {
        self.engine.realtime().close();
    }
}

/// Delivers events into an engine (held weakly: the app's service keeps it running).
struct Sink(WeakEngine);

impl Sink {
    fn engine(&self) -> Result<Engine, Error> {
        self.0
            .upgrade()
            .ok_or_else(|| Error::msg("the embedded engine has stopped"))
    }
}

impl EventSink for Sink {
    fn deliver(&self, events: Vec<Value>) -> BoxFuture<Result<Vec<String>, Error>> {
        self.deliver_traced(events, None)
    }

    fn signal(&self, signal: String, data: Value) -> BoxFuture<Result<Option<String>, Error>> {
        let resumed = self.engine().and_then(|engine| {
            engine
                .signal(&signal, data)
                .map_err(|e| Error::msg(format!("Failed to send signal: {e}")))
        });
        Box::pin(async move { resumed })
    }

    fn publish(&self, message: Publish) -> BoxFuture<Result<(), Error>> {
        let published = self.engine().map(|engine| {
            engine.realtime().publish(RealtimeMessage {
                kind: KIND_DATA.to_owned(),
                data: message.data,
                metadata: None,
                created_at: inngest_protocol::time::rfc3339_millis(std::time::SystemTime::now()),
                channel: message.channel,
                topic: message.topic,
                run_id: message.run_id,
            });
        });
        Box::pin(async move { published })
    }

    fn deliver_traced(
        &self,
        events: Vec<Value>,
        trace: Option<TraceHeaders>,
    ) -> BoxFuture<Result<Vec<String>, Error>> {
        let trace = trace.map(|t| inngest_engine::TraceContext {
            traceparent: t.traceparent,
            tracestate: t.tracestate,
        });
        let sent = self
            .engine()
            .and_then(|engine| engine.send_traced(events, trace).map_err(Error::new));
        Box::pin(async move { sent })
    }
}

impl InngestService {
    /// The embedded engine that runs this app's functions, in embedded mode.
    pub fn engine(&self) -> Option<Engine> {
        let beside = self.inner().beside.as_ref()?;
        let running = beside.as_any().downcast_ref::<Running>()?;
        Some(running.engine.clone())
    }

    /// Syncs this app's functions with `engine`, which then calls them in-process (no
    /// sockets): an engine in front of this app, as in tests. Returns how many functions it
    /// has. The engine does not keep the app alive.
    pub fn register_with(&self, engine: &Engine) -> Result<usize, Error> {
        let checkpoints = InProcessCheckpoints(Arc::new(EngineCheckpoints(engine.downgrade())));
        let transport = ServiceTransport::new(WeakService(self.downgrade(), checkpoints));
        let synced = engine
            .register(&self.register_request(), Arc::new(transport))
            .map_err(Error::new)?;
        Ok(synced.functions)
    }

    /// The register payload of this app, as an engine in this process reads it.
    pub(crate) fn register_request(&self) -> RegisterRequest {
        let inner = self.inner();
        let url = format!("http://127.0.0.1{}", inner.config.serve_path);
        RegisterRequest {
            url: url.clone(),
            v: "0.1".to_owned(),
            deploy_type: "ping".to_owned(),
            sdk: SDK_NAME.to_owned(),
            framework: Some(FRAMEWORK.to_owned()),
            app_name: inner.app_id.clone(),
            app_version: inner.app_version.clone(),
            capabilities: None,
            functions: inner.registry.configs(&url),
        }
    }
}

/// The app's endpoint as a `tower::Service` that does not keep the app alive; the calls it
/// passes on checkpoint into the engine that makes them.
#[derive(Clone)]
struct WeakService(Weak<Inner>, InProcessCheckpoints);

/// Checkpoints saved into an engine in this process (held weakly), as its `POST
/// /v1/checkpoint/{runId}/async` saves them.
struct EngineCheckpoints(WeakEngine);

impl CheckpointSink for EngineCheckpoints {
    fn save(&self, body: &[u8]) -> Result<(), (u16, String)> {
        let engine = self
            .0
            .upgrade()
            .ok_or((503, "the engine has stopped".to_owned()))?;
        let checkpoint = serde_json::from_slice(body)
            .map_err(|e| (400, format!("invalid request body: {e}")))?;
        engine
            .checkpoint(&checkpoint)
            .map_err(|e| (e.status, e.message))
    }
}

impl tower_service::Service<Request<Full<Bytes>>> for WeakService {
    type Response = Response<Body>;
    type Error = Error;
    type Future = BoxFuture<Result<Response<Body>, Error>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<Full<Bytes>>) -> Self::Future {
        req.extensions_mut().insert(self.1.clone());
        let service = self.0.upgrade().map(InngestService::from_inner);
        Box::pin(async move {
            let service = service.ok_or_else(|| Error::msg("the app is no longer served"))?;
            Ok(service.handle(req).await)
        })
    }
}
