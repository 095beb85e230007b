//! `inngest-engine`: the engine as a command, in front of apps in any language, like the
//! Inngest dev server (`inngest-engine dev -u http://localhost:3000/api/inngest`).

mod args;
mod discovery;
mod sync;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use inngest_engine::{Engine, EngineConfig};

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let args::Command::Dev(dev) = cli.command;
    let level = if cli.verbose && cli.log_level == "info" {
        "debug"
    } else {
        cli.log_level.as_str()
    };
    init_logs(level, cli.json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(dev))
}

fn init_logs(level: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::new(format!(
        "{level},hyper=warn,hyper_util=warn,reqwest=warn,h2=warn"
    ));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

async fn run(dev: args::Dev) -> ExitCode {
    let mut config = EngineConfig::default().event_keys(dev.event_key.clone());
    if let Some(seconds) = dev.retry_interval {
        config = config.retry_interval(Duration::from_secs(seconds));
    }
    if let Some(key) = &dev.signing_key {
        config = config.signing_key(key.clone());
    }
    if dev.persist {
        config = config.persist(dev.sqlite_dir.clone());
    }
    let started = std::time::Instant::now();
    let engine = match Engine::start(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: the engine could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if dev.persist {
        let (runs, active) = engine.inspect(|core| {
            let runs = core.runs_kept();
            (runs, core.active_runs())
        });
        tracing::info!(
            target: "inngest::engine",
            "state kept in {} ({runs} runs, {active} of them in progress, restored in {} ms)",
            dev.sqlite_dir.join("inngest-engine.db").display(),
            started.elapsed().as_millis(),
        );
    }
    let address = std::net::SocketAddr::new(dev.host, dev.port);
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: could not listen on {address}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().unwrap_or(address);
    let host = match local.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let origin = format!("http://{host}:{}", local.port());
    tracing::info!(
        target: "inngest::engine",
        "Inngest engine {} running: open {origin}/ to see runs; apps sync at {origin}/fn/register and send events to {origin}/e/<key>",
        env!("CARGO_PKG_VERSION"),
    );
    if dev.signing_key.is_some() {
        tracing::info!(target: "inngest::engine", "the API requires the signing key (Authorization: Bearer <key or its hash>)");
    }
    if !dev.event_key.is_empty() {
        tracing::info!(target: "inngest::engine", "events are accepted with the {} configured event key(s) only", dev.event_key.len());
    }
    let syncing = sync::Syncing {
        urls: dev.sdk_url.clone(),
        signing_key: dev.signing_key.clone(),
        poll: !dev.no_poll,
        interval: Duration::from_secs(dev.poll_interval),
        discover: (!dev.no_discovery)
            .then(|| discovery::ports(std::env::var("PORT").ok().as_deref())),
    };
    tokio::spawn(sync::apps(syncing, engine.clone()));
    inngest_engine::serve(engine, listener, shutdown()).await;
    tracing::info!(target: "inngest::engine", "Inngest engine stopped");
    ExitCode::SUCCESS
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
