//! The GraphQL types of the dev server's schema that the engine answers, and their
//! conversion from the core's runs, events, apps and functions.

use std::time::SystemTime;

use async_graphql::{ComplexObject, Context, Enum, InputObject, SimpleObject};
use inngest_protocol::time::rfc3339_millis;
use serde::{Deserialize, Serialize};

use crate::core::{RunRef, RunStatus};

macro_rules! string_scalar {
    ($(#[$doc:meta])* $ty:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub(crate) struct $ty(pub String);
        async_graphql::scalar!($ty, $name);
    };
}

string_scalar!(
    /// A time, RFC 3339.
    Time,
    "Time"
);
string_scalar!(
    /// A ULID (run and event ids).
    Ulid,
    "ULID"
);
string_scalar!(
    /// A UUID (app and function ids: deterministic from their names).
    Uuid,
    "UUID"
);
string_scalar!(
    /// JSON text.
    Bytes,
    "Bytes"
);

/// Any JSON value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Map(pub serde_json::Value);
async_graphql::scalar!(Map, "Map");

/// Any JSON value (a step error's `cause`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Unknown(pub serde_json::Value);
async_graphql::scalar!(Unknown, "Unknown");

pub(crate) fn time(t: SystemTime) -> Time {
    Time(rfc3339_millis(t))
}

/// A deterministic UUID from a name (apps by name, functions by slug), as the dev server
/// derives its ids.
fn uuid_of(kind: &str, name: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("{kind}:{name}").as_bytes(),
    )
    .to_string()
}

/// The UUID of an app.
pub(crate) fn app_uuid(app: &str) -> String {
    uuid_of("app", app)
}

/// The UUID of a function.
pub(crate) fn function_uuid(slug: &str) -> String {
    uuid_of("function", slug)
}

/// A run's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "FunctionRunStatus", rename_items = "SCREAMING_SNAKE_CASE")]
pub(crate) enum FunctionRunStatus {
    Completed,
    Failed,
    Cancelled,
    Running,
    Queued,
    Skipped,
}

impl From<RunStatus> for FunctionRunStatus {
    fn from(s: RunStatus) -> Self {
        match s {
            RunStatus::Completed => FunctionRunStatus::Completed,
            RunStatus::Failed => FunctionRunStatus::Failed,
            RunStatus::Cancelled => FunctionRunStatus::Cancelled,
            _ => FunctionRunStatus::Running,
        }
    }
}

/// The time a runs filter and ordering look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
#[allow(clippy::enum_variant_names)] // the schema's names
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub(crate) enum RunsV2OrderByField {
    #[default]
    QueuedAt,
    StartedAt,
    EndedAt,
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub(crate) enum RunsOrderByDirection {
    Asc,
    Desc,
}

/// An ordering of runs.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct RunsV2OrderBy {
    pub field: RunsV2OrderByField,
    pub direction: RunsOrderByDirection,
}

/// Which runs to list.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct RunsFilterV2 {
    pub from: Time,
    pub until: Option<Time>,
    #[graphql(default)]
    pub time_field: Option<RunsV2OrderByField>,
    pub status: Option<Vec<FunctionRunStatus>>,
    #[graphql(name = "functionIDs")]
    pub function_ids: Option<Vec<Uuid>>,
    #[graphql(name = "appIDs")]
    pub app_ids: Option<Vec<Uuid>>,
    pub is_deferred: Option<bool>,
    pub query: Option<String>,
}

/// `event(query:)`.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct EventQuery {
    #[graphql(default_with = "async_graphql::ID::from(\"local\")")]
    pub workspace_id: async_graphql::ID,
    pub event_id: async_graphql::ID,
}

/// `events(query:)`.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct EventsQuery {
    #[graphql(default_with = "async_graphql::ID::from(\"local\")")]
    pub workspace_id: async_graphql::ID,
    pub last_event_id: Option<async_graphql::ID>,
}

/// `functionBySlug(query:)`.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct FunctionQuery {
    #[graphql(default_with = "async_graphql::ID::from(\"local\")")]
    pub workspace_id: async_graphql::ID,
    pub function_slug: String,
}

/// `eventsV2(filter:)`.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct EventsFilter {
    pub event_names: Option<Vec<String>>,
    pub from: Time,
    #[graphql(default = false)]
    pub include_internal_events: bool,
    pub query: Option<String>,
    pub until: Option<Time>,
}

