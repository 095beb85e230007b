//! Syncing: PUT registers the functions with the dev server.

use serde_json::json;

use crate::support::{self, FakeDevServer, Served};
use crate::{served, APP};

#[tokio::test]
async fn put_syncs_with_the_dev_server() {
    let dev = FakeDevServer::start(200, json!({"ok": true, "modified": true})).await;
    let s = Served::start(
        inngest::App::new(APP)
            .dev(dev.origin.clone())
            .app_version("2026-11-30.1"),
    )
    .await;
    let res = s
        .client
        .put(format!("{}?deployId=dep-1", s.url()))
        .header("x-inngest-server-kind", "dev")
        .json(&json!({"url": "http://app.example.com:8080/api/inngest"}))
        .send()
        .await
        .unwrap();
    let r = support::Reply::read(res).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.assert_sdk_headers();
    assert_eq!(r.header("x-inngest-sync-kind"), Some("out_of_band"));
    assert_eq!(
        r.json(),
        json!({"message": "Successfully registered", "modified": true})
    );

    let recorded = dev.recorded();
    assert_eq!(recorded.len(), 1);
    let reg = &recorded[0];
    assert_eq!(reg.method, "POST");
    assert_eq!(reg.uri, "/fn/register?deployId=dep-1");
    assert_eq!(reg.headers["x-inngest-expected-server-kind"], "dev");
    assert_eq!(
        reg.headers["x-inngest-sdk"],
        format!("inngest-rs:v{}", inngest::VERSION).as_str()
    );
    assert_eq!(reg.headers["content-type"], "application/json");
    let body = &reg.body;
    assert_eq!(body["url"], "http://app.example.com:8080/api/inngest");
    assert_eq!(body["v"], "0.1");
    assert_eq!(body["deployType"], "ping");
    assert_eq!(body["sdk"], format!("rust:v{}", inngest::VERSION));
    assert_eq!(body["framework"], "hyper");
    assert_eq!(body["appName"], APP);
    assert_eq!(body["appVersion"], "2026-11-30.1");
    let functions = body["functions"].as_array().unwrap();
    let ids: Vec<&str> = functions
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "functions are sorted by id");
    let welcome = functions
        .iter()
        .find(|f| f["id"] == "test-app-send-welcome")
        .unwrap();
    assert_eq!(
        welcome,
        &json!({
            "id": "test-app-send-welcome",
            "name": "send-welcome",
            "description": "Welcomes a new user",
            "triggers": [{"event": "user/signup"}],
            "steps": {"step": {
                "id": "step", "name": "step",
                "runtime": {"type": "http", "url": "http://app.example.com:8080/api/inngest?fnId=test-app-send-welcome&stepId=step"},
                "retries": {"attempts": 3},
            }},
        })
    );
    let failure = functions
        .iter()
        .find(|f| f["id"] == "test-app-send-welcome-failure")
        .unwrap();
    assert_eq!(
        failure,
        &json!({
            "id": "test-app-send-welcome-failure",
            "name": "send-welcome (failure)",
            "triggers": [{"event": "inngest/function.failed", "expression": "event.data.function_id == 'test-app-send-welcome'"}],
            "steps": {"step": {
                "id": "step", "name": "step",
                "runtime": {"type": "http", "url": "http://app.example.com:8080/api/inngest?fnId=test-app-send-welcome-failure&stepId=step"},
                "retries": {"attempts": 1},
            }},
        })
    );
    let all = functions
        .iter()
        .find(|f| f["id"] == "test-app-all-failures")
        .unwrap();
    assert_eq!(
        all["triggers"],
        json!([{"event": "inngest/function.failed"}])
    );
}

#[tokio::test]
async fn put_without_a_url_uses_the_request_host_and_serve_origin() {
    let dev = FakeDevServer::start(200, json!({"ok": true, "modified": false})).await;
    let s = Served::start(inngest::App::new(APP).dev(dev.origin.clone())).await;
    let r = s.raw(reqwest::Method::PUT, "", "").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json(),
        json!({"message": "Successfully registered", "modified": false})
    );
    assert_eq!(
        dev.recorded()[0].body["url"],
        format!("http://{}/api/inngest", s.addr)
    );

    let dev = FakeDevServer::start(200, json!({"ok": true})).await;
    let s = Served::start(
        inngest::App::new(APP)
            .dev(dev.origin.clone())
            .serve_origin("https://public.example.com"),
    )
    .await;
    let r = s.raw(reqwest::Method::PUT, "", "").await;
    assert_eq!(r.status, 200, "{r:?}");
    let body = &dev.recorded()[0].body;
    assert_eq!(body["url"], "https://public.example.com/api/inngest");
    assert!(body["functions"][0]["steps"]["step"]["runtime"]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://public.example.com/api/inngest?fnId=test-app-"));
}

#[tokio::test]
async fn a_refused_sync_answers_500_with_the_servers_error() {
    let dev =
        FakeDevServer::start(400, json!({"error": "Expected server kind cloud, got dev"})).await;
    let s = Served::start(inngest::App::new(APP).dev(dev.origin.clone())).await;
    let r = s.raw(reqwest::Method::PUT, "", "").await;
    r.assert_error(500, "false");
    assert_eq!(r.header("x-inngest-sync-kind"), Some("out_of_band"));
    assert_eq!(
        r.json(),
        json!({"message": "Expected server kind cloud, got dev", "modified": false})
    );
}

#[tokio::test]
async fn an_unreachable_dev_server_is_a_500_naming_it() {
    let s = served().await;
    let r = s.raw(reqwest::Method::PUT, "", "").await;
    r.assert_error(500, "false");
    let message = r.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("could not reach http://127.0.0.1:9/fn/register"),
        "{message}"
    );
}
