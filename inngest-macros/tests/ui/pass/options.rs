// Every option of #[inngest::function], each as the definition records it: time strings as
// written (trimmed), expressions passed through, unset options left out.
use inngest::{Context, Error, Function};

#[inngest::function(
    id = "every-option",
    event = "app/order.created",
    concurrency = 10,
    concurrency(limit = 2, key = "event.data.account_id", scope = "account"),
    throttle(limit = 10, period = "1m", burst = 2, key = "event.data.user_id"),
    debounce(period = " 5m ", key = "event.data.user_id", timeout = "1h"),
    cancel_on(event = "app/order.cancelled", if = "event.data.id == async.data.id", timeout = "7d"),
    cancel_on(event = "app/order.deleted", timeout = "2030-01-01T00:00:00Z"),
    cancel_on(event = "inngest/function.finished"),
    priority(run = "event.data.priority"),
    timeouts(start = "10m", finish = "2h45m"),
    singleton(key = "event.data.user_id", mode = "cancel"),
)]
async fn every_option(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

// The options that cannot go with the ones above.
#[inngest::function(
    id = "batched",
    event = "app/row.added",
    batch_events(max_size = 100, timeout = "5s", key = "event.data.table", if = "event.data.ok"),
    rate_limit(limit = 1, period = "24h", key = "event.data.table"),
)]
async fn batched(ctx: Context) -> Result<usize, Error> {
    Ok(ctx.events.len())
}

#[inngest::function(
    id = "idempotent",
    event = "app/payment",
    idempotency = "event.data.payment_id",
    concurrency(limit = 1, scope = "fn"),
    timeouts(start = "30s"),
    singleton(mode = "skip"),
    debounce(period = "1s"),
)]
async fn idempotent(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[inngest::function(id = "plain", event = "app/plain")]
async fn plain(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {
    let o = &<every_option as Function>::DEFINITION.options;
    assert_eq!(o.concurrency.len(), 2);
    assert_eq!((o.concurrency[0].limit, o.concurrency[0].key, o.concurrency[0].scope), (10, None, None));
    assert_eq!(o.concurrency[1].limit, 2);
    assert_eq!(o.concurrency[1].key, Some("event.data.account_id"));
    assert_eq!(o.concurrency[1].scope.map(|s| s.as_str()), Some("account"));
    let throttle = o.throttle.unwrap();
    assert_eq!((throttle.limit, throttle.period, throttle.burst), (10, "1m", Some(2)));
    assert_eq!(throttle.key, Some("event.data.user_id"));
    let debounce = o.debounce.unwrap();
    assert_eq!((debounce.period, debounce.timeout), ("5m", Some("1h")));
    assert_eq!(o.cancel_on.len(), 3);
    assert_eq!(o.cancel_on[0].event, "app/order.cancelled");
    assert_eq!(o.cancel_on[0].if_expression, Some("event.data.id == async.data.id"));
    assert_eq!(o.cancel_on[0].timeout, Some("7d"));
    assert_eq!(o.cancel_on[1].timeout, Some("2030-01-01T00:00:00Z"));
    assert_eq!((o.cancel_on[2].if_expression, o.cancel_on[2].timeout), (None, None));
    assert_eq!(o.priority.unwrap().run, "event.data.priority");
    let timeouts = o.timeouts.unwrap();
    assert_eq!((timeouts.start, timeouts.finish), (Some("10m"), Some("2h45m")));
    let singleton = o.singleton.unwrap();
    assert_eq!((singleton.key, singleton.mode.as_str()), (Some("event.data.user_id"), "cancel"));
    assert_eq!((o.rate_limit, o.idempotency, o.batch_events), (None, None, None));

    let o = &<batched as Function>::DEFINITION.options;
    let batch = o.batch_events.unwrap();
    assert_eq!((batch.max_size, batch.timeout), (100, "5s"));
    assert_eq!((batch.key, batch.if_expression), (Some("event.data.table"), Some("event.data.ok")));
    let rate_limit = o.rate_limit.unwrap();
    assert_eq!((rate_limit.limit, rate_limit.period, rate_limit.key), (1, "24h", Some("event.data.table")));

    let o = &<idempotent as Function>::DEFINITION.options;
    assert_eq!(o.idempotency, Some("event.data.payment_id"));
    assert_eq!(o.concurrency[0].scope.map(|s| s.as_str()), Some("fn"));
    assert_eq!(o.timeouts.unwrap().finish, None);
    assert_eq!((o.singleton.unwrap().key, o.singleton.unwrap().mode.as_str()), (None, "skip"));

    assert_eq!(<plain as Function>::DEFINITION.options, inngest::__private::Options::NONE);
}
