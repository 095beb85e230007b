//! The command line, as the Inngest CLI's: global `--json` and `--log-level`, and the `dev`
//! command's flags that make sense for this engine.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The Inngest engine: a local Inngest in one binary.
#[derive(Debug, Parser)]
#[command(
    name = "inngest-engine",
    version,
    about = "Inngest engine\n\nA local Inngest in one binary: runs the functions of apps built with any Inngest SDK, with the dev server's API and a page of runs.",
    propagate_version = true
)]
pub struct Cli {
    /// Output logs as JSON.
    #[arg(long, global = true)]
    pub json: bool,

    /// Set the log level.  One of: trace, debug, info, warn, error.
    #[arg(
        short = 'l',
        long,
        global = true,
        default_value = "info",
        value_parser = ["trace", "debug", "info", "warn", "error"]
    )]
    pub log_level: String,

    /// Enable verbose logging (the same as --log-level debug).
    #[arg(long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Inngest engine for local development.
    #[command(
        override_usage = "inngest-engine dev [options]",
        after_help = "Example: inngest-engine dev -u http://localhost:3000/api/inngest"
    )]
    Dev(Dev),
}

/// `inngest-engine dev`.
#[derive(Debug, Args)]
pub struct Dev {
    /// App serve URLs to sync (ex. http://localhost:3000/api/inngest)
    #[arg(short = 'u', long = "sdk-url", value_name = "URL", value_parser = parse_url)]
    pub sdk_url: Vec<String>,

    /// Disable app auto-discovery (until an app syncs, the engine looks for apps on the usual
    /// local ports and $PORT, at /api/inngest and the other usual paths)
    #[arg(long)]
    pub no_discovery: bool,

    /// Disable polling of apps for updates
    #[arg(long)]
    pub no_poll: bool,

    /// Inngest server host
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Inngest server port
    #[arg(short = 'p', long, default_value_t = 8288)]
    pub port: u16,

    /// Persist data in between restarts (in SQLite, in --sqlite-dir)
    #[arg(long, help_heading = "Advanced", env = "INNGEST_PERSIST")]
    pub persist: bool,

    /// Interval in seconds between polling for updates to apps
    #[arg(long, default_value_t = 5, value_name = "SECONDS", help_heading = "Advanced",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_interval: u64,

    /// Retry interval in seconds for linear backoff when retrying functions - must be 1 or above
    #[arg(long, value_name = "SECONDS", help_heading = "Advanced",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub retry_interval: Option<u64>,

    /// The interval (in milliseconds) at which the executor polls the queue (accepted for
    /// compatibility: this engine wakes exactly when work is due)
    #[arg(long, default_value_t = 150, value_name = "MILLISECONDS", help_heading = "Advanced",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub tick: u64,

    /// Directory for where to write SQLite database (with --persist; the file is
    /// inngest-engine.db)
    #[arg(
        long,
        value_name = "DIR",
        help_heading = "Advanced",
        env = "INNGEST_SQLITE_DIR",
        default_value = ".inngest"
    )]
    pub sqlite_dir: PathBuf,

    /// Signing key used to sign and validate data between the server and apps. Must be hex
    /// string with even number of chars
    #[arg(long, value_name = "KEY", env = "INNGEST_SIGNING_KEY", hide_env_values = true,
          value_parser = parse_signing_key)]
    pub signing_key: Option<String>,

    /// Event key(s) that will be used by apps to send events to the server.
    #[arg(long = "event-key", value_name = "KEY")]
    pub event_key: Vec<String>,
}

fn parse_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("not an http(s) URL: {text}"));
    }
    Ok(text.to_owned())
}

fn parse_signing_key(text: &str) -> Result<String, String> {
    let body = text
        .strip_prefix("signkey-")
        .and_then(|rest| rest.find('-').map(|dash| &rest[dash + 1..]))
        .unwrap_or(text);
    if body.is_empty() || body.len() % 2 != 0 || !body.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("must be a hex string with an even number of characters (optionally prefixed signkey-<env>-)".to_owned());
    }
    Ok(text.to_owned())
}
