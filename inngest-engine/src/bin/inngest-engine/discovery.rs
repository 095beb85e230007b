//! Auto-discovery of apps on this machine, as the dev server does: the usual development
//! ports (and `$PORT`) on 127.0.0.1 are tried at once; on each that accepts a connection, the
//! usual serve paths are asked with a `GET`, and an answer with an `X-Inngest-SDK` header is
//! an app to sync.

use std::time::Duration;

/// The ports tried (the dev server's list): web servers, Rails/Express/Next, Astro, Django,
/// Vite/SvelteKit, other common ones, Redwood, Cloudflare Workers.
const PORTS: &[u16] = &[
    80, 443, 3000, 3001, 3002, 3003, 3004, 3005, 3006, 3007, 3008, 3009, 3010, 4321, 5000, 5173,
    8000, 8080, 8081, 8888, 8910, 8911, 8912, 8913, 8914, 8915, 8787,
];

/// The paths asked on an open port (the recommended ones, Netlify's and Redwood's).
const PATHS: &[&str] = &[
    "/api/inngest",
    "/x/inngest",
    "/.netlify/functions/inngest",
    "/.redwood/functions/inngest",
];

/// How long a connection or a request may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// The ports to try: the dev server's, and `$PORT` when it is a port number.
pub fn ports(env_port: Option<&str>) -> Vec<u16> {
    let mut ports = PORTS.to_vec();
    if let Some(port) = env_port.and_then(|p| p.trim().parse::<u16>().ok()) {
        if port != 0 && !ports.contains(&port) {
            ports.push(port);
        }
    }
    ports
}

/// The serve URLs of the apps answering on `ports` now, in the order of the ports and paths.
pub async fn scan(client: &reqwest::Client, ports: &[u16]) -> Vec<String> {
    let open = open_ports(ports).await;
    let mut found = Vec::new();
    for port in open {
        for path in PATHS {
            let url = format!("http://127.0.0.1:{port}{path}");
            let answer = client.get(&url).timeout(TIMEOUT).send().await;
            if answer.is_ok_and(|res| res.headers().contains_key("x-inngest-sdk")) {
                found.push(url);
            }
        }
    }
    found
}

/// The ports of `ports` that accept a TCP connection, tried at once.
async fn open_ports(ports: &[u16]) -> Vec<u16> {
    let tries = ports.iter().map(|&port| {
        tokio::spawn(async move {
            let connect = tokio::net::TcpStream::connect(("127.0.0.1", port));
            matches!(tokio::time::timeout(TIMEOUT, connect).await, Ok(Ok(_))).then_some(port)
        })
    });
    let mut open = Vec::new();
    for handle in tries.collect::<Vec<_>>() {
        if let Ok(Some(port)) = handle.await {
            open.push(port);
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_from_the_environment_is_added_once() {
        assert_eq!(ports(None).len(), PORTS.len());
        assert_eq!(ports(Some("4000")).last(), Some(&4000));
        assert_eq!(ports(Some("3000")).len(), PORTS.len());
        assert_eq!(ports(Some("nope")).len(), PORTS.len());
        assert_eq!(ports(Some("0")).len(), PORTS.len());
    }
}