/// Pagination.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// A run (the server's `FunctionRunV2`).
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub(crate) struct FunctionRunV2 {
    pub id: Ulid,
    #[graphql(name = "appID")]
    pub app_id: Uuid,
    #[graphql(name = "functionID")]
    pub function_id: Uuid,
    #[graphql(name = "traceID")]
    pub trace_id: String,
    pub queued_at: Time,
    pub started_at: Option<Time>,
    pub ended_at: Option<Time>,
    pub status: FunctionRunStatus,
    #[graphql(name = "sourceID")]
    pub source_id: Option<String>,
    #[graphql(name = "triggerIDs")]
    pub trigger_ids: Vec<Ulid>,
    pub event_name: Option<String>,
    pub is_batch: bool,
    pub batch_created_at: Option<Time>,
    pub cron_schedule: Option<String>,
    pub output: Option<Bytes>,
    #[graphql(name = "hasAI")]
    pub has_ai: bool,
    pub is_deferred: bool,
    #[graphql(skip)]
    pub slug: String,
    #[graphql(skip)]
    pub app_name: Option<String>,
}

impl FunctionRunV2 {
    pub(crate) fn from_run(r: &RunRef<'_>) -> FunctionRunV2 {
        let ended = r.status() != RunStatus::Running;
        FunctionRunV2 {
            id: Ulid(r.id().to_owned()),
            app_id: Uuid(app_uuid(r.app_id().unwrap_or_default())),
            function_id: Uuid(function_uuid(r.function_id())),
            trace_id: r.id().to_owned(),
            queued_at: time(r.started_at()),
            started_at: Some(time(r.started_at())),
            ended_at: r.ended_at().filter(|_| ended).map(time),
            status: r.status().into(),
            source_id: r.source_run_id().map(str::to_owned),
            trigger_ids: r
                .events()
                .iter()
                .filter_map(|e| e["id"].as_str())
                .map(|id| Ulid(id.to_owned()))
                .collect(),
            event_name: (r.cron().is_none()).then(|| r.event_name().to_owned()),
            is_batch: r.events().len() > 1,
            batch_created_at: None,
            cron_schedule: r.cron().map(str::to_owned),
            output: r.output().filter(|_| ended).map(|o| Bytes(o.to_string())),
            has_ai: false,
            is_deferred: false,
            slug: r.function_id().to_owned(),
            app_name: r.app_id().map(str::to_owned),
        }
    }
}

#[ComplexObject]
impl FunctionRunV2 {
    /// The run's trace: a root span for the run, a child per step (named by the user's step
    /// id), with a child per attempt when a step was tried more than once.
    async fn trace(
        &self,
        ctx: &Context<'_>,
        preview: Option<bool>,
    ) -> async_graphql::Result<Option<super::trace::RunTraceSpan>> {
        let _ = preview;
        let engine = super::engine(ctx)?;
        Ok(engine.inspect(|core| core.run_info(&self.id.0).map(|r| super::trace::trace(&r))))
    }

    /// The function.
    async fn function(&self, ctx: &Context<'_>) -> async_graphql::Result<Function> {
        let engine = super::engine(ctx)?;
        Ok(engine
            .inspect(|core| {
                core.functions()
                    .find(|f| f.slug == self.slug)
                    .map(|f| Function::from_ref(&f))
            })
            .unwrap_or_else(|| Function::gone(&self.slug, self.app_name.as_deref())))
    }

    /// The app.
    async fn app(&self, ctx: &Context<'_>) -> async_graphql::Result<App> {
        let engine = super::engine(ctx)?;
        let name = self.app_name.clone().unwrap_or_default();
        Ok(engine
            .inspect(|core| {
                core.apps()
                    .into_iter()
                    .find(|a| a.id == name)
                    .map(|a| App::from_view(&a))
            })
            .unwrap_or_else(|| App::gone(&name)))
    }

    /// Extension: the runs this run's end started (its failure or cancellation handler) and
    /// the runs it invoked, oldest first.
    async fn triggered_runs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FunctionRunV2>> {
        let engine = super::engine(ctx)?;
        Ok(engine.inspect(|core| {
            core.runs_about(&self.id.0)
                .iter()
                .map(FunctionRunV2::from_run)
                .collect()
        }))
    }
}

/// A legacy run (`event.functionRuns`).
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct FunctionRun {
    pub id: async_graphql::ID,
    #[graphql(name = "functionID")]
    pub function_id: String,
    pub status: Option<FunctionRunStatus>,
    pub started_at: Option<Time>,
    pub finished_at: Option<Time>,
    pub output: Option<String>,
    #[graphql(name = "eventID")]
    pub event_id: async_graphql::ID,
    pub cron: Option<String>,
}

impl FunctionRun {
    pub(crate) fn from_run(r: &RunRef<'_>) -> FunctionRun {
        FunctionRun {
            id: r.id().into(),
            function_id: r.function_id().to_owned(),
            status: Some(r.status().into()),
            started_at: Some(time(r.started_at())),
            finished_at: r.ended_at().map(time),
            output: r
                .output()
                .filter(|_| r.status() != RunStatus::Running)
                .map(|o| o.to_string()),
            event_id: r.event_id().into(),
            cron: r.cron().map(str::to_owned),
        }
    }
}

