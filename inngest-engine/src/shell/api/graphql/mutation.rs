//! The mutations of the dev server's page: `cancelRun`, `rerun`, `invokeFunction`,
//! `deleteApp`, `deleteAppByName`, and the engine's extension `sendEvent`.

use async_graphql::{Context, Object};
use serde_json::{json, Value};

use super::engine;
use super::types::{FunctionRun, Map, Ulid};

/// The mutation root.
pub(crate) struct Mutation;

#[Object]
impl Mutation {
    /// Cancels a running run.
    async fn cancel_run(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "runID")] run_id: Ulid,
    ) -> async_graphql::Result<FunctionRun> {
        let engine = engine(ctx)?;
        if !engine.cancel(&run_id.0) {
            let known = engine.inspect(|core| core.run_info(&run_id.0).is_some());
            return Err(async_graphql::Error::new(if known {
                format!("run {} is not running", run_id.0)
            } else {
                format!("no run `{}`", run_id.0)
            }));
        }
        engine
            .inspect(|core| core.run_info(&run_id.0).map(|r| FunctionRun::from_run(&r)))
            .ok_or_else(|| async_graphql::Error::new(format!("no run `{}`", run_id.0)))
    }

    /// Runs a run's function again with the same event; returns the new run's id.
    async fn rerun(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "runID")] run_id: Ulid,
    ) -> async_graphql::Result<Ulid> {
        let engine = engine(ctx)?;
        engine
            .act(|core, now| core.rerun(&run_id.0, now))
            .map(Ulid)
            .ok_or_else(|| {
                async_graphql::Error::new(format!(
                    "no run `{}` whose function is registered",
                    run_id.0
                ))
            })
    }

    /// Invokes a function with `data` (and `user`).
    async fn invoke_function(
        &self,
        ctx: &Context<'_>,
        data: Option<Map>,
        function_slug: String,
        user: Option<Map>,
    ) -> async_graphql::Result<Option<bool>> {
        let engine = engine(ctx)?;
        let mut event = json!({"data": data.map_or(json!({}), |m| m.0)});
        if let Some(user) = user {
            event["user"] = user.0;
        }
        match engine.act(|core, now| core.invoke_function(&function_slug, event, now)) {
            Some(_) => Ok(Some(true)),
            None => Err(async_graphql::Error::new(format!(
                "function not found: {function_slug}"
            ))),
        }
    }

    /// Removes an app (by its UUID or name) and its functions; returns its id.
    async fn delete_app(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<String> {
        let engine = engine(ctx)?;
        let removed = engine.act(|core, _| {
            let name = core
                .apps()
                .into_iter()
                .find(|a| a.id == id || super::types::app_uuid(&a.id) == id)?
                .id;
            core.remove_app(&name).then_some(name)
        });
        removed
            .map(|_| id.clone())
            .ok_or_else(|| async_graphql::Error::new(format!("no app `{id}`")))
    }

    /// Removes an app by name.
    async fn delete_app_by_name(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> async_graphql::Result<bool> {
        let engine = engine(ctx)?;
        Ok(engine.act(|core, _| core.remove_app(&name)))
    }

    /// Extension: sends events (one event object or an array, as `POST /e/{key}` takes);
    /// returns their ids.
    async fn send_event(&self, ctx: &Context<'_>, events: Map) -> async_graphql::Result<Vec<Ulid>> {
        let engine = engine(ctx)?;
        let events = match events.0 {
            Value::Array(events) => events,
            one => vec![one],
        };
        engine
            .send(events)
            .map(|ids| ids.into_iter().map(Ulid).collect())
            .map_err(|e| async_graphql::Error::new(e.to_string()))
    }
}
