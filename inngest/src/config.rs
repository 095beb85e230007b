//! Configuration from the environment variables other Inngest SDKs read (protocol.md 6.4),
//! overridable from code through [`App`](crate::App).

use std::fmt;

use crate::error::Error;

/// The default dev server address.
pub(crate) const DEFAULT_DEV_SERVER: &str = "http://127.0.0.1:8288";
/// The default serve path.
pub(crate) const DEFAULT_SERVE_PATH: &str = "/api/inngest";
/// The default request body limit: the server's 4 MB call bodies with room to spare.
pub(crate) const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// How long a request body may take to arrive (against bodies trickled in slowly).
pub(crate) const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a call may run before the SDK answers with an error: just under the Inngest
/// server's 2 h HTTP timeout, so the SDK answers before the server gives up.
pub(crate) const DEFAULT_CALL_TIMEOUT: std::time::Duration =
    std::time::Duration::from_secs(2 * 3600 - 5 * 60);

/// Where the app's functions are run from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// An Inngest dev server at this origin, no signatures.
    Dev {
        /// The dev server's origin, e.g. `http://127.0.0.1:8288`.
        origin: String,
    },
    /// Inngest Cloud (or a self-hosted server) with signed requests.
    Cloud,
    /// The engine runs in this process: `INNGEST_DEV=embedded` or `App::embedded()`, or
    /// nothing configured in a debug build.
    Embedded,
}

/// How the program was built: a debug build with nothing configured runs the embedded engine;
/// a release build refuses to start (a deploy that forgot its signing key must not silently
/// run an in-memory engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Build {
    Debug,
    Release,
}

impl Build {
    /// This program's build.
    pub(crate) const CURRENT: Build = if cfg!(debug_assertions) {
        Build::Debug
    } else {
        Build::Release
    };
}

/// Whether this build of the SDK has the engine (the `engine` feature).
pub(crate) const ENGINE_BUILT: bool = cfg!(feature = "engine");

/// The three ways to configure a mode, for the errors that ask for one.
const CHOICES: &str = "set INNGEST_SIGNING_KEY to serve Inngest Cloud, INNGEST_DEV=1 (or a dev server URL) to use an Inngest dev server, or INNGEST_DEV=embedded (App::embedded()) to run the engine in this process on purpose";

/// The mode from `INNGEST_DEV` (or its override), whether a signing key is set, the build,
/// and whether the engine is built in.
pub(crate) fn mode(
    dev: Option<&str>,
    signing_key: bool,
    build: Build,
    engine_built: bool,
) -> Result<Mode, Error> {
    let mode = match dev.map(str::trim) {
        Some("0" | "false") => Mode::Cloud,
        Some("1" | "true") => Mode::Dev {
            origin: DEFAULT_DEV_SERVER.to_owned(),
        },
        Some("embedded") => Mode::Embedded,
        Some(url) => Mode::Dev {
            origin: parse_origin("INNGEST_DEV", url)?,
        },
        None if signing_key => Mode::Cloud,
        None if build == Build::Release => {
            return Err(Error::msg(format!(
                "no Inngest mode is configured, and a release build does not run the in-memory engine unless asked to: {CHOICES}"
            )))
        }
        None => Mode::Embedded,
    };
    if mode == Mode::Embedded && !engine_built {
        return Err(Error::msg(format!(
            "the embedded engine is not part of this build of inngest (its `engine` feature is off): {}",
            CHOICES.trim_end_matches(" on purpose").rsplit_once(", or ").map_or(CHOICES, |(cloud_and_dev, _)| cloud_and_dev)
        )));
    }
    Ok(mode)
}

/// A secret string that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub(crate) fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret's value.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The resolved configuration of a served app.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub mode: Mode,
    pub api_origin: String,
    pub event_origin: String,
    pub event_key: Option<Secret>,
    pub signing_key: Option<Secret>,
    pub signing_key_fallback: Option<Secret>,
    pub serve_origin: Option<String>,
    pub serve_path: String,
    pub port: u16,
    pub host: Option<String>,
    pub env: Option<String>,
    pub body_limit: usize,
    pub body_timeout: std::time::Duration,
    pub call_timeout: std::time::Duration,
}

