//! Function options end to end: functions declared with every option of
//! `#[inngest::function]`, synced with a PUT against a fake dev server, and the register
//! payload's function configs checked field by field against protocol.md section 1.2; and a
//! batched function called with a batch of events.

mod support;

use serde::Deserialize;
use serde_json::{json, Value};
use support::{CallBody, FakeDevServer, Served};

use inngest::{Context, Error, FunctionCancelled};

const APP: &str = "opts-app";
const SERVE_URL: &str = "http://app.example.com/api/inngest";

#[derive(Debug, Deserialize)]
pub struct Order {
    pub order_id: String,
}

/// Every option that can go together (batching cannot go with debounce, cancellation,
/// singleton or priority).
#[inngest::function(
    id = "every-option",
    name = "Every option",
    retries = 2,
    event(name = "shop/order.created", if = "event.data.total > 100"),
    cron(schedule = "TZ=Europe/Paris 0 9 * * MON-FRI", jitter = "5m"),
    concurrency = 10,
    concurrency(limit = 2, key = "event.data.account_id", scope = "env"),
    throttle(limit = 10, period = "1m", burst = 2, key = "event.data.user_id"),
    rate_limit(limit = 100, period = "1h", key = "event.data.user_id"),
    debounce(period = "30s", key = "event.data.order_id", timeout = "5m"),
    cancel_on(
        event = "shop/order.cancelled",
        if = "event.data.order_id == async.data.order_id",
        timeout = "7d"
    ),
    cancel_on(event = "shop/closed"),
    priority(run = "event.data.priority"),
    timeouts(start = "10m", finish = "2h"),
    singleton(key = "event.data.order_id", mode = "cancel")
)]
async fn every_option(ctx: Context<Order>) -> Result<String, Error> {
    Ok(ctx.event.data.order_id)
}

/// Its cancellation handler, registered as `<app>-every-option-cancel`.
#[inngest::on_cancel(every_option)]
async fn every_option_cancelled(ctx: Context<FunctionCancelled<Order>>) -> Result<String, Error> {
    Ok(ctx.event.data.event.data.order_id)
}

/// Idempotency, which replaces a rate limit, with the other forms of the options.
#[inngest::function(
    id = "idempotent",
    event = "shop/payment.received",
    idempotency = "event.data.payment_id",
    concurrency(limit = 1, scope = "fn"),
    timeouts(start = "30s"),
    singleton(mode = "skip")
)]
async fn idempotent(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct Row {
    pub row: u32,
}

/// Batching: up to 3 events per run, in `ctx.events`.
#[inngest::function(
    id = "batched",
    event = "rows/added",
    batch_events(
        max_size = 3,
        timeout = "5s",
        key = "event.data.table",
        if = "event.data.row > 0"
    )
)]
async fn batched(ctx: Context<Row>) -> Result<(usize, Vec<u32>), Error> {
    let rows = ctx.events.iter().map(|event| event.data.row).collect();
    Ok((ctx.events.len(), rows))
}

/// A schedule and nothing else: no option key in its config.
#[inngest::function(id = "nightly", cron = "0 3 * * *")]
async fn nightly(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn app(dev: &FakeDevServer) -> inngest::App {
    inngest::App::new(APP)
        .dev(dev.origin.clone())
        .register::<every_option>()
        .register::<every_option_cancelled>()
        .register::<idempotent>()
        .register::<batched>()
        .register::<nightly>()
}

/// The single step of a config, retried `retries` times when given.
fn step(fn_id: &str, retries: Option<u32>) -> Value {
    let mut step = json!({
        "id": "step",
        "name": "step",
        "runtime": {"type": "http", "url": format!("{SERVE_URL}?fnId={fn_id}&stepId=step")},
    });
    if let Some(attempts) = retries {
        step["retries"] = json!({"attempts": attempts});
    }
    json!({"step": step})
}

/// PUTs a sync and returns the function configs the SDK registered, by id.
async fn registered() -> Vec<Value> {
    let dev = FakeDevServer::start(200, json!({"ok": true, "modified": true})).await;
    let s = Served::start(app(&dev)).await;
    let res = s
        .client
        .put(s.url())
        .header("x-inngest-server-kind", "dev")
        .json(&json!({"url": SERVE_URL}))
        .send()
        .await
        .unwrap();
    let r = support::Reply::read(res).await;
    assert_eq!(r.status, 200, "{r:?}");
    let recorded = dev.recorded();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].uri, "/fn/register");
    recorded[0].body["functions"].as_array().unwrap().clone()
}

