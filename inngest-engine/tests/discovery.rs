//! Auto-discovery in `inngest-engine dev`, as the dev server's: until an app has synced, the
//! engine tries the usual local ports and `$PORT`, asks the usual serve paths, and syncs (`PUT`)
//! what answers as an Inngest SDK; `--no-discovery` turns it off.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_inngest-engine");

/// A request the fake app received.
#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An app that answers as an Inngest SDK at `/api/inngest` only (404 elsewhere), and tells
/// each request it receives.
async fn fake_app() -> (u16, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return; // a port probe: connected, then closed
                }
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_owned();
                let path = parts.next().unwrap_or_default().to_owned();
                let mut headers = Vec::new();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((n, v)) = header.split_once(':') {
                        headers.push((n.trim().to_owned(), v.trim().to_owned()));
                    }
                }
                let length = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse::<usize>().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body).await;
                let answer = if path == "/api/inngest" {
                    "HTTP/1.1 200 OK\r\nx-inngest-sdk: fake:v1\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
                } else {
                    "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                };
                let _ = reader.get_mut().write_all(answer.as_bytes()).await;
                let _ = tx.send(Seen {
                    method,
                    path,
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
            });
        }
    });
    (port, rx)
}

/// Starts the command with `args` and `PORT=port`; returns once it serves, with the lines it
/// logs from then on.
async fn engine(args: &[&str], port: u16) -> (Child, mpsc::UnboundedReceiver<String>) {
    let mut child = Command::new(BIN)
        .args(["dev", "-p", "0", "--poll-interval", "1"])
        .args(args)
        .env("PORT", port.to_string())
        .env_remove("INNGEST_SIGNING_KEY")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut ready_tx = Some(ready_tx);
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("running: open") {
                if let Some(ready) = ready_tx.take() {
                    let _ = ready.send(());
                }
            }
            let _ = tx.send(line);
        }
    });
    tokio::time::timeout(Duration::from_secs(30), ready)
        .await
        .expect("the engine starts within 30 s")
        .expect("the engine logs that it runs");
    (child, rx)
}

#[tokio::test]
async fn an_app_on_port_is_found_and_synced_unless_discovery_is_off() {
    let (port, mut seen) = fake_app().await;
    // Started first, signing its syncs: were it to discover the app, its PUT would come at
    // once, signed.
    let (_off, _) = engine(&["--no-discovery", "--signing-key", "abcd"], port).await;
    let (_on, mut log) = engine(&[], port).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut asked = Vec::new();
    let put = loop {
        let request = tokio::time::timeout_at(deadline, seen.recv())
            .await
            .expect("the engine syncs the app within 30 s")
            .unwrap();
        if request.method == "PUT" {
            break request;
        }
        asked.push(request.path);
    };
    assert!(asked.contains(&"/api/inngest".to_owned()), "{asked:?}");
    assert!(asked.contains(&"/x/inngest".to_owned()), "{asked:?}");
    assert_eq!(put.path, "/api/inngest");
    assert_eq!(put.header("x-inngest-server-kind"), Some("dev"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&put.body).unwrap(),
        serde_json::json!({ "url": format!("http://127.0.0.1:{port}/api/inngest") })
    );
    assert_eq!(
        put.header("x-inngest-signature"),
        None,
        "only the engine with discovery on syncs the app"
    );
    let found = format!("found an app at http://127.0.0.1:{port}/api/inngest");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let line = tokio::time::timeout_at(deadline, log.recv())
            .await
            .expect("the engine logs the app it found")
            .unwrap();
        if line.contains(&found) {
            break;
        }
    }
}
