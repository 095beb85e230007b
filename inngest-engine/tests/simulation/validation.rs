//! The server's validation at sync, with its messages naming the function.

use serde_json::json;

use crate::sdk::*;

fn refused(options: serde_json::Value) -> String {
    let mut sim = sim(json!([]));
    sim.register(&app(json!([with("app-v", "v/go", options)])))
        .unwrap_err()
        .to_string()
}

#[test]
fn invalid_functions_are_refused_with_the_servers_messages() {
    let cases = [
        (
            json!({"debounce": {"period": "0s"}}),
            "The debounce period of '0s' is less than the min of: 1s",
        ),
        (
            json!({"debounce": {"period": "8d"}}),
            "The debounce period of '8d' is greater than the max of: 168h0m0s",
        ),
        (
            json!({"rateLimit": {"limit": 1, "period": "2d"}}),
            "period must be less than 24h0m0s",
        ),
        (
            json!({"rateLimit": {"limit": 0, "period": "1h"}}),
            "limit must be greater than 0",
        ),
        (
            json!({"batchEvents": {"maxSize": 1, "timeout": "5s"}}),
            "batch size cannot be smaller than 2: 1",
        ),
        (
            json!({"batchEvents": {"maxSize": 5, "timeout": "1d"}}),
            "invalid timeout string: 1d",
        ),
        (
            json!({"batchEvents": {"maxSize": 5, "timeout": "5s"}, "cancel": [{"event": "x"}]}),
            "Batching and cancellation are mutually exclusive",
        ),
        (
            json!({"batchEvents": {"maxSize": 5, "timeout": "5s"}, "priority": {"run": "1"}}),
            "A function cannot specify Priority.Run and Batch together",
        ),
        (
            json!({"concurrency": [{"limit": 1}, {"limit": 2}, {"limit": 3}]}),
            "There are more concurrency limits specified than the allowed max of: 2",
        ),
        (
            json!({"concurrency": [{"limit": 1, "scope": "env"}]}),
            "A concurrency key must be specified for env scoped limits",
        ),
        (
            json!({"cancel": [{"event": "a"}, {"event": "b"}, {"event": "c"}, {"event": "d"}, {"event": "e"}, {"event": "f"}]}),
            "This function exceeds the max number of cancellation events: 5",
        ),
        (
            json!({"triggers": [{"cron": "61 * * * *"}]}),
            "'61 * * * *' isn't a valid cron schedule",
        ),
        (
            json!({"triggers": [{"cron": "* * * * *", "jitter": "10m"}]}),
            "cron jitter must be less than or equal to 5m0s",
        ),
    ];
    for (options, message) in cases {
        assert_eq!(
            refused(options.clone()),
            format!("At least one function is invalid: app-v: {message}"),
            "{options}"
        );
    }
}

#[test]
fn expressions_that_do_not_compile_are_refused_at_sync() {
    for (options, start) in [
        (
            json!({"triggers": [{"event": "v/go", "expression": "event.data.a =="}]}),
            "At least one function is invalid: app-v: invalid trigger expression on 'v/go': ",
        ),
        (
            json!({"cancel": [{"event": "x", "if": "async.data.a =="}]}),
            "At least one function is invalid: app-v: Cancellation expression is invalid: ",
        ),
        (
            json!({"priority": {"run": "event.data.p +"}}),
            "At least one function is invalid: app-v: Priority.Run expression is invalid: ",
        ),
        (
            json!({"concurrency": [{"limit": 1, "key": "event.data.k =="}]}),
            "At least one function is invalid: app-v: Invalid concurrency key 'event.data.k ==': ",
        ),
    ] {
        let message = refused(options.clone());
        assert!(message.starts_with(start), "{options}: {message}");
    }
}