/// Reads a variable, treating an empty value as unset.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Overrides set in code; `None` falls back to the environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub dev: Option<String>,
    /// `App::embedded()`.
    pub embedded: bool,
    pub serve_origin: Option<String>,
    pub serve_path: Option<String>,
    pub port: Option<u16>,
    pub body_limit: Option<usize>,
    pub body_timeout: Option<std::time::Duration>,
    pub call_timeout: Option<std::time::Duration>,
    pub retry_interval: Option<std::time::Duration>,
    /// `App::persist(dir)`.
    pub persist: Option<std::path::PathBuf>,
    pub signing_key: Option<Secret>,
    pub signing_key_fallback: Option<Secret>,
    pub event_key: Option<Secret>,
    pub base_url: Option<String>,
}

impl Config {
    /// The configuration from the environment and the code's overrides.
    pub(crate) fn resolve(o: &Overrides) -> Result<Config, Error> {
        let signing_key = o
            .signing_key
            .clone()
            .or_else(|| var("INNGEST_SIGNING_KEY").map(Secret));
        let dev = match o.embedded {
            true => Some("embedded".to_owned()),
            false => o.dev.clone().or_else(|| var("INNGEST_DEV")),
        };
        let mode = mode(
            dev.as_deref(),
            signing_key.is_some(),
            Build::CURRENT,
            ENGINE_BUILT,
        )?;
        let base = o
            .base_url
            .clone()
            .or_else(|| var("INNGEST_BASE_URL"))
            .map(|u| parse_origin("INNGEST_BASE_URL", &u))
            .transpose()?;
        let api_origin = match (var("INNGEST_API_BASE_URL"), &base, &mode) {
            (Some(u), _, _) => parse_origin("INNGEST_API_BASE_URL", &u)?,
            (None, Some(b), _) => b.clone(),
            (None, None, Mode::Dev { origin }) => origin.clone(),
            (None, None, Mode::Cloud) => "https://api.inngest.com".to_owned(),
            (None, None, Mode::Embedded) => DEFAULT_DEV_SERVER.to_owned(),
        };
        let event_origin = match (var("INNGEST_EVENT_API_BASE_URL"), &base, &mode) {
            (Some(u), _, _) => parse_origin("INNGEST_EVENT_API_BASE_URL", &u)?,
            (None, Some(b), _) => b.clone(),
            (None, None, Mode::Dev { origin }) => origin.clone(),
            (None, None, Mode::Cloud) => "https://inn.gs".to_owned(),
            (None, None, Mode::Embedded) => DEFAULT_DEV_SERVER.to_owned(),
        };
        let port = match o.port {
            Some(p) => p,
            None => match var("PORT") {
                Some(p) => p.trim().parse().map_err(|_| {
                    Error::msg(format!("PORT must be a port number (0-65535), got `{p}`"))
                })?,
                None => 3000,
            },
        };
        let serve_path = o
            .serve_path
            .clone()
            .or_else(|| var("INNGEST_SERVE_PATH"))
            .unwrap_or_else(|| DEFAULT_SERVE_PATH.to_owned());
        if !serve_path.starts_with('/') {
            return Err(Error::msg(format!(
                "INNGEST_SERVE_PATH must start with `/`, got `{serve_path}`"
            )));
        }
        let serve_origin = o
            .serve_origin
            .clone()
            .or_else(|| var("INNGEST_SERVE_ORIGIN"))
            .map(|u| parse_origin("INNGEST_SERVE_ORIGIN", &u))
            .transpose()?;
        Ok(Config {
            mode,
            api_origin,
            event_origin,
            event_key: o
                .event_key
                .clone()
                .or_else(|| var("INNGEST_EVENT_KEY").map(Secret)),
            signing_key,
            signing_key_fallback: o
                .signing_key_fallback
                .clone()
                .or_else(|| var("INNGEST_SIGNING_KEY_FALLBACK").map(Secret)),
            serve_origin,
            serve_path,
            port,
            host: var("HOST"),
            env: var("INNGEST_ENV"),
            body_limit: o.body_limit.unwrap_or(DEFAULT_BODY_LIMIT),
            body_timeout: o.body_timeout.unwrap_or(DEFAULT_BODY_TIMEOUT),
            call_timeout: o.call_timeout.unwrap_or(DEFAULT_CALL_TIMEOUT),
        })
    }

