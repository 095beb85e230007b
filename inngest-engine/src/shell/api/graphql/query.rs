//! The queries: `run`, `runs`, `runTrigger`, `runTrace`, `runTraceSpanOutputByID`, `event`,
//! `events`, `eventV2`, `eventsV2`, `apps`, `app`, `functions`, `functionBySlug`.

use async_graphql::{Context, Object, SimpleObject, ID};
use inngest_protocol::time::{from_unix_millis, parse_rfc3339};
use serde_json::Value;

use super::engine;
use super::trace::{self, RunTraceSpan};
use super::types::{
    time, App, Bytes, EventQuery, EventsFilter, EventsQuery, Function, FunctionQuery, FunctionRun,
    FunctionRunStatus, FunctionRunV2, PageInfo, RunsFilterV2, RunsOrderByDirection, RunsV2OrderBy,
    RunsV2OrderByField, Time, Ulid, Unknown, Uuid,
};
use crate::core::{EventRecord, RunRef, RunStatus};

/// The query root.
pub(crate) struct Query;

/// A page of runs.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct RunsV2Connection {
    pub edges: Vec<FunctionRunV2Edge>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

/// A run in a page.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct FunctionRunV2Edge {
    pub node: FunctionRunV2,
    pub cursor: String,
}

/// What triggered a run.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct RunTraceTrigger {
    pub event_name: Option<String>,
    #[graphql(name = "IDs")]
    pub ids: Vec<Ulid>,
    /// Each event, JSON.
    pub payloads: Vec<Bytes>,
    pub timestamp: Time,
    pub is_batch: bool,
    #[graphql(name = "batchID")]
    pub batch_id: Option<Ulid>,
    pub cron: Option<String>,
}

/// A step's error.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct StepError {
    pub message: String,
    pub name: Option<String>,
    pub stack: Option<String>,
    pub cause: Option<Unknown>,
}

/// A span's output.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct RunTraceSpanOutput {
    pub input: Option<Bytes>,
    /// The output, JSON.
    pub data: Option<Bytes>,
    pub error: Option<StepError>,
}

/// An event (the legacy `Event` type).
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub(crate) struct Event {
    pub id: Ulid,
    #[graphql(name = "externalID")]
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub created_at: Option<Time>,
    /// The event's data, JSON.
    pub payload: Option<String>,
    /// The whole event, JSON.
    pub raw: Option<String>,
}

#[async_graphql::ComplexObject]
impl Event {
    /// The runs it started.
    async fn function_runs(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<FunctionRun>>> {
        let engine = engine(ctx)?;
        Ok(Some(engine.inspect(|core| {
            core.event_run_refs(&self.id.0)
                .iter()
                .map(FunctionRun::from_run)
                .collect()
        })))
    }

    /// How many runs it started.
    async fn total_runs(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        let engine = engine(ctx)?;
        Ok(Some(engine.inspect(|core| {
            core.event_run_refs(&self.id.0).len() as i32
        })))
    }

    /// How many of them are running.
    async fn pending_runs(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        let engine = engine(ctx)?;
        Ok(Some(engine.inspect(|core| {
            core.event_run_refs(&self.id.0)
                .iter()
                .filter(|r| r.status() == RunStatus::Running)
                .count() as i32
        })))
    }
}

fn legacy_event(e: &EventRecord) -> Event {
    Event {
        id: Ulid(e.id.clone()),
        external_id: Some(e.id.clone()),
        name: Some(e.name.clone()),
        created_at: Some(time(from_unix_millis(
            e.event["ts"].as_u64().unwrap_or(e.received_at),
        ))),
        payload: Some(
            e.event
                .get("data")
                .cloned()
                .unwrap_or(Value::Null)
                .to_string(),
        ),
        raw: Some(e.event.to_string()),
    }
}

/// An event (`EventV2`).
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub(crate) struct EventV2 {
    #[graphql(name = "envID")]
    pub env_id: Uuid,
    pub id: Ulid,
    pub idempotency_key: Option<String>,
    pub name: String,
    pub occurred_at: Time,
    pub raw: String,
    pub received_at: Time,
    pub version: Option<String>,
}

#[async_graphql::ComplexObject]
impl EventV2 {
    /// The runs it started.
    async fn runs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FunctionRunV2>> {
        let engine = engine(ctx)?;
        Ok(engine.inspect(|core| {
            core.event_run_refs(&self.id.0)
                .iter()
                .map(FunctionRunV2::from_run)
                .collect()
        }))
    }
}

fn event_v2(e: &EventRecord) -> EventV2 {
    EventV2 {
        env_id: Uuid(super::super::events::NIL_UUID.to_owned()),
        id: Ulid(e.id.clone()),
        idempotency_key: Some(e.id.clone()),
        name: e.name.clone(),
        occurred_at: time(from_unix_millis(
            e.event["ts"].as_u64().unwrap_or(e.received_at),
        )),
        raw: e.event.to_string(),
        received_at: time(from_unix_millis(e.received_at)),
        version: e.event["v"].as_str().map(str::to_owned),
    }
}

/// A page of events.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct EventsConnection {
    pub edges: Vec<EventsEdge>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

/// An event in a page.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct EventsEdge {
    pub node: EventV2,
    pub cursor: String,
}

