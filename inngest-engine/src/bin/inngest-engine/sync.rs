//! Syncing the apps given with `-u`: a `PUT` to each URL with `{"url": <its URL>}`, signed
//! when there is a signing key (the app then registers with the engine), at start and then on
//! the poll interval, as the dev server does.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Syncs each app now, then every `interval` when `poll`.
pub async fn apps(urls: Vec<String>, signing_key: Option<String>, poll: bool, interval: Duration) {
    if urls.is_empty() {
        return;
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let mut failing: Vec<bool> = vec![false; urls.len()];
    loop {
        for (url, failed) in urls.iter().zip(failing.iter_mut()) {
            match sync_one(&client, url, signing_key.as_deref()).await {
                Ok(()) => {
                    if *failed || !poll {
                        tracing::info!(target: "inngest::engine", "synced the app at {url}");
                    }
                    *failed = false;
                }
                Err(e) => {
                    if !*failed {
                        tracing::warn!(target: "inngest::engine", "could not sync the app at {url}: {e} (retrying every {}s)", interval.as_secs());
                    }
                    *failed = true;
                }
            }
        }
        if !poll && failing.iter().all(|f| !f) {
            return;
        }
        tokio::time::sleep(interval).await;
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
