//! Cloud mode: nothing runs without a valid signature, responses are signed with the key that
//! matched, sync authenticates with the hashed key, and no secret reaches a log, a body or a
//! `Debug` output (protocol.md section 6).

mod support;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use inngest::{Context, Error};
use serde_json::json;
use support::{now, sign, CallBody, FakeDevServer, Reply, Served};

const KEY: &str = "signkey-prod-7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";
const FALLBACK: &str = "signkey-prod-0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const EVENT_KEY: &str = "evt-key-very-secret";
const APP: &str = "cloud-app";

/// Counts runs of `guarded`, which only the test of refused requests calls, so tests running
/// in parallel cannot change it.
static GUARDED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[inngest::function(id = "counted", event = "test/counted")]
async fn counted(_ctx: Context) -> Result<&'static str, Error> {
    Ok("ran")
}

#[inngest::function(id = "guarded", event = "test/guarded")]
async fn guarded(_ctx: Context) -> Result<&'static str, Error> {
    GUARDED_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok("ran")
}

/// Everything every test logs, to prove no secret is in it.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || LogWriter(writer.clone()))
            .try_init();
        buf
    })
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_signed_by(reply: &Reply, key: &str) {
    let header = reply
        .header("x-inngest-signature")
        .expect("the response is signed");
    let t: i64 = header
        .split('&')
        .next()
        .unwrap()
        .trim_start_matches("t=")
        .parse()
        .unwrap();
    assert_eq!(
        header,
        sign(key, reply.text.as_bytes(), t),
        "signed with {key:.20}…"
    );
}

async fn cloud(dev_origin: Option<&str>) -> Served {
    logs();
    let mut app = inngest::App::new(APP)
        .signing_key(KEY)
        .signing_key_fallback(FALLBACK)
        .event_key(EVENT_KEY);
    if let Some(origin) = dev_origin {
        app = app.base_url(origin);
    }
    Served::start(app).await
}

async fn send(
    s: &Served,
    method: reqwest::Method,
    query: &str,
    body: &str,
    signature: Option<String>,
) -> Reply {
    let mut req = s
        .client
        .request(method, format!("{}{query}", s.url()))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(sig) = signature {
        req = req.header("x-inngest-signature", sig);
    }
    Reply::read(req.send().await.unwrap()).await
}

fn call_body() -> String {
    CallBody::new("test/counted", json!({})).build().to_string()
}

