//! The Rust bench server: the Inngest SDK serving the bench function (`bench-steps`, see the
//! crate docs) and 99 small functions, 100 in all, in dev mode, release build.
//!
//! `bench-sdk-server` listens on 127.0.0.1:`$PORT` (0, the default, picks a free port), prints
//! `LISTENING <port>` once it accepts connections (as the JS and Python bench peers do), and
//! serves until SIGTERM or Ctrl-C.

use std::io::Write;

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

    // Checkpointing off, as the official SDKs' bench servers: the classic answer (200 with the
    // output) to the replay call request that every server is measured with.
    let app = inngest::App::new(inngest_bench::APP_ID)
        .dev("http://127.0.0.1:9")
        .checkpointing(inngest::Checkpointing::OFF)
        .register::<inngest_bench::steps>();
    inngest_bench::fillers::register(app)
        .serve()
        .listener(listener)
        .with_graceful_shutdown(stop_signal())
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// SIGTERM or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
