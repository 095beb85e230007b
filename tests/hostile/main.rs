//! Hostile and malformed requests, one row of a table each, sent over a raw TCP socket to a
//! served app. Every row is answered with a clear JSON error (or, for the few valid oddities,
//! runs as it should), every answer carries the SDK headers, and after every row a normal
//! call still succeeds: the process keeps serving. The exceptions are spelled out in their
//! rows: trickled headers get the connection closed, and HTTP that hyper itself cannot frame
//! gets hyper's bare 400 before the SDK sees a request.
//!
//! `DEV_ROWS` runs against a dev-mode app (`body_limit` 64 KiB, `body_timeout` 300 ms);
//! `CLOUD_ROWS` against a cloud-mode app, where every unsigned or badly signed request is
//! refused with `401 {"message":"Unauthorized"}` (protocol.md sections 2, 3 and 6).
//!
//! The modules: `table` (the vocabulary of a row), `rows` (the two tables), `bodies` (the
//! bodies and signatures the rows make), `wire` (HTTP over a raw socket) and `check` (what a
//! row must get back, and the run of a table).

mod bodies;
mod check;
mod rows;
#[path = "../support/mod.rs"]
mod support;
mod table;
mod wire;

use std::time::{Duration, Instant};

use check::{mismatch, run_table};
use inngest::{Context, Error};
use rows::{CLOUD_ROWS, DEV_ROWS};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use support::{hash, Served};
use table::{Body::Valid, CALL, SIGNED_CALL, TIMED_OUT};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use wire::{head, read_answer, send};

const APP: &str = "hostile-app";
const KEY: &str = "signkey-prod-5e4d3c2b1a09f8e7d6c5b4a3f2e1d0c9";
const OTHER_KEY: &str = "signkey-prod-00112233445566778899aabbccddeeff";
/// How long any answer may take before a row fails (the slowest rows wait 300 ms).
const DEADLINE: Duration = Duration::from_secs(10);
const BODY_LIMIT: usize = 64 * 1024;
const BODY_TIMEOUT: Duration = Duration::from_millis(300);

// ---- the functions the rows call ----

/// Answers with its event's data.
#[inngest::function(id = "echo", event = "hostile/echo")]
async fn echo(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "echo": ctx.event.data }))
}

/// One step, `fetch`, whose memo the memo rows vary.
#[inngest::function(id = "memo", event = "hostile/memo")]
async fn memo(ctx: Context) -> Result<Value, Error> {
    let fetched: Value = ctx
        .step
        .run("fetch", || async { Ok(json!("fresh")) })
        .await?;
    Ok(json!({ "fetched": fetched }))
}

#[derive(Debug, Serialize, Deserialize)]
struct Order {
    qty: u32,
}

/// Typed event data and a typed step, `count`.
#[inngest::function(id = "typed", event = "hostile/typed")]
async fn typed(ctx: Context<Order>) -> Result<u32, Error> {
    let qty = ctx.event.data.qty;
    let n: u32 = ctx.step.run("count", || async move { Ok(qty) }).await?;
    Ok(n * 2)
}

/// The `slow` function has begun.
static SLOW_ENTERED: tokio::sync::Notify = tokio::sync::Notify::const_new();
/// Lets the `slow` function answer.
static SLOW_RELEASE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Answers when the test lets it: longer than a connection may wait for a head.
#[inngest::function(id = "slow", event = "hostile/slow")]
async fn slow(_ctx: Context) -> Result<Value, Error> {
    SLOW_ENTERED.notify_one();
    SLOW_RELEASE.notified().await;
    Ok(json!({ "slept": true }))
}

/// `sha1("fetch")` and `sha1("count")`, the hashed ids of the steps above.
const FETCH: &str = "ad8cee67138e73009d4e22831ec6eb3b7f9e60da";
const COUNT: &str = "ee9f38e186ba06f57b7b74d7e626b94e13ce2556";

async fn dev_server() -> Served {
    Served::start(
        inngest::App::new(APP)
            .dev("http://127.0.0.1:9")
            .body_limit(BODY_LIMIT)
            .body_timeout(BODY_TIMEOUT),
    )
    .await
}

async fn cloud_server() -> Served {
    Served::start(
        inngest::App::new(APP)
            .signing_key(KEY)
            .body_limit(BODY_LIMIT)
            .body_timeout(BODY_TIMEOUT),
    )
    .await
}

// ---- the tests ----