fn parse_time(t: &Time) -> async_graphql::Result<u64> {
    parse_rfc3339(&t.0)
        .map(inngest_protocol::time::unix_millis)
        .ok_or_else(|| async_graphql::Error::new(format!("not an RFC 3339 time: {}", t.0)))
}

fn run_time(r: &RunRef<'_>, field: RunsV2OrderByField) -> Option<u64> {
    match field {
        RunsV2OrderByField::QueuedAt | RunsV2OrderByField::StartedAt => {
            Some(inngest_protocol::time::unix_millis(r.started_at()))
        }
        RunsV2OrderByField::EndedAt => r
            .ended_at()
            .filter(|_| r.status() != RunStatus::Running)
            .map(inngest_protocol::time::unix_millis),
    }
}

#[Object]
impl Query {
    /// A run.
    async fn run(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "runID")] run_id: String,
    ) -> async_graphql::Result<Option<FunctionRunV2>> {
        let engine = engine(ctx)?;
        engine
            .inspect(|core| core.run_info(&run_id).map(|r| FunctionRunV2::from_run(&r)))
            .map(Some)
            .ok_or_else(|| {
                async_graphql::Error::new(format!("error retrieving run: no run `{run_id}`"))
            })
    }

    /// Runs, newest first by default: `filter` by time (`from` is required), status,
    /// function and app; `first` (at most 400) after the cursor `after`.
    async fn runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
        after: Option<String>,
        order_by: Vec<RunsV2OrderBy>,
        filter: RunsFilterV2,
        preview: Option<bool>,
    ) -> async_graphql::Result<RunsV2Connection> {
        let _ = preview;
        if filter
            .query
            .as_deref()
            .is_some_and(|q| !q.trim().is_empty())
        {
            return Err(async_graphql::Error::new(
                "the `query` filter (CEL over runs) is not supported by this engine",
            ));
        }
        let engine = engine(ctx)?;
        let from = parse_time(&filter.from)?;
        let until = filter.until.as_ref().map(parse_time).transpose()?;
        let field = filter.time_field.unwrap_or_default();
        let order = order_by.first().cloned().unwrap_or(RunsV2OrderBy {
            field,
            direction: RunsOrderByDirection::Desc,
        });
        let first = first.clamp(1, 400) as usize;
        let statuses = filter.status.clone();
        let functions = filter.function_ids.clone();
        let apps = filter.app_ids.clone();
        let (edges, total, more) = engine.inspect(|core| {
            let mut runs: Vec<(u64, RunRef<'_>)> = core
                .runs_iter()
                .filter(|r| {
                    statuses
                        .as_ref()
                        .is_none_or(|s| s.contains(&FunctionRunStatus::from(r.status())))
                        && functions.as_ref().is_none_or(|ids| {
                            ids.iter().any(|id| {
                                id.0 == r.function_id()
                                    || id.0 == super::types::function_uuid(r.function_id())
                            })
                        })
                        && apps.as_ref().is_none_or(|ids| {
                            let app = r.app_id().unwrap_or_default();
                            ids.iter()
                                .any(|id| id.0 == app || id.0 == super::types::app_uuid(app))
                        })
                })
                .filter_map(|r| {
                    let t = run_time(&r, field)?;
                    (t >= from && until.is_none_or(|u| t <= u)).then_some(r)
                })
                .map(|r| (run_time(&r, order.field).unwrap_or(0), r))
                .collect();
            runs.sort_by(|(ta, a), (tb, b)| (ta, a.id()).cmp(&(tb, b.id())));
            if order.direction == RunsOrderByDirection::Desc {
                runs.reverse();
            }
            let total = runs.len();
            let start = after
                .as_ref()
                .and_then(|c| runs.iter().position(|(_, r)| r.id() == c).map(|p| p + 1))
                .unwrap_or(0);
            let page: Vec<FunctionRunV2Edge> = runs
                .iter()
                .skip(start)
                .take(first)
                .map(|(_, r)| FunctionRunV2Edge {
                    cursor: r.id().to_owned(),
                    node: FunctionRunV2::from_run(r),
                })
                .collect();
            let more = start + page.len() < total;
            (page, total, more)
        });
        Ok(RunsV2Connection {
            page_info: PageInfo {
                has_next_page: more,
                has_previous_page: after.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count: total as i32,
        })
    }

    /// What triggered a run: its events, each as JSON.
    async fn run_trigger(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "runID")] run_id: String,
    ) -> async_graphql::Result<RunTraceTrigger> {
        let engine = engine(ctx)?;
        engine
            .inspect(|core| {
                let r = core.run_info(&run_id)?;
                let ts = r.events().iter().filter_map(|e| e["ts"].as_u64()).min();
                Some(RunTraceTrigger {
                    event_name: r.cron().is_none().then(|| r.event_name().to_owned()),
                    ids: r
                        .events()
                        .iter()
                        .filter_map(|e| e["id"].as_str())
                        .map(|id| Ulid(id.to_owned()))
                        .collect(),
                    payloads: r.events().iter().map(|e| Bytes(e.to_string())).collect(),
                    timestamp: time(ts.map_or(r.started_at(), from_unix_millis)),
                    is_batch: r.events().len() > 1,
                    batch_id: None,
                    cron: r.cron().map(str::to_owned),
                })
            })
            .ok_or_else(|| {
                async_graphql::Error::new(format!("error retrieving run: no run `{run_id}`"))
            })
    }

    /// A run's trace.
    async fn run_trace(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "runID")] run_id: String,
    ) -> async_graphql::Result<RunTraceSpan> {
        let engine = engine(ctx)?;
        engine
            .inspect(|core| core.run_info(&run_id).map(|r| trace::trace(&r)))
            .ok_or_else(|| async_graphql::Error::new("run trace not found"))
    }

    /// The output of a span (its `outputID`): `data` as JSON, or its `error`.
    #[graphql(name = "runTraceSpanOutputByID")]
    async fn run_trace_span_output_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "outputID")] output_id: String,
    ) -> async_graphql::Result<RunTraceSpanOutput> {
        let engine = engine(ctx)?;
        let run_id = output_id.split(':').next().unwrap_or_default().to_owned();
        let (data, error) = engine
            .inspect(|core| {
                core.run_info(&run_id)
                    .and_then(|r| trace::output(&r, &output_id))
            })
            .ok_or_else(|| {
                async_graphql::Error::new(format!(
                    "error parsing span identifier: no output `{output_id}`"
                ))
            })?;
        Ok(RunTraceSpanOutput {
            input: None,
            data: data.map(|d| Bytes(d.to_string())),
            error: error.map(|e| {
                let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
                StepError {
                    message: text("message").unwrap_or_default(),
                    name: text("name"),
                    stack: text("stack")
                        .or_else(|| text("message").is_none().then(|| e.to_string())),
                    cause: e
                        .get("cause")
                        .filter(|c| !c.is_null())
                        .cloned()
                        .map(Unknown),
                }
            }),
        })
    }

    /// An event, by id.
    async fn event(
        &self,
        ctx: &Context<'_>,
        query: EventQuery,
    ) -> async_graphql::Result<Option<Event>> {
        let engine = engine(ctx)?;
        let id = query.event_id.to_string();
        Ok(engine.inspect(|core| match core.event_record(&id) {
            Some(e) => Some(legacy_event(e)),
            // An event the engine no longer keeps, with runs it still keeps.
            None => core.event_run_refs(&id).first().map(|r| Event {
                id: Ulid(id.clone()),
                external_id: Some(id.clone()),
                name: Some(r.event_name().to_owned()),
                created_at: None,
                payload: Some(r.event()["data"].to_string()),
                raw: Some(r.event().to_string()),
            }),
        }))
    }

    /// The latest events (at most 51), newest first, before `lastEventId`.
    async fn events(
        &self,
        ctx: &Context<'_>,
        query: EventsQuery,
    ) -> async_graphql::Result<Option<Vec<Event>>> {
        let engine = engine(ctx)?;
        let last = query.last_event_id.map(|id| id.to_string());
        Ok(Some(engine.inspect(|core| {
            let mut events = core.events_newest_first();
            if let Some(last) = &last {
                for e in events.by_ref() {
                    if &e.id == last {
                        break;
                    }
                }
            }
            events.take(51).map(legacy_event).collect()
        })))
    }

    /// An event, by id.
    #[graphql(name = "eventV2")]
    async fn event_v2(&self, ctx: &Context<'_>, id: Ulid) -> async_graphql::Result<EventV2> {
        let engine = engine(ctx)?;
        engine
            .inspect(|core| core.event_record(&id.0).map(event_v2))
            .ok_or_else(|| async_graphql::Error::new(format!("event not found: {}", id.0)))
    }

    /// Events, newest first.
    #[graphql(name = "eventsV2")]
    async fn events_v2(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 40)] first: i32,
        after: Option<String>,
        filter: EventsFilter,
    ) -> async_graphql::Result<EventsConnection> {
        if filter
            .query
            .as_deref()
            .is_some_and(|q| !q.trim().is_empty())
        {
            return Err(async_graphql::Error::new(
                "the `query` filter (CEL over events) is not supported by this engine",
            ));
        }
        let engine = engine(ctx)?;
        let from = parse_time(&filter.from)?;
        let until = filter.until.as_ref().map(parse_time).transpose()?;
        let first = first.clamp(1, 400) as usize;
        let (edges, total) = engine.inspect(|core| {
            let matching: Vec<&EventRecord> = core
                .events_newest_first()
                .filter(|e| {
                    e.received_at >= from
                        && until.is_none_or(|u| e.received_at <= u)
                        && (filter.include_internal_events
                            || !e
                                .name
                                .starts_with(inngest_protocol::limits::INTERNAL_EVENT_PREFIX))
                        && filter
                            .event_names
                            .as_ref()
                            .is_none_or(|n| n.contains(&e.name))
                })
                .collect();
            let start = after
                .as_ref()
                .and_then(|c| matching.iter().position(|e| &e.id == c).map(|p| p + 1))
                .unwrap_or(0);
            let page: Vec<EventsEdge> = matching
                .iter()
                .skip(start)
                .take(first)
                .map(|e| EventsEdge {
                    cursor: e.id.clone(),
                    node: event_v2(e),
                })
                .collect();
            (page, matching.len())
        });
        Ok(EventsConnection {
            page_info: PageInfo {
                has_next_page: edges.len() == first && total > first,
                has_previous_page: after.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count: total as i32,
        })
    }

    /// The synced apps.
    async fn apps(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<App>> {
        let engine = engine(ctx)?;
        Ok(engine.inspect(|core| core.apps().iter().map(App::from_view).collect()))
    }

    /// An app, by id (its UUID) or name.
    async fn app(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Option<App>> {
        let engine = engine(ctx)?;
        Ok(engine.inspect(|core| {
            core.apps()
                .iter()
                .find(|a| a.id == id.0 || super::types::app_uuid(&a.id) == id.0)
                .map(App::from_view)
        }))
    }

    /// The registered functions.
    async fn functions(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Function>>> {
        let engine = engine(ctx)?;
        Ok(Some(engine.inspect(|core| {
            core.functions().map(|f| Function::from_ref(&f)).collect()
        })))
    }

    /// A function, by slug.
    async fn function_by_slug(
        &self,
        ctx: &Context<'_>,
        query: FunctionQuery,
    ) -> async_graphql::Result<Option<Function>> {
        let engine = engine(ctx)?;
        Ok(engine.inspect(|core| {
            core.functions()
                .find(|f| f.slug == query.function_slug)
                .map(|f| Function::from_ref(&f))
        }))
    }

    /// The workspace (always `local`).
    async fn workspace(&self) -> ID {
        ID::from("local")
    }
}
