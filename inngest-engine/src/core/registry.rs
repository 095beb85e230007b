//! Apps and their functions, as synced (`POST /fn/register` or in-process): an app's sync
//! replaces its whole set of functions.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use inngest_protocol::register::{FunctionConfig, RegisterRequest};
use serde::{Deserialize, Serialize};

use super::cron::Schedule;
use super::expr::Expressions;
use super::flow::FlowConfig;
use super::tracked::TrackedTree;
use super::types::RegisterError;
use super::validate;

/// A synced app.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Cron triggers.
    pub crons: Vec<CronTrigger>,
    /// Flow control.
    pub flow: FlowConfig,
    /// Cancellation rules: event, expression, until when a run listens.
    pub cancel: Vec<(String, Option<String>, CancelUntil)>,
    /// Which sync this is; cron ticks of an older one are dropped.
    pub generation: u64,
}

/// What is stored of a function: its configuration as synced, which app serves it and which
/// sync it is. Everything else (triggers, parsed schedules, flow control) is rebuilt from
/// the configuration at restore.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredFunction<C = FunctionConfig, S = String> {
    pub config: C,
    pub app_id: S,
    pub generation: u64,
}

impl Serialize for Function {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StoredFunction {
            config: &self.config,
            app_id: self.app_id.as_str(),
            generation: self.generation,
        }
        .serialize(serializer)
    }
}

