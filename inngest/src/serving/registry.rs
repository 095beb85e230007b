//! The app's functions: collected once, sorted by id, failure and cancellation handlers paired
//! with their functions, duplicates refused; and their configs for the register payload.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::Error;
use crate::function::{Definition, Kind, Options, Registration, Trigger};
use crate::middleware::{FunctionInfo, Stack};
use inngest_protocol::call::DISCOVERY_STEP_ID;
use inngest_protocol::event::{FUNCTION_CANCELLED_EVENT, FUNCTION_FAILED_EVENT};
use inngest_protocol::register::{
    BatchEventsConfig, CancelConfig, ConcurrencyConfig, DebounceConfig, FunctionConfig,
    PriorityConfig, RateLimitConfig, SingletonConfig, StepConfig, StepRetries, StepRuntime,
    ThrottleConfig, TimeoutsConfig, TriggerConfig, FUNCTION_STEP_ID,
};

/// One served function.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// `"<app>-<fn>"`, or `"<app>-<fn>-failure"` for a failure handler.
    pub composite_id: String,
    /// Display name.
    pub name: String,
    /// Triggers, as registered.
    pub triggers: Vec<TriggerConfig>,
    /// What was declared and how to run it.
    pub registration: Registration,
    /// The app's middleware, then the function's own.
    pub middleware: Stack,
}

/// The served functions, sorted by composite id.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    entries: Vec<Entry>,
    by_id: HashMap<String, usize, BuildHasherDefault<IdHasher>>,
}

/// The hasher of the composite-id index: the step-id cache's word hash.
/// Every call request looks its function up, and SipHash costs several times as much on a
/// short id. Only the app's own ids are ever inserted, so a request's `fnId`, however chosen,
/// probes a table it cannot shape: no flooding to defend against.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = inngest_protocol::step_id::word_hash(self.0, bytes);
    }

    fn finish(&self) -> u64 {
        // A product's high bits are its well-mixed ones; the table indexes by the low ones.
        self.0.rotate_left(26)
    }
}

impl Registry {
    /// Every function of the binary, declared with the attribute macros.
    pub(crate) fn discovered() -> Vec<Registration> {
        inventory::iter::<Registration>
            .into_iter()
            .copied()
            .collect()
    }

