//! End-to-end encryption, interoperating with the official `@inngest/middleware-encryption`
//! (installed with the JS peer, `tests/peers/js`): envelopes cross both ways, and under the
//! engine a Rust sender's encrypted event runs a JS function and a JS sender's runs a Rust
//! one; Inngest (the engine) only ever holds ciphertext. A wrong key fails the run without
//! retries, naming the field and never the key.

mod support;

use std::time::Duration;

use inngest::encryption::Encryption;
use inngest::engine::{Engine, EngineConfig, Happening, RunStatus, RunView};
use inngest::{Context, Error, Event};
use serde_json::{json, Value};
use support::peers;
use support::{CallBody, Served};

const KEY: &str = "interop-key";

fn encryption() -> Encryption {
    Encryption::new(KEY).unwrap()
}

fn is_envelope(value: &Value) -> bool {
    value["__ENCRYPTED__"] == true
        && value["__STRATEGY__"] == "inngest/libsodium"
        && value["data"].is_string()
}

#[tokio::test]
async fn envelopes_cross_both_ways_with_the_official_package() {
    let value = json!({"card": "4242", "nested": {"n": [1, 2.5, null]}});
    let ours = encryption().encrypt(&value);
    let Some(read) = peers::node(&["encryption.mjs", "decrypt", &ours.to_string()], "1").await
    else {
        return;
    };
    assert_eq!(serde_json::from_str::<Value>(&read).unwrap(), value);
    let theirs = peers::node(&["encryption.mjs", "encrypt", &value.to_string()], "1")
        .await
        .unwrap();
    let theirs: Value = serde_json::from_str(&theirs).unwrap();
    assert!(is_envelope(&theirs), "{theirs}");
    assert_eq!(encryption().decrypt(&theirs, "x").unwrap(), Some(value));
}

/// The Rust twin of the JS peer's `enc-reader`.
#[inngest::function(id = "enc-reader", event = "enc/for-rust", retries = 0)]
async fn enc_reader(ctx: Context) -> Result<Value, Error> {
    let secret = ctx.event.data["encrypted"]["secret"].clone();
    let read: Value = ctx
        .step
        .run("read", || async move { Ok(json!({ "secret": secret })) })
        .await?;
    Ok(json!({"secret": read["secret"], "user": ctx.event.data["user"]}))
}

/// Waits until a run of `function` ends; returns it.
async fn ended(
    engine: &Engine,
    happenings: &mut tokio::sync::broadcast::Receiver<Happening>,
    function: &str,
) -> RunView {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let h = tokio::time::timeout_at(deadline, happenings.recv())
            .await
            .unwrap_or_else(|_| panic!("a run of {function} ends within 30 s"))
            .unwrap();
        if let Happening::RunEnded {
            run_id,
            function_id,
            ..
        } = h
        {
            if function_id == function {
                return engine.run(&run_id).unwrap();
            }
        }
    }
}

/// What the engine stored of the event `id`.
fn stored_event(engine: &Engine, id: &str) -> Value {
    engine.inspect(|core| core.event_record(id).unwrap().event.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_cross_languages_under_the_engine_holding_only_ciphertext() {
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let engine_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(inngest::engine::serve(
        engine.clone(),
        listener,
        std::future::pending(),
    ));
    let Some(js) = peers::start(&peers::JS_ENCRYPTION, &engine_url).await else {
        return;
    };
    let rust = Served::start(
        inngest::App::new("rust-enc")
            .dev(engine_url.clone())
            .middleware(encryption())
            .register::<enc_reader>(),
    )
    .await;
    let client = reqwest::Client::new();
    for url in [js.url(), rust.url()] {
        let res = client
            .put(&url)
            .header("x-inngest-server-kind", "dev")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "sync of {url}");
    }
    let mut happenings = engine.subscribe();

    // A Rust sender, a JS function.
    let sender = inngest::Client::dev(engine_url.clone()).with_middleware(encryption());
    let id = sender
        .send(&Event::new(
            "enc/for-js",
            json!({"user": "u1", "encrypted": {"secret": "from-rust"}}),
        ))
        .await
        .unwrap();
    let stored = stored_event(&engine, &id);
    assert_eq!(stored["data"]["user"], "u1", "only the field is encrypted");
    assert!(is_envelope(&stored["data"]["encrypted"]), "{stored}");
    let run = ended(&engine, &mut happenings, "js-enc-enc-reader").await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    let output = run.output.clone().unwrap();
    assert!(is_envelope(&output), "the JS function's output: {output}");
    assert_eq!(
        encryption().decrypt(&output, "x").unwrap(),
        Some(json!({"secret": "from-rust", "user": "u1"}))
    );
    let steps = engine.run_history(&run.run_id).unwrap();
    let read = steps.iter().find(|s| s.name == "read").unwrap();
    assert!(
        read.output.as_ref().is_some_and(is_envelope),
        "the engine holds the step's output encrypted: {read:?}"
    );

    // A JS sender, a Rust function.
    let event =
        json!({"name": "enc/for-rust", "data": {"user": "u2", "encrypted": {"secret": "from-js"}}});
    let id = peers::node(&["encryption.mjs", "send", &event.to_string()], &engine_url)
        .await
        .unwrap();
    assert!(is_envelope(
        &stored_event(&engine, &id)["data"]["encrypted"]
    ));
    let run = ended(&engine, &mut happenings, "rust-enc-enc-reader").await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    let output = run.output.clone().unwrap();
    assert!(is_envelope(&output), "the Rust function's output: {output}");
    let read = peers::node(&["encryption.mjs", "decrypt", &output.to_string()], "1")
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&read).unwrap(),
        json!({"secret": "from-js", "user": "u2"})
    );
    let steps = engine.run_history(&run.run_id).unwrap();
    assert!(steps
        .iter()
        .any(|s| s.name == "read" && s.output.as_ref().is_some_and(is_envelope)));
}

#[tokio::test]
async fn a_wrong_key_fails_the_run_naming_the_field_not_the_key() {
    let app = inngest::App::new("wrong-key")
        .dev("http://127.0.0.1:9")
        .middleware(Encryption::new("not-the-key").unwrap())
        .register::<enc_reader>();
    let served = Served::start(app).await;
    let sealed = encryption().encrypt(&json!({"secret": "s"}));
    let body = CallBody::new("enc/for-rust", json!({"user": "u", "encrypted": sealed}));
    let reply = served
        .call("wrong-key-enc-reader", "step", &body.build())
        .await;
    reply.assert_error(400, "true");
    let message = reply.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("could not decrypt `event.data.encrypted`: neither the encryption key nor any of the 0 fallback keys decrypts it"),
        "{message}"
    );
    assert!(!reply.text.contains(KEY) && !reply.text.contains("not-the-key"));

    // A memoized step output encrypted with another key: the step is named.
    let body = CallBody::new("enc/for-rust", json!({"user": "u"})).memo(
        "read",
        json!({"data": encryption().encrypt(&json!({"secret": "s"}))}),
    );
    let reply = served
        .call("wrong-key-enc-reader", "step", &body.build())
        .await;
    reply.assert_error(400, "true");
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("could not decrypt the output of step `read`"),
        "{reply:?}"
    );
}