fn config<'a>(functions: &'a [Value], id: &str) -> &'a Value {
    functions
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no function {id} in {functions:#?}"))
}

#[tokio::test]
async fn every_option_is_registered_as_protocol_md_shows() {
    let functions = registered().await;
    let ids: Vec<&str> = functions
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "opts-app-batched",
            "opts-app-every-option",
            "opts-app-every-option-cancel",
            "opts-app-idempotent",
            "opts-app-nightly",
        ]
    );
    assert_eq!(
        config(&functions, "opts-app-every-option"),
        &json!({
            "id": "opts-app-every-option",
            "name": "Every option",
            "triggers": [
                {"event": "shop/order.created", "expression": "event.data.total > 100"},
                {"cron": "TZ=Europe/Paris 0 9 * * MON-FRI", "jitter": "5m"},
            ],
            "steps": step("opts-app-every-option", Some(2)),
            "concurrency": [
                {"limit": 10},
                {"limit": 2, "key": "event.data.account_id", "scope": "env"},
            ],
            "throttle": {"limit": 10, "period": "1m", "burst": 2, "key": "event.data.user_id"},
            "rateLimit": {"limit": 100, "period": "1h", "key": "event.data.user_id"},
            "debounce": {"period": "30s", "key": "event.data.order_id", "timeout": "5m"},
            "cancel": [
                {
                    "event": "shop/order.cancelled",
                    "if": "event.data.order_id == async.data.order_id",
                    "timeout": "7d",
                },
                {"event": "shop/closed"},
            ],
            "priority": {"run": "event.data.priority"},
            "timeouts": {"start": "10m", "finish": "2h"},
            "singleton": {"key": "event.data.order_id", "mode": "cancel"},
        })
    );
}

#[tokio::test]
async fn a_cancellation_handler_is_a_function_triggered_by_function_cancelled() {
    let functions = registered().await;
    assert_eq!(
        config(&functions, "opts-app-every-option-cancel"),
        &json!({
            "id": "opts-app-every-option-cancel",
            "name": "Every option (cancel)",
            "triggers": [{
                "event": "inngest/function.cancelled",
                "expression": "event.data.function_id == 'opts-app-every-option'",
            }],
            "steps": step("opts-app-every-option-cancel", Some(1)),
        })
    );
}

#[tokio::test]
async fn unset_options_are_left_out() {
    let functions = registered().await;
    assert_eq!(
        config(&functions, "opts-app-idempotent"),
        &json!({
            "id": "opts-app-idempotent",
            "name": "idempotent",
            "triggers": [{"event": "shop/payment.received"}],
            "steps": step("opts-app-idempotent", None),
            "concurrency": [{"limit": 1, "scope": "fn"}],
            "idempotency": "event.data.payment_id",
            "timeouts": {"start": "30s"},
            "singleton": {"mode": "skip"},
        })
    );
    assert_eq!(
        config(&functions, "opts-app-batched"),
        &json!({
            "id": "opts-app-batched",
            "name": "batched",
            "triggers": [{"event": "rows/added"}],
            "steps": step("opts-app-batched", None),
            "batchEvents": {
                "maxSize": 3,
                "timeout": "5s",
                "key": "event.data.table",
                "if": "event.data.row > 0",
            },
        })
    );
    assert_eq!(
        config(&functions, "opts-app-nightly"),
        &json!({
            "id": "opts-app-nightly",
            "name": "nightly",
            "triggers": [{"cron": "0 3 * * *"}],
            "steps": step("opts-app-nightly", None),
        })
    );
}

#[tokio::test]
async fn a_batched_function_receives_the_whole_batch_in_ctx_events() {
    let dev = FakeDevServer::start(200, json!({"ok": true})).await;
    let s = Served::start(app(&dev)).await;
    let event = |id: &str, row: u32| {
        json!({
            "id": id,
            "name": "rows/added",
            "data": {"row": row, "table": "orders"},
            "user": {},
            "ts": 1_712_345_678_901_i64,
        })
    };
    let mut body = CallBody::new("rows/added", json!({"row": 1, "table": "orders"})).build();
    body["event"] = event("01JEVENT0000000000000000A1", 1);
    body["events"] = json!([
        event("01JEVENT0000000000000000A1", 1),
        event("01JEVENT0000000000000000A2", 2),
        event("01JEVENT0000000000000000A3", 3),
    ]);
    let r = s.call("opts-app-batched", "step", &body).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.assert_sdk_headers();
    assert_eq!(r.json(), json!([3, [1, 2, 3]]));
}
