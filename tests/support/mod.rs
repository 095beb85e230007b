//! Helpers for the end-to-end tests: a served app on a loopback port, a fake Inngest dev
//! server that records what the SDK sends it, and call-request bodies.
#![allow(dead_code)]

pub mod browser;
pub mod functions;
pub mod peers;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A served app on a loopback port; dropping it shuts the server down.
pub struct Served {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<Result<(), inngest::Error>>>,
}

impl Served {
    /// Serves `app` on a free loopback port.
    pub async fn start(app: inngest::App) -> Served {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Served::start_with_listener(app, listener)
    }

    /// Serves `app` on `listener`.
    pub fn start_with_listener(app: inngest::App, listener: TcpListener) -> Served {
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let server = app
            .serve()
            .listener(listener)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            });
        let task = tokio::spawn(server.into_future());
        Served {
            addr,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/api/inngest", self.addr)
    }

    /// POSTs a call request for `fn_id` (the composite id) with `stepId`.
    pub async fn call(&self, fn_id: &str, step_id: &str, body: &Value) -> Reply {
        let res = self
            .client
            .post(format!("{}?fnId={fn_id}&stepId={step_id}", self.url()))
            .json(body)
            .send()
            .await
            .unwrap();
        Reply::read(res).await
    }

    /// Sends a raw request.
    pub async fn raw(
        &self,
        method: reqwest::Method,
        query: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let res = self
            .client
            .request(method, format!("{}{query}", self.url()))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        Reply::read(res).await
    }

    /// Stops the server gracefully and returns what `serve` returned.
    pub async fn stop(mut self) -> Result<(), inngest::Error> {
        let _ = self.shutdown.take().unwrap().send(());
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the server stops within 10 s")
            .unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn read(res: reqwest::Response) -> Reply {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        Reply {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts the headers every SDK response carries.
    pub fn assert_sdk_headers(&self) {
        let sdk = format!("inngest-rs:v{}", inngest::VERSION);
        assert_eq!(self.header("x-inngest-sdk"), Some(sdk.as_str()), "{self:?}");
        assert_eq!(self.header("x-inngest-req-version"), Some("2"), "{self:?}");
    }

    /// Asserts the SDK headers and the `X-Inngest-No-Retry` value of an error response.
    pub fn assert_error(&self, status: u16, no_retry: &str) {
        assert_eq!(self.status, status, "{self:?}");
        self.assert_sdk_headers();
        assert_eq!(
            self.header("x-inngest-no-retry"),
            Some(no_retry),
            "{self:?}"
        );
    }
}

/// The lowercase hex SHA-1 of a step id.
pub fn hash(id: &str) -> String {
    format!("{:x}", Sha1::digest(id.as_bytes()))
}

/// Sends an event to the engine and waits, `within` a deadline, until `runs` runs have ended
/// (those it starts, and the runs they start in turn, such as a failure handler); returns them.
pub async fn run_to_end(
    engine: &inngest::engine::Engine,
    event: Value,
    runs: usize,
    within: Duration,
) -> Vec<inngest::engine::RunView> {
    let mut happenings = engine.subscribe();
    engine.send(vec![event]).unwrap();
    let mut ended = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while ended.len() < runs {
        let h = tokio::time::timeout_at(deadline, happenings.recv())
            .await
            .unwrap_or_else(|_| panic!("{runs} runs end within {within:?}; ended: {ended:?}"))
            .unwrap();
        if let inngest::engine::Happening::RunEnded { run_id, .. } = h {
            ended.push(engine.run(&run_id).unwrap());
        }
    }
    ended
}

/// Now, in Unix seconds (a signature's `t`).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `t=<t>&s=<hmac>` for `body` signed with `key` at `t`, computed here independently of the
/// SDK (protocol.md section 6.2).
pub fn sign(key: &str, body: &[u8], t: i64) -> String {
    use hmac::{Hmac, Mac};
    let raw = key.splitn(3, '-').nth(2).unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(raw.as_bytes()).unwrap();
    mac.update(body);
    mac.update(t.to_string().as_bytes());
    let s: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t}&s={s}")
}

/// A call request body (protocol.md section 2). Without `ctx.fn_id` unless
/// [`CallBody::fn_id`] sets it: SDKs checkpoint only under a function id (protocol-2.md 1.2),
/// so these calls get the classic answers.
#[derive(Clone)]
pub struct CallBody {
    pub fn_id: Option<String>,
    pub qi_id: Option<String>,
    pub event: Value,
    pub steps: Vec<(String, Value)>,
    pub attempt: u32,
    pub max_attempts: Option<u32>,
    pub disable_immediate_execution: bool,
    pub step_id: String,
}

impl CallBody {
    pub fn new(event_name: &str, data: Value) -> CallBody {
        CallBody {
            fn_id: None,
            qi_id: None,
            event: json!({
                "id": "01JEVENT000000000000000000",
                "name": event_name,
                "data": data,
                "user": {},
                "ts": 1_712_345_678_901_i64,
            }),
            steps: Vec::new(),
            attempt: 0,
            max_attempts: Some(4),
            disable_immediate_execution: false,
            step_id: "step".to_owned(),
        }
    }

    /// Adds a memo under the hash of `user_id`.
    pub fn memo(mut self, user_id: &str, memo: Value) -> CallBody {
        self.steps.push((hash(user_id), memo));
        self
    }

    pub fn attempt(mut self, attempt: u32, max_attempts: u32) -> CallBody {
        self.attempt = attempt;
        self.max_attempts = Some(max_attempts);
        self
    }

    /// With `ctx.fn_id` and `ctx.qi_id`: an SDK may checkpoint.
    pub fn fn_id(mut self, fn_id: &str, qi_id: &str) -> CallBody {
        self.fn_id = Some(fn_id.to_owned());
        self.qi_id = Some(qi_id.to_owned());
        self
    }

    pub fn no_immediate(mut self) -> CallBody {
        self.disable_immediate_execution = true;
        self
    }

    pub fn build(&self) -> Value {
        let steps: serde_json::Map<String, Value> = self.steps.iter().cloned().collect();
        let stack: Vec<&String> = self.steps.iter().map(|(k, _)| k).collect();
        let mut body = json!({
            "event": self.event,
            "events": [self.event],
            "steps": steps,
            "version": 2,
            "use_api": false,
            "ctx": {
                "run_id": "01JRUN00000000000000000000",
                "env": "",
                "step_id": self.step_id,
                "attempt": self.attempt,
                "max_attempts": self.max_attempts,
                "stack": {"stack": stack, "current": stack.len()},
                "disable_immediate_execution": self.disable_immediate_execution,
                "use_api": false,
            }
        });
        if let Some(fn_id) = &self.fn_id {
            body["ctx"]["fn_id"] = json!(fn_id);
        }
        if let Some(qi_id) = &self.qi_id {
            body["ctx"]["qi_id"] = json!(qi_id);
        }
        body
    }
}

/// A request the fake dev server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub uri: String,
    pub headers: http::HeaderMap,
    pub body: Value,
}

