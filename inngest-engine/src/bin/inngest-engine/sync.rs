//! Syncing apps: a `PUT` to each URL with `{"url": <its URL>}`, signed when there is a signing
//! key (the app then registers with the engine), at start and then on the poll interval, as
//! the dev server does. The apps are those given with `-u` and, until an app has synced, those
//! that auto-discovery finds ([`crate::discovery`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use inngest_engine::Engine;

use crate::discovery;

/// What the command syncs, and how often.
pub struct Syncing {
    /// The apps given with `-u`.
    pub urls: Vec<String>,
    /// The key calls are signed with.
    pub signing_key: Option<String>,
    /// Whether apps are synced again on every interval (`--no-poll` turns it off; an app that
    /// could not be synced is tried again either way).
    pub poll: bool,
    /// `--poll-interval`.
    pub interval: Duration,
    /// The ports auto-discovery tries, or `None` with `--no-discovery`.
    pub discover: Option<Vec<u16>>,
}

/// An app being synced: its URL and whether its last sync failed.
struct App {
    url: String,
    failing: bool,
}

/// Syncs the apps now, then on every interval; discovers apps until one has synced.
pub async fn apps(syncing: Syncing, engine: Engine) {
    let Syncing {
        urls,
        signing_key,
        poll,
        interval,
        mut discover,
    } = syncing;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let key = signing_key.as_deref();
    let mut apps: Vec<App> = urls
        .into_iter()
        .map(|url| App {
            url,
            failing: false,
        })
        .collect();
    if discover.is_some() {
        tracing::info!(target: "inngest::engine", "autodiscovering locally hosted SDKs (turn off with --no-discovery)");
    }
    let mut first = true;
    loop {
        for app in &mut apps {
            if first || poll || app.failing {
                let synced = sync_one(&client, &app.url, key).await;
                report(app, synced, poll && !first, interval);
            }
        }
        if let Some(ports) = &discover {
            if engine.inspect(|core| !core.apps().is_empty()) {
                tracing::info!(target: "inngest::engine", "apps synced, disabling auto-discovery");
                discover = None;
            } else {
                for url in discovery::scan(&client, ports).await {
                    if apps.iter().any(|app| app.url == url) {
                        continue;
                    }
                    tracing::info!(target: "inngest::engine", "found an app at {url}");
                    let mut app = App {
                        url,
                        failing: false,
                    };
                    let synced = sync_one(&client, &app.url, key).await;
                    report(&mut app, synced, false, interval);
                    apps.push(app);
                }
            }
        }
        if !poll && discover.is_none() && apps.iter().all(|app| !app.failing) {
            return;
        }
        first = false;
        tokio::time::sleep(interval).await;
    }
}

/// Logs a sync's outcome when it changes (or every time when `quiet` is false).
fn report(app: &mut App, synced: Result<(), String>, quiet: bool, interval: Duration) {
    let url = &app.url;
    match synced {
        Ok(()) => {
            if app.failing || !quiet {
                tracing::info!(target: "inngest::engine", "synced the app at {url}");
            }
            app.failing = false;
        }
        Err(e) => {
            if !app.failing {
                tracing::warn!(target: "inngest::engine", "could not sync the app at {url}: {e} (retrying every {}s)", interval.as_secs());
            }
            app.failing = true;
        }
    }
}

async fn sync_one(client: &reqwest::Client, url: &str, key: Option<&str>) -> Result<(), String> {
    let body = serde_json::to_vec(&serde_json::json!({ "url": url })).unwrap_or_default();
    let mut req = client
        .put(url)
        .header("content-type", "application/json")
        .header("x-inngest-server-kind", "dev");
    if let Some(key) = key {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        req = req.header(
            "x-inngest-signature",
            inngest_protocol::signature::signature_header(key, &body, t),
        );
    }
    let res = req.body(body).send().await.map_err(|e| e.to_string())?;
    let status = res.status();
    if status.is_success() {
        Ok(())
    } else {
        let text = res.text().await.unwrap_or_default();
        Err(format!(
            "HTTP {status}: {}",
            text.chars().take(300).collect::<String>()
        ))
    }
}
