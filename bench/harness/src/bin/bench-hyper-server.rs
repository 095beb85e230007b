//! The physical limit: a bare hyper server on the same runtime as the SDK (tokio, multi-threaded,
//! HTTP/1.1 keep-alive). It reads every request body whole and answers 200 with a fixed JSON
//! body of the same size as the Rust SDK's answer to the 10-step call request; no parsing, no
//! routing.
//!
//! `bench-hyper-server` listens on 127.0.0.1:`$PORT` (0, the default, picks a free port),
//! prints `LISTENING <port>`, and serves until killed.

use std::convert::Infallible;
use std::io::Write;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the body whole, as any handler that parses it must.
    let _body = req.into_body().collect().await.map(|b| b.to_bytes());
    let mut res = Response::new(Full::new(Bytes::from_static(inngest_bench::FIXED_ANSWER)));
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(res)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|e| format!("bad PORT `{p}`: {e}"))?,
        Err(_) => 0,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "LISTENING {}", listener.local_addr()?.port())?;
    stdout.flush()?;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(_) => {
                tokio::task::yield_now().await;
                continue;
            }
        };
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}