#[test]
fn the_table_is_as_big_as_promised() {
    assert!(DEV_ROWS.len() + CLOUD_ROWS.len() >= 40);
    assert_eq!(hash("fetch"), FETCH);
    assert_eq!(hash("count"), COUNT);
    let mut names: Vec<&str> = DEV_ROWS.iter().chain(CLOUD_ROWS).map(|r| r.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        DEV_ROWS.len() + CLOUD_ROWS.len(),
        "row names are unique"
    );
}

#[tokio::test]
async fn dev_mode_answers_every_hostile_request_and_keeps_serving() {
    let server = dev_server().await;
    run_table(&server, DEV_ROWS, CALL).await;
}

#[tokio::test]
async fn cloud_mode_refuses_every_bad_signature_and_keeps_serving() {
    let server = cloud_server().await;
    run_table(&server, CLOUD_ROWS, SIGNED_CALL).await;
}

/// Stalled bodies hold their connections until the body timeout, and meanwhile others are
/// answered.
#[tokio::test]
async fn slow_bodies_time_out_while_others_are_served() {
    let server = dev_server().await;
    let body = Valid.bytes();
    let head = head(&CALL, server.addr, &body);
    // Four connections send their headers and 8 bytes of the body, then stall.
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let started = Instant::now();
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(&[&head[..], &body[..8]].concat())
            .await
            .unwrap();
        stalled.push((started, stream));
    }
    // Meanwhile, normal calls are answered.
    for _ in 0..3 {
        assert_eq!(mismatch(CALL.expect, &send(server.addr, &CALL).await), None);
    }
    // Each stalled request gets its 408, and not before the body timeout.
    for (started, mut stream) in stalled {
        assert_eq!(mismatch(TIMED_OUT, &read_answer(&mut stream).await), None);
        assert!(
            started.elapsed() >= BODY_TIMEOUT,
            "answered after {:?}, before the body timeout",
            started.elapsed()
        );
    }
    assert_eq!(mismatch(CALL.expect, &send(server.addr, &CALL).await), None);
}

/// A connection that sends no request head within the header timeout (the body timeout) is
/// closed, whether it never sent one or waits after an answer on a kept-alive connection;
/// one whose answer takes longer than that is not cut off.
#[tokio::test]
async fn connections_without_a_request_head_are_closed_and_slow_answers_are_not() {
    let server = dev_server().await;

    // Kept alive: a slow answer, then one more request, then nothing.
    let body = Valid.bytes();
    let keep_alive = |target: &'static str| {
        let row = table::Row { target, ..CALL };
        let head = String::from_utf8(head(&row, server.addr, &body)).unwrap();
        [
            head.replace("connection: close", "connection: keep-alive")
                .as_bytes(),
            &body,
        ]
        .concat()
    };
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(&keep_alive(
            "/api/inngest?fnId=hostile-app-slow&stepId=step",
        ))
        .await
        .unwrap();
    tokio::time::timeout(DEADLINE, SLOW_ENTERED.notified())
        .await
        .expect("the slow call reaches its function");
    let started = Instant::now();

    // Meanwhile a connection that sends nothing is closed after the header timeout, and then
    // another: the slow answer, in flight all that time (two timeouts, more than a cut-off
    // takes), is then let go.
    for _ in 0..2 {
        let connected = Instant::now();
        let mut silent = TcpStream::connect(server.addr).await.unwrap();
        assert!(matches!(read_answer(&mut silent).await, wire::Got::Closed));
        assert!(
            connected.elapsed() >= BODY_TIMEOUT,
            "closed after {:?}, before the header timeout",
            connected.elapsed()
        );
    }
    SLOW_RELEASE.notify_one();
    let slow = read_answer(&mut stream).await;
    assert_eq!(
        mismatch(table::Expect::Json(200, None, r#"{"slept":true}"#), &slow),
        None
    );
    assert!(started.elapsed() >= 2 * BODY_TIMEOUT);
    stream.write_all(&keep_alive(CALL.target)).await.unwrap();
    assert_eq!(mismatch(CALL.expect, &read_answer(&mut stream).await), None);
    let answered = Instant::now();
    assert!(matches!(read_answer(&mut stream).await, wire::Got::Closed));
    assert!(
        answered.elapsed() >= BODY_TIMEOUT,
        "closed after {:?}, before the header timeout",
        answered.elapsed()
    );
    // The server keeps serving.
    assert_eq!(mismatch(CALL.expect, &send(server.addr, &CALL).await), None);
}