/// A trigger of a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub(crate) enum FunctionTriggerTypes {
    Event,
    Cron,
}

/// A function's trigger.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct FunctionTrigger {
    #[graphql(name = "type")]
    pub kind: FunctionTriggerTypes,
    pub value: String,
    pub condition: Option<String>,
}

/// A function.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct Function {
    pub id: String,
    pub name: String,
    pub slug: String,
    /// The function's configuration as synced, JSON.
    pub config: String,
    pub concurrency: i32,
    pub triggers: Option<Vec<FunctionTrigger>>,
    pub url: String,
    #[graphql(name = "appID")]
    pub app_id: String,
    /// Extension: the app's name (its id in the SDK).
    pub app_name: String,
    /// Extension: retries after the first attempt.
    pub retries: i32,
}

impl Function {
    pub(crate) fn from_ref(f: &crate::core::FunctionRef<'_>) -> Function {
        let config = f.config;
        Function {
            id: function_uuid(f.slug),
            name: if config.name.is_empty() {
                f.slug.to_owned()
            } else {
                config.name.clone()
            },
            slug: f.slug.to_owned(),
            config: serde_json::to_string(config).unwrap_or_default(),
            concurrency: 0,
            triggers: Some(
                config
                    .triggers
                    .iter()
                    .map(|t| match (&t.event, &t.cron) {
                        (Some(e), _) => FunctionTrigger {
                            kind: FunctionTriggerTypes::Event,
                            value: e.clone(),
                            condition: t.expression.clone(),
                        },
                        (None, c) => FunctionTrigger {
                            kind: FunctionTriggerTypes::Cron,
                            value: c.clone().unwrap_or_default(),
                            condition: None,
                        },
                    })
                    .collect(),
            ),
            url: config
                .step()
                .map(|s| s.runtime.url.clone())
                .unwrap_or_default(),
            app_id: app_uuid(f.app_id),
            app_name: f.app_id.to_owned(),
            retries: config.retries() as i32,
        }
    }

    /// A function that is no longer registered (its runs are still kept).
    pub(crate) fn gone(slug: &str, app: Option<&str>) -> Function {
        Function {
            id: function_uuid(slug),
            name: slug.to_owned(),
            slug: slug.to_owned(),
            config: "{}".to_owned(),
            concurrency: 0,
            triggers: None,
            url: String::new(),
            app_id: app_uuid(app.unwrap_or_default()),
            app_name: app.unwrap_or_default().to_owned(),
            retries: 0,
        }
    }
}

/// How an app is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub(crate) enum AppMethod {
    Serve,
    Connect,
    Api,
}

/// An app.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub(crate) struct App {
    pub id: async_graphql::ID,
    #[graphql(name = "externalID")]
    pub external_id: String,
    pub name: String,
    pub sdk_language: String,
    pub sdk_version: String,
    pub framework: Option<String>,
    pub url: Option<String>,
    pub checksum: Option<String>,
    pub error: Option<String>,
    pub method: AppMethod,
    pub app_version: Option<String>,
    pub connected: bool,
    pub function_count: i32,
    pub autodiscovered: bool,
    #[graphql(skip)]
    pub slugs: Vec<String>,
}

impl App {
    pub(crate) fn from_view(a: &crate::core::AppView) -> App {
        let (language, version) = a
            .sdk
            .split_once(':')
            .map(|(l, v)| (l.to_owned(), v.trim_start_matches('v').to_owned()))
            .unwrap_or_else(|| (a.sdk.clone(), String::new()));
        App {
            id: app_uuid(&a.id).into(),
            external_id: a.id.clone(),
            name: a.id.clone(),
            sdk_language: language,
            sdk_version: version,
            framework: None,
            url: Some(a.url.clone()),
            checksum: None,
            error: None,
            method: AppMethod::Serve,
            app_version: None,
            connected: true,
            function_count: a.functions.len() as i32,
            autodiscovered: false,
            slugs: a.functions.clone(),
        }
    }

    fn gone(name: &str) -> App {
        App::from_view(&crate::core::AppView {
            id: name.to_owned(),
            url: String::new(),
            sdk: String::new(),
            functions: Vec::new(),
        })
    }
}

#[ComplexObject]
impl App {
    /// Its functions.
    async fn functions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Function>> {
        let engine = super::engine(ctx)?;
        Ok(engine.inspect(|core| {
            core.functions()
                .filter(|f| self.slugs.iter().any(|s| s == f.slug))
                .map(|f| Function::from_ref(&f))
                .collect()
        }))
    }
}
