//! `POST /v0/gql`: the dev server's GraphQL API (`pkg/coreapi/*.graphql` of the Inngest
//! server) for what the engine keeps: runs with their traces, triggers and outputs, events,
//! apps and functions, and the mutations of the dev server's page (cancel, rerun, invoke,
//! delete an app). Names, types and shapes are the server's; a field the engine does not
//! implement is a GraphQL error naming it (the query's validation), never a crash.
//!
//! Beyond the server's schema, two extensions the page uses: `FunctionRunV2.triggeredRuns`
//! (the failure and cancellation handlers a run's end started, and the runs it invoked) and
//! the mutation `sendEvent`.

mod mutation;
mod query;
mod trace;
mod types;

use async_graphql::{EmptySubscription, Value as GqlValue};
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;

use super::reply::{json_response, with_type};
use super::Req;
use crate::shell::engine::{Engine, WeakEngine};

pub(crate) use types::{app_uuid, function_uuid};

/// The schema, with the engine (held weakly) as its data.
pub(crate) type Schema = async_graphql::Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// Builds the schema once per API.
pub(crate) fn schema(engine: WeakEngine) -> Schema {
    async_graphql::Schema::build(query::Query, mutation::Mutation, EmptySubscription)
        .data(engine)
        .limit_depth(32)
        .limit_complexity(100_000)
        .finish()
}

/// The engine a resolver reads, or an error once it has stopped.
pub(crate) fn engine(ctx: &async_graphql::Context<'_>) -> async_graphql::Result<Engine> {
    ctx.data::<WeakEngine>()?
        .upgrade()
        .ok_or_else(|| async_graphql::Error::new("the engine has stopped"))
}

/// Runs a GraphQL request: 200 with `data` (and `errors` from resolvers), or 422 when the
/// request does not parse or validate (gqlgen's answer), naming what is wrong.
pub(crate) async fn execute(schema: &Schema, req: &Req<'_>) -> Response<Full<Bytes>> {
    let request: async_graphql::Request = match serde_json::from_slice(req.body) {
        Ok(r) => r,
        Err(e) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({"errors": [{"message": format!("the body is not a GraphQL request: {e}")}], "data": null}),
            )
        }
    };
    let response = schema.execute(request).await;
    let status = if response.data == GqlValue::Null && !response.errors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    json_response(status, &response)
}

/// `GET /v0/gql`: a page that says how to query (the dev server shows a playground here).
pub(crate) fn playground() -> Response<Full<Bytes>> {
    with_type(
        StatusCode::OK,
        "text/html; charset=utf-8",
        Bytes::from_static(
            b"<!doctype html><title>GraphQL</title><p>POST GraphQL requests here: \
              <code>{\"query\": \"{ runs(filter: {from: \\\"2020-01-01T00:00:00Z\\\"}, orderBy: []) { edges { node { id status } } } }\"}</code>. \
              The schema is the Inngest dev server's (introspection is on).</p>",
        ),
    )
}
