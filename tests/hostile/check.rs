//! What a row must get back, and the run of a whole table.

use serde_json::Value;

use crate::support::Served;
use crate::table::{Expect, Expect::*, Row};
use crate::wire::{send, Got};

/// Why `got` is not what `expect` says, if it is not.
pub fn mismatch(expect: Expect, got: &Got) -> Option<String> {
    let answer = match (expect, got) {
        (Closed, Got::Closed) => return None,
        (Closed, other) => return Some(format!("expected the connection closed, got {other:?}")),
        (BareHttp400, Got::Answer(a))
            if a.status == 400 && a.body.is_empty() && a.header("connection") == Some("close") =>
        {
            return None
        }
        (BareHttp400, other) => return Some(format!("expected hyper's bare 400, got {other:?}")),
        (_, Got::Answer(a)) => a,
        (_, Got::Closed) => return Some("closed without an answer".to_owned()),
        (_, Got::Broken(why)) => return Some(format!("no answer: {why}")),
    };
    let sdk = format!("inngest-rs:v{}", inngest::VERSION);
    if answer.header("x-inngest-sdk") != Some(sdk.as_str())
        || answer.header("x-inngest-req-version") != Some("2")
    {
        return Some(format!("the SDK headers are missing: {answer:?}"));
    }
    if answer.header("content-type") != Some("application/json") {
        return Some(format!("not JSON: {answer:?}"));
    }
    let Ok(body) = serde_json::from_str::<Value>(&answer.body) else {
        return Some(format!("the body is not JSON: {answer:?}"));
    };
    let (status, no_retry) = match expect {
        Fails(status, no_retry, name, fragment) => {
            let message = body["message"].as_str().unwrap_or_default();
            if body["name"] != name || !message.contains(fragment) {
                return Some(format!(
                    "expected {name} with a message containing {fragment:?}, got {}",
                    answer.body
                ));
            }
            (status, Some(no_retry))
        }
        Json(status, no_retry, text) => {
            let expected: Value = serde_json::from_str(text).unwrap();
            if body != expected {
                return Some(format!("expected the body {text}, got {}", answer.body));
            }
            (status, no_retry)
        }
        Closed | BareHttp400 => unreachable!(),
    };
    if answer.status != status || answer.header("x-inngest-no-retry") != no_retry {
        return Some(format!(
            "expected {status} with X-Inngest-No-Retry {no_retry:?}, got {} with {:?}: {}",
            answer.status,
            answer.header("x-inngest-no-retry"),
            answer.body
        ));
    }
    None
}

/// Runs every row, then a normal call, and fails listing every row that went wrong.
pub async fn run_table(server: &Served, rows: &[Row], normal: Row) {
    let mut failures = Vec::new();
    for row in rows {
        let got = send(server.addr, row).await;
        if let Some(why) = mismatch(row.expect, &got) {
            failures.push(format!("- {}: {why}", row.name));
        }
        let next = send(server.addr, &normal).await;
        if let Some(why) = mismatch(normal.expect, &next) {
            failures.push(format!("- after {}, a normal call: {why}", row.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