/// A cron trigger.
#[derive(Debug)]
pub(crate) struct CronTrigger {
    /// The schedule as written.
    pub spec: String,
    /// Parsed.
    pub schedule: Schedule,
    /// The most jitter, in ms (runs start between 1 s and this after the tick).
    pub jitter_ms: u64,
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
    pub apps: TrackedTree<String, App>,
    pub functions: TrackedTree<String, Function>,
    pub(super) generation: u64,
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
        expressions: &mut Expressions,
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
            functions.push(self.function(&app_id, config, slug, now, expressions)?);
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
        expressions: &mut Expressions,
    ) -> Result<Function, RegisterError> {
        let url = config
            .step()
            .map(|s| s.runtime.url.trim().to_owned())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| RegisterError::NoStepUrl(slug.clone()))?;
        let mut reasons = Vec::new();
        if config.name.is_empty() {
            reasons.push("A function name is required".to_owned());
        }
        match url::Url::parse(&url).map(|u| u.scheme().to_owned()) {
            Ok(scheme) if ["http", "https", "ws", "wss"].contains(&scheme.as_str()) => {}
            Ok(scheme) => reasons.push(format!("Non-supported step schema: {scheme}")),
            Err(_) => reasons.push("Steps must have a valid URI".to_owned()),
        }
        let (events, crons) = triggers(config, expressions, &mut reasons);
        let flow = validate::flow_config(config, expressions, &mut reasons);
        let mut cancel = Vec::new();
        for rule in &config.cancel {
            let timeout = match rule.timeout.as_deref() {
                None => CancelUntil::For(inngest_protocol::limits::CANCEL_TIMEOUT),
                Some(t) => match inngest_protocol::timestr::parse(t) {
                    Ok(d) => CancelUntil::For(d),
                    Err(e) => match inngest_protocol::time::parse_rfc3339(t)
                        .or_else(|| inngest_protocol::time::parse_http_date(t))
                    {
                        Some(at) => {
                            CancelUntil::At(inngest_protocol::time::unix_millis(at).max(now))
                        }
                        None => {
                            reasons.push(format!("error parsing cancel timeout: {e}"));
                            continue;
                        }
                    },
                },
            };
            cancel.push((rule.event.clone(), rule.if_expression.clone(), timeout));
        }
        if !reasons.is_empty() {
            return Err(RegisterError::InvalidFunction {
                function: slug,
                reasons,
            });
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
            flow,
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

    /// A stored function built again from its configuration (as at its sync, with the
    /// checks of this version of the engine).
    pub(crate) fn rebuild(
        &self,
        stored: StoredFunction,
        now: u64,
        expressions: &mut Expressions,
    ) -> Result<Function, RegisterError> {
        let slug = stored.config.id.clone();
        let mut function = self.function(&stored.app_id, &stored.config, slug, now, expressions)?;
        function.generation = stored.generation;
        Ok(function)
    }

    /// The functions of `stored` built again (those that no longer pass this engine's checks
    /// are dropped from their apps, with why in `dropped`), the apps, and the sync count.
    pub(crate) fn restore(
        mut apps: TrackedTree<String, App>,
        stored: Vec<StoredFunction>,
        generation: u64,
        now: u64,
        expressions: &mut Expressions,
        dropped: &mut Vec<String>,
    ) -> Registry {
        let mut registry = Registry {
            apps: TrackedTree::default(),
            functions: TrackedTree::default(),
            generation,
        };
        let mut functions = BTreeMap::new();
        for s in stored {
            let (slug, app_id) = (s.config.id.clone(), s.app_id.clone());
            registry.generation = registry.generation.max(s.generation);
            match registry.rebuild(s, now, expressions) {
                Ok(f) => {
                    functions.insert(slug, f);
                }
                Err(e) => {
                    if let Some(app) = apps.get_mut(&app_id) {
                        app.functions.retain(|f| *f != slug);
                    }
                    dropped.push(format!(
                        "the function `{slug}` of the app `{app_id}` was dropped: {e}"
                    ));
                }
            }
        }
        registry.functions = TrackedTree::from_map(functions);
        registry.functions.track();
        registry.apps = apps;
        registry
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

/// The event and cron triggers of a function, checked as the server checks them
/// (`MultipleTriggers.Validate`).
#[allow(clippy::type_complexity)]
fn triggers(
    config: &FunctionConfig,
    expressions: &mut Expressions,
    reasons: &mut Vec<String>,
) -> (Vec<(String, Option<String>)>, Vec<CronTrigger>) {
    use inngest_protocol::limits::{
        MAX_CRON_JITTER, MAX_CRON_LENGTH, MAX_TRIGGERS, MAX_TRIGGER_EVENT_NAME_LENGTH,
        MIN_CRON_JITTER,
    };
    let mut events = Vec::new();
    let mut crons = Vec::new();
    if config.triggers.len() > MAX_TRIGGERS {
        reasons.push(format!(
            "This function exceeds the max number of triggers: {MAX_TRIGGERS}"
        ));
    }
    let mut seen = HashSet::new();
    for trigger in &config.triggers {
        let name = match (&trigger.event, &trigger.cron) {
            (Some(e), _) => format!("event: {e}"),
            (None, Some(c)) => format!("cron: {c}"),
            (None, None) => "Unknown".to_owned(),
        };
        if !seen.insert(serde_json::to_string(trigger).unwrap_or_default()) {
            reasons.push(format!("duplicate trigger {name}"));
        }
        match (&trigger.event, &trigger.cron) {
            (Some(_), Some(_)) => {
                reasons.push("A trigger cannot have both an event and a cron trigger".into())
            }
            (None, None) => {
                reasons.push("A trigger must supply an event name or a cron schedule".into())
            }
            (Some(event), None) => {
                if event.is_empty() {
                    reasons.push("An event trigger must specify an event name".into());
                }
                if event.len() > MAX_TRIGGER_EVENT_NAME_LENGTH {
                    reasons.push(format!("event name is too long. maximum length is {MAX_TRIGGER_EVENT_NAME_LENGTH} characters"));
                }
                if let Some(e) = trigger
                    .expression
                    .as_deref()
                    .and_then(|x| expressions.check(x).err())
                {
                    reasons.push(format!("invalid trigger expression on '{event}': {e}"));
                }
                events.push((event.clone(), trigger.expression.clone()));
            }
            (None, Some(cron)) => {
                if cron.len() > MAX_CRON_LENGTH {
                    reasons.push(format!(
                        "cron is too long. maximum length is {MAX_CRON_LENGTH} characters"
                    ));
                }
                let jitter = match trigger.jitter.as_deref().map(str::trim) {
                    None | Some("") => Ok(Duration::ZERO),
                    Some(j) => inngest_protocol::timestr::parse(j)
                        .map_err(|_| format!("'{j}' isn't a valid jitter duration")),
                };
                match &jitter {
                    Err(e) => reasons.push(e.clone()),
                    Ok(j) if !j.is_zero() && *j < MIN_CRON_JITTER => reasons.push(format!(
                        "cron jitter must be at least {}",
                        validate::go_duration(MIN_CRON_JITTER)
                    )),
                    Ok(j) if *j > MAX_CRON_JITTER => reasons.push(format!(
                        "cron jitter must be less than or equal to {}",
                        validate::go_duration(MAX_CRON_JITTER)
                    )),
                    Ok(_) => {}
                }
                match Schedule::parse(cron) {
                    Ok(schedule) => crons.push(CronTrigger {
                        spec: cron.clone(),
                        schedule,
                        jitter_ms: jitter.map_or(0, super::runs::millis),
                    }),
                    Err(_) => reasons.push(format!("'{cron}' isn't a valid cron schedule")),
                }
            }
        }
    }
    (events, crons)
}