    /// `"dev"` or `"cloud"`, as introspection reports it.
    pub(crate) fn mode_name(&self) -> &'static str {
        match self.mode {
            Mode::Dev { .. } | Mode::Embedded => "dev",
            Mode::Cloud => "cloud",
        }
    }
}

/// Checks that `value` is an `http(s)` URL and returns it without a trailing slash.
fn parse_origin(var: &str, value: &str) -> Result<String, Error> {
    let trimmed = value.trim();
    let parsed = url::Url::parse(trimmed).map_err(|e| {
        Error::msg(format!(
            "{var} must be a URL such as http://127.0.0.1:8288, got `{trimmed}`: {e}"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::msg(format!(
            "{var} must be an http or https URL, got `{trimmed}`"
        )));
    }
    Ok(trimmed.trim_end_matches('/').to_owned())
}

/// `INNGEST_STREAMING`: `true` or `1` stream call responses, as do the deprecated `allow`
/// and `force` of the official SDKs; anything else (or nothing) does not.
pub(crate) fn streaming_from_env() -> bool {
    var("INNGEST_STREAMING").is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "allow" | "force"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_and_trimmed() {
        assert_eq!(
            parse_origin("X", "http://localhost:8288/").unwrap(),
            "http://localhost:8288"
        );
        let err = parse_origin("INNGEST_DEV", "ftp://x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "INNGEST_DEV must be an http or https URL, got `ftp://x`"
        );
        assert!(parse_origin("INNGEST_DEV", "yes")
            .unwrap_err()
            .to_string()
            .starts_with("INNGEST_DEV must be a URL"));
    }

    #[test]
    fn modes_by_configuration_and_build() {
        use Build::{Debug, Release};
        let dev = |origin: &str| Mode::Dev {
            origin: origin.to_owned(),
        };
        for build in [Debug, Release] {
            assert_eq!(
                mode(Some("1"), false, build, true).unwrap(),
                dev(DEFAULT_DEV_SERVER)
            );
            assert_eq!(
                mode(Some("http://dev:8288/"), true, build, true).unwrap(),
                dev("http://dev:8288")
            );
            assert_eq!(mode(Some("0"), true, build, true).unwrap(), Mode::Cloud);
            assert_eq!(mode(None, true, build, true).unwrap(), Mode::Cloud);
            assert_eq!(
                mode(Some("embedded"), false, build, true).unwrap(),
                Mode::Embedded
            );
            assert_eq!(
                mode(Some("embedded"), true, build, true).unwrap(),
                Mode::Embedded
            );
        }
        assert_eq!(mode(None, false, Debug, true).unwrap(), Mode::Embedded);
        assert_eq!(
            mode(None, false, Release, true).unwrap_err().to_string(),
            "no Inngest mode is configured, and a release build does not run the in-memory engine unless asked to: set INNGEST_SIGNING_KEY to serve Inngest Cloud, INNGEST_DEV=1 (or a dev server URL) to use an Inngest dev server, or INNGEST_DEV=embedded (App::embedded()) to run the engine in this process on purpose"
        );
        assert_eq!(
            mode(Some("embedded"), false, Release, false).unwrap_err().to_string(),
            "the embedded engine is not part of this build of inngest (its `engine` feature is off): set INNGEST_SIGNING_KEY to serve Inngest Cloud, INNGEST_DEV=1 (or a dev server URL) to use an Inngest dev server"
        );
        assert!(mode(None, false, Debug, false).is_err());
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Secret("signkey-prod-abc".into());
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }
}
