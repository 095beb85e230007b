//! Apps and their functions, as synced (`POST /fn/register` or in-process): an app's sync
//! replaces its whole set of functions.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use inngest_protocol::register::{FunctionConfig, RegisterRequest};

use super::cron::Schedule;
use super::types::RegisterError;

/// A synced app.
#[derive(Debug, Clone)]
pub(crate) struct App {
    /// Its serve URL.
    pub url: String,
    /// `"<lang>:v<version>"`.
    pub sdk: String,
    /// The slugs of its functions, in the order synced.
    pub functions: Vec<String>,
}

/// A function the engine runs.
#[derive(Debug)]
pub(crate) struct Function {
    /// As synced.
    pub config: FunctionConfig,
    /// The app that serves it.
    pub app_id: String,
    /// The step URL calls go to.
    pub url: String,
    /// Retries after the first attempt.
    pub retries: u32,
    /// Event triggers: the name and the optional expression.
    pub events: Vec<(String, Option<String>)>,
    /// Cron triggers: the schedule as written, parsed.
    pub crons: Vec<(String, Schedule)>,
    /// Cancellation rules: event, expression, until when a run listens.
    pub cancel: Vec<(String, Option<String>, CancelUntil)>,
    /// Which sync this is; cron ticks of an older one are dropped.
    pub generation: u64,
}

/// Until when a cancellation rule listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CancelUntil {
    /// For this long after the run starts.
    For(Duration),
    /// Until this time (ms since the epoch), an RFC 3339 timeout.
    At(u64),
}

/// The apps and functions.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub apps: BTreeMap<String, App>,
    pub functions: BTreeMap<String, Function>,
    generation: u64,
}

/// How a sync went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    /// The app.
    pub app_id: String,
    /// How many functions it has now.
    pub functions: usize,
    /// The slugs it had before and no longer lists.
    pub removed: Vec<String>,
}

impl Registry {
    /// Checks a sync and builds its functions (nothing changes on an error).
    pub(crate) fn prepare(
        &mut self,
        request: &RegisterRequest,
        now: u64,
    ) -> Result<(String, App, Vec<Function>), RegisterError> {
        let app_id = request.app_name.trim().to_owned();
        if app_id.is_empty() {
            return Err(RegisterError::NoAppName);
        }
        self.generation += 1;
        let mut seen = HashSet::new();
        let mut functions = Vec::with_capacity(request.functions.len());
        for config in &request.functions {
            let slug = config.id.trim().to_owned();
            if slug.is_empty() {
                return Err(RegisterError::NoFunctionId);
            }
            if !seen.insert(slug.clone()) {
                return Err(RegisterError::DuplicateFunction(slug));
            }
            functions.push(self.function(&app_id, config, slug, now)?);
        }
        let app = App {
            url: request.url.clone(),
            sdk: request.sdk.clone(),
            functions: functions.iter().map(|f| f.config.id.clone()).collect(),
        };
        Ok((app_id, app, functions))
    }

    fn function(
        &self,
        app_id: &str,
        config: &FunctionConfig,
        slug: String,
        now: u64,
    ) -> Result<Function, RegisterError> {
        let invalid = |reason: String| RegisterError::InvalidFunction {
            function: slug.clone(),
            reason,
        };
        let url = config
            .step()
            .map(|s| s.runtime.url.trim().to_owned())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| RegisterError::NoStepUrl(slug.clone()))?;
        let mut events = Vec::new();
        let mut crons = Vec::new();
        for trigger in &config.triggers {
            match (&trigger.event, &trigger.cron) {
                (Some(event), _) => events.push((event.clone(), trigger.expression.clone())),
                (None, Some(cron)) => {
                    let schedule = Schedule::parse(cron).map_err(|e| {
                        invalid(format!("the cron schedule `{cron}` is invalid: {e}"))
                    })?;
                    crons.push((cron.clone(), schedule));
                }
                (None, None) => {
                    return Err(invalid("a trigger has neither an event nor a cron".into()))
                }
            }
        }
        let mut cancel = Vec::new();
        for rule in &config.cancel {
            let timeout = match rule.timeout.as_deref() {
                None => CancelUntil::For(inngest_protocol::limits::CANCEL_TIMEOUT),
                Some(t) => match inngest_protocol::timestr::parse(t) {
                    Ok(d) => CancelUntil::For(d),
                    Err(e) => match inngest_protocol::time::parse_rfc3339(t) {
                        Some(at) => {
                            CancelUntil::At(inngest_protocol::time::unix_millis(at).max(now))
                        }
                        None => {
                            return Err(invalid(format!(
                                "the cancellation timeout is invalid: {e}"
                            )))
                        }
                    },
                },
            };
            cancel.push((rule.event.clone(), rule.if_expression.clone(), timeout));
        }
        Ok(Function {
            config: FunctionConfig {
                id: slug,
                ..config.clone()
            },
            app_id: app_id.to_owned(),
            url,
            retries: config.retries(),
            events,
            crons,
            cancel,
            generation: self.generation,
        })
    }

    /// Applies a prepared sync: the app's functions are exactly these now.
    pub(crate) fn commit(&mut self, app_id: String, app: App, functions: Vec<Function>) -> Synced {
        let listed: HashSet<&str> = app.functions.iter().map(String::as_str).collect();
        let removed: Vec<String> = self
            .apps
            .get(&app_id)
            .map(|old| {
                old.functions
                    .iter()
                    .filter(|f| !listed.contains(f.as_str()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for slug in &removed {
            self.functions.remove(slug);
        }
        for f in functions {
            // A slug another app served moves to this one.
            if let Some(old) = self.functions.get(&f.config.id) {
                if old.app_id != app_id {
                    if let Some(other) = self.apps.get_mut(&old.app_id) {
                        other.functions.retain(|s| *s != f.config.id);
                    }
                }
            }
            self.functions.insert(f.config.id.clone(), f);
        }
        let count = app.functions.len();
        self.apps.insert(app_id.clone(), app);
        Synced {
            app_id,
            functions: count,
            removed,
        }
    }

    /// Removes an app and its functions; `false` if there is none.
    pub(crate) fn remove_app(&mut self, app_id: &str) -> bool {
        let Some(app) = self.apps.remove(app_id) else {
            return false;
        };
        for slug in app.functions {
            self.functions.remove(&slug);
        }
        true
    }
}