/// A fake Inngest dev server: records every request and answers `/fn/register` with
/// `status` and `body`.
pub struct FakeDevServer {
    pub origin: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

/// How the fake server answers: given the request and how many came before it.
pub type Answer = Arc<dyn Fn(&Recorded, usize) -> (u16, Value) + Send + Sync>;

impl FakeDevServer {
    /// Answers every request with `status` and `body`.
    pub async fn start(status: u16, body: Value) -> FakeDevServer {
        FakeDevServer::start_with(Arc::new(move |_, _| (status, body.clone()))).await
    }

    /// Answers each request as `answer` says.
    pub async fn start_with(answer: Answer) -> FakeDevServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let recorded = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let recorded = recorded.clone();
                let answer = answer.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let recorded = recorded.clone();
                        let answer = answer.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let bytes = body.collect().await.unwrap().to_bytes();
                            let request = Recorded {
                                method: parts.method.to_string(),
                                uri: parts.uri.to_string(),
                                headers: parts.headers,
                                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                            };
                            let (status, body) = {
                                let mut all = recorded.lock().unwrap();
                                let answered = answer(&request, all.len());
                                all.push(request);
                                answered
                            };
                            let bytes = Bytes::from(serde_json::to_vec(&body).unwrap());
                            let mut res = hyper::Response::new(Full::new(bytes));
                            *res.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                            Ok::<_, std::convert::Infallible>(res)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        FakeDevServer {
            origin: format!("http://{addr}"),
            requests,
        }
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}