    /// Builds the registry, refusing duplicate ids and orphaned or doubled failure handlers.
    /// Each function gets the app's middleware, then its own (built once, here).
    pub(crate) fn build(
        app_id: &str,
        registrations: &[Registration],
        middleware: &Stack,
    ) -> Result<Registry, Error> {
        let mut entries: Vec<Entry> = registrations.iter().map(|r| entry(app_id, *r)).collect();
        for e in &mut entries {
            let own = Stack::new(
                e.registration
                    .definition
                    .middleware
                    .iter()
                    .map(|factory| factory.make())
                    .collect(),
            );
            if !own.is_empty() {
                let function = FunctionInfo {
                    id: e.composite_id.clone(),
                    name: e.name.clone(),
                };
                own.on_register(app_id, Some(&function))?;
            }
            e.middleware = middleware.then_stack(&own);
        }
        entries.sort_by(|a, b| a.composite_id.cmp(&b.composite_id));
        let mut problems = Vec::new();
        for pair in entries.windows(2) {
            if pair[0].composite_id == pair[1].composite_id {
                let (a, b) = (
                    pair[0].registration.definition,
                    pair[1].registration.definition,
                );
                let what = match (&a.kind, &b.kind) {
                    (Kind::FailureHandler { .. }, Kind::FailureHandler { .. }) => {
                        "two failure handlers for one function"
                    }
                    (Kind::CancelHandler { .. }, Kind::CancelHandler { .. }) => {
                        "two cancellation handlers for one function"
                    }
                    _ => "two Inngest functions with one id",
                };
                problems.push(format!(
                    "{what}: `{}` is declared by `{}` at {} and by `{}` at {}",
                    pair[0].composite_id,
                    a.rust_name,
                    a.location(),
                    b.rust_name,
                    b.location()
                ));
            }
        }
        for e in &entries {
            if let Kind::FailureHandler { target } | Kind::CancelHandler { target } =
                e.registration.definition.kind
            {
                let registered = entries.iter().any(|o| o.registration.definition.is(target));
                if !registered {
                    problems.push(format!(
                        "the handler `{}` ({}) handles `{}`, which is not registered in this app",
                        e.registration.definition.rust_name,
                        e.registration.definition.location(),
                        target.rust_name
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(Error::msg(format!(
                "cannot serve the Inngest app `{app_id}`: {}",
                problems.join("; ")
            )));
        }
        let by_id = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.composite_id.clone(), i))
            .collect();
        Ok(Registry { entries, by_id })
    }

    /// The functions, sorted by id.
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The composite ids of the functions, sorted.
    pub(crate) fn composite_ids(&self) -> Vec<&str> {
        self.entries
            .iter()
            .map(|e| e.composite_id.as_str())
            .collect()
    }

    /// The function with this composite id.
    pub(crate) fn get(&self, composite_id: &str) -> Option<&Entry> {
        self.by_id.get(composite_id).map(|&i| &self.entries[i])
    }

    /// The function configs of a register payload, each with its step URL under `serve_url`.
    pub(crate) fn configs(&self, serve_url: &str) -> Vec<FunctionConfig> {
        self.entries
            .iter()
            .map(|e| {
                let mut url =
                    url::Url::parse(serve_url).expect("serve URLs are checked when built");
                url.query_pairs_mut()
                    .append_pair("fnId", &e.composite_id)
                    .append_pair("stepId", DISCOVERY_STEP_ID);
                let step = StepConfig {
                    id: FUNCTION_STEP_ID.to_owned(),
                    name: FUNCTION_STEP_ID.to_owned(),
                    runtime: StepRuntime {
                        kind: "http".to_owned(),
                        url: url.to_string(),
                    },
                    retries: e
                        .registration
                        .definition
                        .retries
                        .map(|attempts| StepRetries { attempts }),
                };
                function_config(
                    e.composite_id.clone(),
                    e.name.clone(),
                    e.registration.definition.description,
                    e.triggers.clone(),
                    [(FUNCTION_STEP_ID.to_owned(), step)].into_iter().collect(),
                    &e.registration.definition.options,
                )
            })
            .collect()
    }
}

/// A function config with its `options`, each omitted when unset (protocol.md section 1.2).
fn function_config(
    id: String,
    name: String,
    description: Option<&str>,
    triggers: Vec<TriggerConfig>,
    steps: BTreeMap<String, StepConfig>,
    options: &Options,
) -> FunctionConfig {
    let owned = |s: Option<&str>| s.map(str::to_owned);
    FunctionConfig {
        id,
        name,
        description: owned(description),
        triggers,
        steps,
        retries: None,
        concurrency: options
            .concurrency
            .iter()
            .map(|c| ConcurrencyConfig {
                limit: c.limit,
                key: owned(c.key),
                scope: c.scope.map(Into::into),
            })
            .collect(),
        throttle: options.throttle.map(|t| ThrottleConfig {
            limit: t.limit,
            period: t.period.to_owned(),
            burst: t.burst,
            key: owned(t.key),
        }),
        rate_limit: options.rate_limit.map(|r| RateLimitConfig {
            limit: r.limit,
            period: r.period.to_owned(),
            key: owned(r.key),
        }),
        debounce: options.debounce.map(|d| DebounceConfig {
            period: d.period.to_owned(),
            key: owned(d.key),
            timeout: owned(d.timeout),
        }),
        idempotency: owned(options.idempotency),
        batch_events: options.batch_events.map(|b| BatchEventsConfig {
            max_size: b.max_size,
            timeout: b.timeout.to_owned(),
            key: owned(b.key),
            if_expression: owned(b.if_expression),
        }),
        cancel: options
            .cancel_on
            .iter()
            .map(|c| CancelConfig {
                event: c.event.to_owned(),
                if_expression: owned(c.if_expression),
                timeout: owned(c.timeout),
            })
            .collect(),
        priority: options.priority.map(|p| PriorityConfig {
            run: Some(p.run.to_owned()),
        }),
        timeouts: options.timeouts.map(|t| TimeoutsConfig {
            start: owned(t.start),
            finish: owned(t.finish),
        }),
        singleton: options.singleton.map(|s| SingletonConfig {
            key: owned(s.key),
            mode: s.mode.into(),
        }),
        checkpoint: None,
    }
}

fn entry(app_id: &str, registration: Registration) -> Entry {
    let def = registration.definition;
    match def.kind {
        Kind::Function => Entry {
            composite_id: format!("{app_id}-{}", def.id),
            name: def.name.unwrap_or(def.id).to_owned(),
            triggers: def.triggers.iter().map(trigger).collect(),
            registration,
            middleware: Stack::default(),
        },
        Kind::FailureHandler { target } => companion(
            app_id,
            target,
            "failure",
            FUNCTION_FAILED_EVENT,
            registration,
        ),
        Kind::CancelHandler { target } => companion(
            app_id,
            target,
            "cancel",
            FUNCTION_CANCELLED_EVENT,
            registration,
        ),
    }
}

/// A handler registered beside its function: `<app>-<fn>-<suffix>`, named `"<name> (<suffix>)"`,
/// triggered by `event` for that function only.
fn companion(
    app_id: &str,
    target: &Definition,
    suffix: &str,
    event: &str,
    registration: Registration,
) -> Entry {
    let target_id = format!("{app_id}-{}", target.id);
    Entry {
        composite_id: format!("{target_id}-{suffix}"),
        name: format!("{} ({suffix})", target.name.unwrap_or(target.id)),
        triggers: vec![TriggerConfig {
            event: Some(event.to_owned()),
            expression: Some(format!("event.data.function_id == '{target_id}'")),
            cron: None,
            jitter: None,
        }],
        registration,
        middleware: Stack::default(),
    }
}

fn trigger(t: &Trigger) -> TriggerConfig {
    match t {
        Trigger::Event { name, expression } => TriggerConfig {
            event: Some((*name).to_owned()),
            expression: expression.map(str::to_owned),
            cron: None,
            jitter: None,
        },
        Trigger::Cron { schedule, jitter } => TriggerConfig {
            event: None,
            expression: None,
            cron: Some((*schedule).to_owned()),
            jitter: jitter.map(str::to_owned),
        },
    }
}

/// The app id: the one given in code, else `INNGEST_APP_ID`, else the package name the macros
/// captured when all functions agree on it.
pub(crate) fn resolve_app_id(
    explicit: Option<&str>,
    registrations: &[Registration],
) -> Result<String, Error> {
    if let Some(id) = explicit {
        return check_app_id(id, "App::new");
    }
    if let Some(id) = crate::config::var("INNGEST_APP_ID") {
        return check_app_id(&id, "INNGEST_APP_ID");
    }
    let mut packages: Vec<&str> = registrations.iter().map(|r| r.definition.package).collect();
    packages.sort_unstable();
    packages.dedup();
    match packages.as_slice() {
        [one] => check_app_id(one, "the package name"),
        [] => Err(Error::msg(
            "no Inngest app id: no functions are registered to take one from; set INNGEST_APP_ID or use inngest::App::new(\"my-app\")",
        )),
        many => Err(Error::msg(format!(
            "no Inngest app id: the functions come from several packages ({}); set INNGEST_APP_ID or use inngest::App::new(\"my-app\")",
            many.join(", ")
        ))),
    }
}

fn check_app_id(id: &str, source: &str) -> Result<String, Error> {
    let id = id.trim();
    if id.is_empty() {
        return Err(Error::msg(format!("the app id from {source} is empty")));
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    #[test]
    fn the_id_index_finds_every_id_and_no_other() {
        // Ids that differ only in their last bytes, of lengths around a word's multiples.
        let ids: Vec<String> = (0..2000)
            .map(|i| format!("{}-{i:04}", "app-fn".repeat(1 + i % 3)))
            .collect();
        let index: HashMap<String, usize, BuildHasherDefault<IdHasher>> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.get(id.as_str()), Some(&i), "{id}");
        }
        for other in ["", "app-fn", "app-fn-0000 ", "app-fn-20000", "app-fn-000"] {
            assert_eq!(index.get(other), None, "{other}");
        }
        // The hash spreads such ids over the table: no two of the first hundred share a
        // hash, and the low bits the table indexes by take many values.
        let hash = |id: &str| {
            let mut h = IdHasher::default();
            id.hash(&mut h);
            h.finish()
        };
        let hashes: std::collections::HashSet<u64> = ids[..100].iter().map(|id| hash(id)).collect();
        assert_eq!(hashes.len(), 100);
        let low: std::collections::HashSet<u64> = hashes.iter().map(|h| h & 0xff).collect();
        assert!(low.len() > 50, "{} low-bit values of 100", low.len());
    }
}
