//! `tracing`: each call is a span `inngest.call` and each step that runs a child span
//! `inngest.step`; and `inngest::logs::QuietReplay` keeps logs quiet on replay, for any event
//! (the function's own and a library's): a ten-step function logs 10 lines, not 55.

use std::sync::{Arc, Mutex};

use inngest::testing::{RunStatus, TestEngine};

use crate::support::{hash, CallBody};
use crate::{app, call};
use inngest::{Context, Error, Event};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::{Event as TracingEvent, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// Every event: its message and the spans it is in (names and their recorded fields).
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Line>>>);

/// An event's fields, and the spans it is in.
type Line = (String, Vec<String>);

#[derive(Default)]
struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(&format!("{}={value:?}", field.name()));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: LayerContext<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: LayerContext<'_, S>) {
        let mut message = Fields::default();
        event.record(&mut message);
        let spans = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .from_root()
                    .map(|span| {
                        let fields = span
                            .extensions()
                            .get::<Fields>()
                            .map(|f| f.0.clone())
                            .unwrap_or_default();
                        format!("{}{{{fields}}}", span.name())
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.0.lock().unwrap().push((message.0, spans));
    }
}

impl Capture {
    /// The messages of the events whose target is this test's (not the SDK's or engine's).
    fn lines(&self) -> Vec<Line> {
        self.0.lock().unwrap().clone()
    }
}

/// A library that logs (stands for any crate the function calls).
mod library {
    pub fn fetch(i: u32) -> u32 {
        tracing::debug!(target: "some_library", "library fetched {i}");
        i
    }
}

#[inngest::function(id = "ten-steps", event = "t/ten-steps")]
async fn ten_steps(ctx: Context) -> Result<u32, Error> {
    let mut sum = 0;
    for i in 0..10 {
        let n: u32 = ctx
            .step
            .run(&format!("step-{i}"), || async move { Ok(i) })
            .await?;
        // Outside any step: replayed in every later call.
        sum += library::fetch(n);
        tracing::info!(step = i, "step done");
    }
    Ok(sum)
}

/// Runs the ten-step function to its end, call after call as Inngest does with immediate
/// execution (call `k` replays `k` memoized steps, then runs step `k`), with a subscriber of
/// `capture` (plus `QuietReplay` when `quiet`); returns the lines of the function and the
/// library.
async fn run_ten_steps(quiet: bool) -> Vec<String> {
    let capture = Capture::default();
    let registry = tracing_subscriber::registry().with(capture.clone());
    let _guard = if quiet {
        tracing::subscriber::set_default(registry.with(inngest::logs::QuietReplay))
    } else {
        tracing::subscriber::set_default(registry)
    };
    let mut service = app("logs").register::<ten_steps>().into_service().unwrap();
    let mut body = CallBody::new("t/ten-steps", json!({}));
    for k in 0..=10 {
        let answer = call(&mut service, "logs-ten-steps", "step", &body.build()).await;
        if k < 10 {
            assert_eq!(answer.body[0]["data"], k, "call {k}: {answer:?}");
            body = body.memo(&format!("step-{k}"), json!({"data": k}));
        } else {
            assert_eq!((answer.status, &answer.body), (200, &json!(45)));
        }
    }
    capture
        .lines()
        .into_iter()
        .map(|(message, _)| message)
        .filter(|m| m.contains("step done") || m.contains("library fetched"))
        .collect()
}

#[tokio::test]
async fn a_ten_step_function_logs_each_line_once_with_quiet_replay() {
    // Without the layer: call k replays k steps and their lines, 55 of each.
    let loud = run_ten_steps(false).await;
    assert_eq!(loud.iter().filter(|m| m.contains("step done")).count(), 55);
    assert_eq!(loud.iter().filter(|m| m.contains("library")).count(), 55);

    // With it: each line once, in order, whoever logs it.
    let quiet = run_ten_steps(true).await;
    assert_eq!(quiet.len(), 20, "{quiet:?}");
    for (i, pair) in quiet.chunks(2).enumerate() {
        assert!(
            pair[0].contains(&format!("library fetched {i}")),
            "{quiet:?}"
        );
        assert!(
            pair[1].contains("step done") && pair[1].contains(&format!("step={i}")),
            "{quiet:?}"
        );
    }
}

#[inngest::function(id = "spanned", event = "t/spanned")]
async fn spanned(ctx: Context) -> Result<(), Error> {
    tracing::info!("in the function");
    ctx.step
        .run("inner", || async {
            tracing::info!("in the step");
            Ok(())
        })
        .await
}

#[tokio::test]
async fn calls_and_steps_are_spans_around_the_functions_lines() {
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let outcome = TestEngine::new::<spanned>()
        .run(Event::new("t/spanned", json!({})))
        .await;
    assert_eq!(outcome.status, RunStatus::Completed, "{outcome:?}");
    let lines = capture.lines();
    let find = |message: &str| {
        lines
            .iter()
            .find(|(m, _)| m.contains(message))
            .unwrap_or_else(|| panic!("`{message}` in {lines:?}"))
            .1
            .clone()
    };
    let in_function = find("in the function");
    assert_eq!(in_function.len(), 1, "{in_function:?}");
    assert!(
        in_function[0].starts_with("inngest.call{function=test-spanned run_id="),
        "{in_function:?}"
    );
    assert!(
        in_function[0].ends_with(" attempt=0 step_id=step}"),
        "{in_function:?}"
    );
    let in_step = find("in the step");
    assert_eq!(in_step.len(), 2, "{in_step:?}");
    // The test engine runs the step in a call for it alone.
    assert!(
        in_step[0].starts_with("inngest.call{function=test-spanned run_id=")
            && in_step[0].ends_with(&format!(" attempt=0 step_id={}}}", hash("inner"))),
        "the step's span is a child of its call's: {in_step:?}"
    );
    assert_eq!(in_step[1], "inngest.step{id=inner kind=run attempt=0}");
}
