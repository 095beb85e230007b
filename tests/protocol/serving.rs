//! The HTTP surface: the introspection GET, bad input, graceful shutdown, the tower service.

use serde_json::{json, Value};

use crate::support::functions::Signup;
use crate::support::{self, CallBody, Served};
use crate::{served, APP};

#[tokio::test]
async fn get_answers_the_unauthenticated_introspection_body() {
    let s = served().await;
    let r = s.raw(reqwest::Method::GET, "", "").await;
    assert_eq!(r.status, 200);
    r.assert_sdk_headers();
    let body = r.json();
    let functions = inngest::App::new(APP)
        .into_service()
        .unwrap()
        .function_ids()
        .len();
    assert_eq!(
        body,
        json!({
            "authentication_succeeded": null,
            "extra": {"sdk_language": "rust", "sdk_version": inngest::VERSION, "embedded": false},
            "function_count": functions,
            "has_event_key": false,
            "has_signing_key": false,
            "has_signing_key_fallback": false,
            "mode": "dev",
            "schema_version": "2024-05-24",
        })
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_the_server_keeps_serving() {
    let s = Served::start(
        inngest::App::new(APP)
            .dev("http://127.0.0.1:9")
            .body_limit(64 * 1024),
    )
    .await;

    let r = s
        .raw(
            reqwest::Method::POST,
            "?fnId=test-app-hello&stepId=step",
            "{not json",
        )
        .await;
    r.assert_error(400, "false");
    assert_eq!(r.json()["name"], "BadRequest");
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .starts_with("the call request body is not valid"));

    let r = s
        .raw(
            reqwest::Method::POST,
            "?fnId=test-app-hello&stepId=step",
            r#"{"event": {}, "ctx": {"run_id": 5}}"#,
        )
        .await;
    r.assert_error(400, "false");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "{r:?}"
    );

    let r = s
        .raw(
            reqwest::Method::POST,
            "?fnId=test-app-nope&stepId=step",
            "{}",
        )
        .await;
    r.assert_error(500, "false");
    assert_eq!(r.json()["name"], "FunctionNotFound");
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("`test-app-nope`"));

    let r = s.raw(reqwest::Method::POST, "?stepId=step", "{}").await;
    r.assert_error(400, "false");

    let r = s.raw(reqwest::Method::POST, "?fnId=a&fnId=b", "{}").await;
    r.assert_error(400, "false");
    assert_eq!(
        r.json()["message"],
        "the query parameter `fnId` is given more than once"
    );

    let r = s.raw(reqwest::Method::DELETE, "", "").await;
    r.assert_error(405, "true");
    assert_eq!(r.header("allow"), Some("GET, PUT, POST"));

    let big = vec![b' '; 64 * 1024 + 1];
    let r = s
        .raw(
            reqwest::Method::POST,
            "?fnId=test-app-hello&stepId=step",
            big,
        )
        .await;
    r.assert_error(413, "true");
    assert_eq!(r.json()["name"], "PayloadTooLarge");

    let res = s
        .client
        .get(format!("http://{}/elsewhere", s.addr))
        .send()
        .await
        .unwrap();
    let r = support::Reply::read(res).await;
    r.assert_error(404, "true");

    let r = s
        .call(
            "test-app-hello",
            "step",
            &CallBody::new("test/hello", json!({"name": "still"})).build(),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"greeting": "hi still"}));
}

#[tokio::test]
async fn graceful_shutdown_returns_ok() {
    let s = served().await;
    let r = s.raw(reqwest::Method::GET, "", "").await;
    assert_eq!(r.status, 200);
    let addr = s.addr;
    s.stop().await.unwrap();
    assert!(
        reqwest::get(format!("http://{addr}/api/inngest"))
            .await
            .is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn the_handler_is_a_tower_service() {
    use tower::ServiceExt;
    let service = inngest::App::new(APP)
        .dev("http://127.0.0.1:9")
        .into_service()
        .unwrap();
    let body =
        serde_json::to_vec(&CallBody::new("test/hello", json!({"name": "tower"})).build()).unwrap();
    let req = http::Request::post("/anything?fnId=test-app-hello&stepId=step")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let res = service.oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-inngest-req-version"], "2");
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        serde_json::from_slice::<Value>(&bytes).unwrap(),
        json!({"greeting": "hi tower"})
    );
}

#[tokio::test]
async fn the_users_functions_stay_callable() {
    // `#[inngest::function]` leaves the fn as written; it can be called directly.
    let _ = Signup {
        user_id: "1".into(),
        plan: "pro".into(),
    };
    let registered = inngest::App::new(APP).into_service().unwrap();
    assert!(registered
        .function_ids()
        .contains(&"test-app-send-welcome-failure"));
}