#[tokio::test]
async fn unsigned_or_badly_signed_calls_get_401_and_run_nothing() {
    let s = cloud(None).await;
    let body = CallBody::new("test/guarded", json!({})).build().to_string();
    let q = "?fnId=cloud-app-guarded&stepId=step";
    let t = now();
    let bad = [
        None,
        Some(sign("signkey-prod-00000000", body.as_bytes(), t)), // wrong key
        Some(sign(KEY, b"{}", t)),                               // another body
        Some(sign(KEY, body.as_bytes(), t - 301)),               // too old
        // Too far ahead: 10 s past the 300 s allowed, as the clock moves on from `t` while
        // the test runs (at 301 s, a second ticking over made it 300 s and accepted).
        Some(sign(KEY, body.as_bytes(), t + 310)),
        Some("t=&s=".to_owned()),
        Some("garbage".to_owned()),
        Some(format!("t={t}&s=zz")),
        Some(format!("t=abc&s={}", "0".repeat(64))),
    ];
    for sig in bad {
        let r = send(&s, reqwest::Method::POST, q, &body, sig.clone()).await;
        r.assert_error(401, "false");
        assert_eq!(r.json(), json!({"message": "Unauthorized"}), "{sig:?}");
        assert_eq!(r.header("x-inngest-signature"), None);
    }
    assert_eq!(GUARDED_RUNS.load(Ordering::SeqCst), 0, "nothing ran");
    // The same request, signed, does run: the counter could tell.
    let r = send(
        &s,
        reqwest::Method::POST,
        q,
        &body,
        Some(sign(KEY, body.as_bytes(), now())),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(GUARDED_RUNS.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn signed_calls_run_and_the_response_is_signed_with_the_key_that_matched() {
    let s = cloud(None).await;
    let body = call_body();
    let q = "?fnId=cloud-app-counted&stepId=step";
    let r = send(
        &s,
        reqwest::Method::POST,
        q,
        &body,
        Some(sign(KEY, body.as_bytes(), now())),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json(), json!("ran"));
    assert_signed_by(&r, KEY);
    // Signed with the fallback key (a rotation in progress): answered and signed with it.
    let r = send(
        &s,
        reqwest::Method::POST,
        q,
        &body,
        Some(sign(FALLBACK, body.as_bytes(), now() - 299)),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_signed_by(&r, FALLBACK);
}

#[tokio::test]
async fn introspection_reveals_nothing_unless_signed() {
    let s = cloud(None).await;
    // Unsigned, or signed with another key: nothing an attacker could fingerprint (no function
    // count, key presence, mode or SDK), as the Go SDK v0.16 answers.
    for signature in [None, Some(sign("signkey-prod-00", b"", now()))] {
        let r = send(&s, reqwest::Method::GET, "", "", signature).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.json(), json!({"message": "Unauthorized"}));
        let inngest_headers: Vec<&str> = r
            .headers
            .keys()
            .map(|k| k.as_str())
            .filter(|k| k.starts_with("x-inngest"))
            .collect();
        assert!(inngest_headers.is_empty(), "{inngest_headers:?}");
    }

    let r = send(
        &s,
        reqwest::Method::GET,
        "",
        "",
        Some(sign(KEY, b"", now())),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_signed_by(&r, KEY);
    let body = r.json();
    assert_eq!(body["authentication_succeeded"], true);
    assert_eq!(body["app_id"], APP);
    assert_eq!(
        body["capabilities"],
        json!({"in_band_sync": "v1", "trust_probe": "v1"})
    );
    assert_eq!(body["sdk_language"], "rust");
    assert_eq!(body["serve_path"], "/api/inngest");
    assert_eq!(body["api_origin"], "https://api.inngest.com");
    assert_eq!(body["event_api_origin"], "https://inn.gs");
    let hash = body["signing_key_hash"].as_str().unwrap();
    assert!(
        hash.starts_with("signkey-prod-") && hash.len() == "signkey-prod-".len() + 64,
        "{hash}"
    );
    assert_eq!(body["event_key_hash"].as_str().unwrap().len(), 64);
    for secret in [KEY, FALLBACK, EVENT_KEY, &KEY[13..], &FALLBACK[13..]] {
        assert!(!r.text.contains(secret), "the body shows a secret");
    }
}

#[tokio::test]
async fn put_needs_a_signature_and_syncs_with_the_hashed_key() {
    // The register endpoint refuses the primary key, as during a rotation.
    let primary_hash = "signkey-prod-".to_owned() + &hashed(&KEY[13..]);
    let fallback_hash = "signkey-prod-".to_owned() + &hashed(&FALLBACK[13..]);
    let expect = format!("Bearer {primary_hash}");
    let api = FakeDevServer::start_with(Arc::new(move |req: &support::Recorded, _| {
        if req
            .headers
            .get("authorization")
            .is_some_and(|v| v == expect.as_str())
        {
            (401, json!({"error": "unauthorized"}))
        } else {
            (200, json!({"ok": true, "modified": true}))
        }
    }))
    .await;
    let s = cloud(Some(&api.origin)).await;
    let r = send(&s, reqwest::Method::PUT, "", "{}", None).await;
    r.assert_error(401, "false");
    assert!(api.recorded().is_empty(), "an unsigned PUT syncs nothing");

    let body = json!({"url": "https://app.example.com/api/inngest"}).to_string();
    let r = send(
        &s,
        reqwest::Method::PUT,
        "",
        &body,
        Some(sign(KEY, body.as_bytes(), now())),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json(),
        json!({"message": "Successfully registered", "modified": true})
    );
    assert_signed_by(&r, KEY);
    let sent = api.recorded();
    assert_eq!(
        sent.len(),
        2,
        "the primary key was refused, the fallback accepted"
    );
    assert_eq!(
        sent[0].headers["authorization"],
        format!("Bearer {primary_hash}").as_str()
    );
    assert_eq!(
        sent[1].headers["authorization"],
        format!("Bearer {fallback_hash}").as_str()
    );
    assert_eq!(sent[1].uri, "/fn/register");
    assert_eq!(sent[1].body["url"], "https://app.example.com/api/inngest");
}

#[tokio::test]
async fn in_band_sync_answers_the_configuration_signed() {
    let s = cloud(None).await;
    let body = json!({"url": "https://app.example.com/api/inngest"}).to_string();
    let res = s
        .client
        .put(s.url())
        .header("x-inngest-sync-kind", "in_band")
        .header("x-inngest-signature", sign(KEY, body.as_bytes(), now()))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let r = Reply::read(res).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-inngest-sync-kind"), Some("in_band"));
    assert_signed_by(&r, KEY);
    let config = r.json();
    assert_eq!(config["app_id"], APP);
    assert_eq!(config["url"], "https://app.example.com/api/inngest");
    assert_eq!(config["sdk_language"], "rust");
    assert_eq!(config["inspection"]["authentication_succeeded"], true);
    let ids: Vec<&str> = config["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"cloud-app-counted"), "{ids:?}");
    // Unsigned in-band: refused.
    let res = s
        .client
        .put(s.url())
        .header("x-inngest-sync-kind", "in_band")
        .body(body)
        .send()
        .await
        .unwrap();
    Reply::read(res).await.assert_error(401, "false");
}

#[tokio::test]
async fn the_trust_probe_answers_signed_requests_only() {
    let s = cloud(None).await;
    let r = send(
        &s,
        reqwest::Method::POST,
        "?probe=trust",
        "",
        Some(sign(KEY, b"", now())),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_signed_by(&r, KEY);
    let r = send(&s, reqwest::Method::POST, "?probe=trust", "", None).await;
    r.assert_error(401, "false");
}

#[tokio::test]
async fn cloud_mode_without_a_signing_key_refuses_to_start() {
    let err = inngest::App::new(APP).dev("0").into_service().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Inngest Cloud mode (INNGEST_DEV=0) needs INNGEST_SIGNING_KEY"),
        "{err}"
    );
}

#[tokio::test]
async fn secrets_never_show_in_debug_output_or_logs() {
    let s = cloud(None).await;
    // Produce some logs: refused requests, a run.
    let body = call_body();
    let _ = send(
        &s,
        reqwest::Method::POST,
        "?fnId=cloud-app-counted&stepId=step",
        &body,
        None,
    )
    .await;
    let _ = send(
        &s,
        reqwest::Method::POST,
        "?fnId=cloud-app-counted&stepId=step",
        &body,
        Some(sign(KEY, body.as_bytes(), now())),
    )
    .await;
    let service = inngest::App::new(APP)
        .signing_key(KEY)
        .event_key(EVENT_KEY)
        .into_service()
        .unwrap();
    let app = inngest::App::new(APP)
        .signing_key(KEY)
        .signing_key_fallback(FALLBACK)
        .event_key(EVENT_KEY);
    let client = inngest::Client::cloud(EVENT_KEY);
    let debug = format!("{service:?} {app:?} {client:?}");
    let logged = String::from_utf8(logs().lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("refused a request without a valid signature"),
        "the test saw the logs"
    );
    for secret in [KEY, FALLBACK, EVENT_KEY, &KEY[13..], &FALLBACK[13..]] {
        assert!(!debug.contains(secret), "Debug shows a secret: {debug}");
        assert!(!logged.contains(secret), "a log shows a secret");
    }
}

fn hashed(hex_key: &str) -> String {
    use sha2::Digest;
    let bytes: Vec<u8> = (0..hex_key.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex_key[i..i + 2], 16).unwrap())
        .collect();
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
