//! A run's trace, as the dev server's `RunTraceSpan` tree: the root span is the run; its
//! children are the steps in the order they first happened, each named by the user's step
//! id, with a child per attempt once a step was tried more than once. Output ids
//! (`<run id>:<history index>`, `<run id>:run`) read back with `runTraceSpanOutputByID`.

use std::time::SystemTime;

use async_graphql::{Enum, SimpleObject, Union};
use inngest_protocol::op::Opcode;
use serde_json::Value;

use super::types::{app_uuid, function_uuid, time, Time, Ulid, Uuid};
use crate::core::{RunRef, RunStatus, StepRecord};

/// A span's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub(crate) enum RunTraceSpanStatus {
    Failed,
    Queued,
    Running,
    Completed,
    Waiting,
    Cancelled,
    Skipped,
}

/// What a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub(crate) enum StepOp {
    Invoke,
    Run,
    Sleep,
    WaitForEvent,
    AiGateway,
    WaitForSignal,
}

/// A sleep's end.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct SleepStepInfo {
    pub sleep_until: Time,
}

/// A wait's event, expression and timeout.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct WaitForEventStepInfo {
    pub event_name: String,
    pub expression: Option<String>,
    pub timeout: Time,
    #[graphql(name = "foundEventID")]
    pub found_event_id: Option<Ulid>,
    pub timed_out: Option<bool>,
}

/// An invoke's target.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct InvokeStepInfo {
    #[graphql(name = "triggeringEventID")]
    pub triggering_event_id: Ulid,
    #[graphql(name = "functionID")]
    pub function_id: String,
    pub timeout: Time,
    #[graphql(name = "returnEventID")]
    pub return_event_id: Option<Ulid>,
    #[graphql(name = "runID")]
    pub run_id: Option<Ulid>,
    pub timed_out: Option<bool>,
}

/// A run step.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct RunStepInfo {
    #[graphql(name = "type")]
    pub kind: Option<String>,
}

/// What a step waited for.
#[derive(Debug, Clone, Union)]
pub(crate) enum StepInfo {
    Invoke(InvokeStepInfo),
    Sleep(SleepStepInfo),
    WaitForEvent(WaitForEventStepInfo),
    Run(RunStepInfo),
}

/// A span of a run's trace.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct RunTraceSpan {
    #[graphql(name = "appID")]
    pub app_id: Uuid,
    #[graphql(name = "functionID")]
    pub function_id: Uuid,
    #[graphql(name = "runID")]
    pub run_id: Ulid,
    #[graphql(name = "spanID")]
    pub span_id: String,
    #[graphql(name = "traceID")]
    pub trace_id: String,
    #[graphql(name = "groupID")]
    pub group_id: Option<String>,
    pub name: String,
    pub status: RunTraceSpanStatus,
    pub attempts: Option<i32>,
    pub duration: Option<i64>,
    #[graphql(name = "outputID")]
    pub output_id: Option<String>,
    pub queued_at: Time,
    pub scheduled_at: Option<Time>,
    pub started_at: Option<Time>,
    pub ended_at: Option<Time>,
    pub children_spans: Vec<RunTraceSpan>,
    pub step_op: Option<StepOp>,
    #[graphql(name = "stepID")]
    pub step_id: Option<String>,
    pub step_info: Option<StepInfo>,
    pub step_type: String,
    pub is_root: bool,
    #[graphql(name = "parentSpanID")]
    pub parent_span_id: Option<String>,
    pub is_userland: bool,
    pub debug_paused: bool,
    pub skip_reason: Option<String>,
}

/// The trace of a run.
pub(crate) fn trace(run: &RunRef<'_>) -> RunTraceSpan {
    let history = run.history();
    let root_id = format!("{}:run", run.id());
    // Steps in the order they first happened: (hashed id, indexes into history).
    let mut steps: Vec<(&str, Vec<usize>)> = Vec::new();
    for (index, record) in history.iter().enumerate() {
        match steps.iter_mut().find(|(id, _)| *id == record.id) {
            Some((_, indexes)) => indexes.push(index),
            None => steps.push((&record.id, vec![index])),
        }
    }
    let ended = run.status() != RunStatus::Running;
    let children: Vec<RunTraceSpan> = steps
        .iter()
        .map(|(_, indexes)| step_span(run, indexes, &root_id))
        .collect();
    let started = run.started_at();
    let ended_at = run.ended_at().filter(|_| ended);
    RunTraceSpan {
        name: "Run".to_owned(),
        status: match run.status() {
            RunStatus::Completed => RunTraceSpanStatus::Completed,
            RunStatus::Failed => RunTraceSpanStatus::Failed,
            RunStatus::Cancelled => RunTraceSpanStatus::Cancelled,
            _ => RunTraceSpanStatus::Running,
        },
        attempts: Some(0),
        duration: ended_at.map(|e| millis_between(started, e)),
        output_id: ended.then(|| root_id.clone()),
        queued_at: time(started),
        scheduled_at: Some(time(started)),
        started_at: Some(time(started)),
        ended_at: ended_at.map(time),
        children_spans: children,
        step_op: None,
        step_id: None,
        step_info: None,
        step_type: String::new(),
        is_root: true,
        parent_span_id: None,
        span_id: root_id,
        ..base(run)
    }
}

/// The fields every span of a run shares.
fn base(run: &RunRef<'_>) -> RunTraceSpan {
    RunTraceSpan {
        app_id: Uuid(app_uuid(run.app_id().unwrap_or_default())),
        function_id: Uuid(function_uuid(run.function_id())),
        run_id: Ulid(run.id().to_owned()),
        span_id: String::new(),
        trace_id: run.id().to_owned(),
        group_id: None,
        name: String::new(),
        status: RunTraceSpanStatus::Queued,
        attempts: None,
        duration: None,
        output_id: None,
        queued_at: time(run.started_at()),
        scheduled_at: None,
        started_at: None,
        ended_at: None,
        children_spans: Vec::new(),
        step_op: None,
        step_id: None,
        step_info: None,
        step_type: String::new(),
        is_root: false,
        parent_span_id: None,
        is_userland: false,
        debug_paused: false,
        skip_reason: None,
    }
}

fn step_op(op: Opcode) -> Option<StepOp> {
    Some(match op {
        Opcode::Sleep => StepOp::Sleep,
        Opcode::WaitForEvent => StepOp::WaitForEvent,
        Opcode::InvokeFunction => StepOp::Invoke,
        Opcode::StepRun
        | Opcode::StepError
        | Opcode::StepFailed
        | Opcode::StepPlanned
        | Opcode::Step => StepOp::Run,
        _ => return None,
    })
}

/// When the step at `index` was queued: when the record before it was reported (or the run
/// started).
fn queued_at(run: &RunRef<'_>, index: usize) -> SystemTime {
    index
        .checked_sub(1)
        .and_then(|i| run.history().get(i))
        .map_or(run.started_at(), |r| r.resumed_at.unwrap_or(r.at).max(r.at))
}

fn has_value(v: &Option<Value>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_null())
}

/// One attempt (or the whole of a step tried once).
fn attempt_span(run: &RunRef<'_>, index: usize, parent: &str) -> RunTraceSpan {
    let record = &run.history()[index];
    let running = run.status() == RunStatus::Running;
    let waits = matches!(
        record.op,
        Opcode::Sleep | Opcode::WaitForEvent | Opcode::InvokeFunction
    );
    let status = match record.op {
        Opcode::StepRun | Opcode::Step => RunTraceSpanStatus::Completed,
        Opcode::StepFailed => RunTraceSpanStatus::Failed,
        Opcode::StepError => RunTraceSpanStatus::Failed,
        Opcode::StepPlanned if running => RunTraceSpanStatus::Queued,
        _ if waits && record.resumed_at.is_some() => RunTraceSpanStatus::Completed,
        _ if waits && running => RunTraceSpanStatus::Waiting,
        _ if running => RunTraceSpanStatus::Running,
        _ => RunTraceSpanStatus::Cancelled,
    };
    let queued = queued_at(run, index);
    let (started, ended) = if waits {
        (record.at, record.resumed_at)
    } else if record.op == Opcode::StepPlanned {
        (record.at, None)
    } else {
        (queued, Some(record.at))
    };
    let span_id = format!("{}:{index}", run.id());
    RunTraceSpan {
        name: record.name.clone(),
        status,
        attempts: Some(record.attempt as i32),
        duration: ended.map(|e| millis_between(started, e)),
        output_id: (has_value(&record.output) || has_value(&record.error)).then(|| span_id.clone()),
        queued_at: time(queued),
        scheduled_at: Some(time(queued)),
        started_at: Some(time(started)),
        ended_at: ended.map(time),
        step_op: step_op(record.op),
        step_id: Some(record.id.clone()),
        step_info: step_info(record),
        step_type: step_op(record.op)
            .map(|op| format!("{op:?}").to_uppercase())
            .unwrap_or_default(),
        parent_span_id: Some(parent.to_owned()),
        span_id,
        ..base(run)
    }
}

/// A step: its last attempt's status and output, with a child per attempt when it was tried
/// more than once.
fn step_span(run: &RunRef<'_>, indexes: &[usize], root: &str) -> RunTraceSpan {
    // A planned step is shown by its attempts once it has any.
    let attempts: Vec<usize> = indexes
        .iter()
        .copied()
        .filter(|i| run.history()[*i].op != Opcode::StepPlanned)
        .collect();
    let attempts = if attempts.is_empty() {
        indexes.to_vec()
    } else {
        attempts
    };
    let last = *attempts.last().unwrap_or(&indexes[0]);
    let first = attempts[0];
    let mut span = attempt_span(run, last, root);
    let group = format!("{}:step:{}", run.id(), run.history()[first].id);
    if attempts.len() > 1 {
        let first_span = attempt_span(run, first, &group);
        span.queued_at = first_span.queued_at;
        span.started_at = first_span.started_at;
        if let (Some(s), Some(e)) = (run.history().get(first), run.history().get(last)) {
            let end = e.resumed_at.unwrap_or(e.at);
            span.duration = Some(millis_between(queued_at(run, first).min(s.at), end));
        }
        let last_record: &StepRecord = &run.history()[last];
        if last_record.op == Opcode::StepError && run.status() == RunStatus::Running {
            span.status = RunTraceSpanStatus::Running;
        }
        span.children_spans = attempts
            .iter()
            .enumerate()
            .map(|(n, i)| {
                let mut child = attempt_span(run, *i, &group);
                child.name = format!("Attempt {n}");
                child
            })
            .collect();
    } else if run.history()[last].op == Opcode::StepError && run.status() == RunStatus::Running {
        // Failed once and retrying: shown as its attempt.
        span.status = RunTraceSpanStatus::Running;
        let mut child = attempt_span(run, last, &group);
        child.name = "Attempt 0".to_owned();
        span.children_spans = vec![child];
    }
    span.group_id = Some(group.clone());
    span.span_id = group;
    span
}

fn step_info(record: &StepRecord) -> Option<StepInfo> {
    let opts = record.opts.as_ref();
    let text = |key: &str| {
        opts.and_then(|o| o.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match record.op {
        Opcode::Sleep => {
            let until = record.resumed_at.or_else(|| {
                let spec = text("duration")?;
                let d = inngest_protocol::timestr::parse(&spec).ok()?;
                Some(record.at + d)
            });
            until.map(|t| {
                StepInfo::Sleep(SleepStepInfo {
                    sleep_until: time(t),
                })
            })
        }
        Opcode::WaitForEvent => Some(StepInfo::WaitForEvent(WaitForEventStepInfo {
            event_name: text("event").unwrap_or_default(),
            expression: text("if"),
            timeout: time(
                text("timeout")
                    .and_then(|t| inngest_protocol::timestr::parse(&t).ok())
                    .map_or(record.at, |d| record.at + d),
            ),
            found_event_id: record
                .output
                .as_ref()
                .and_then(|o| o["id"].as_str())
                .map(|id| Ulid(id.to_owned())),
            timed_out: record
                .resumed_at
                .map(|_| record.output.as_ref().is_none_or(|o| o.is_null())),
        })),
        Opcode::InvokeFunction => Some(StepInfo::Invoke(InvokeStepInfo {
            triggering_event_id: Ulid(String::new()),
            function_id: text("function_id").unwrap_or_default(),
            timeout: time(record.at),
            return_event_id: None,
            run_id: None,
            timed_out: None,
        })),
        Opcode::StepRun | Opcode::StepError | Opcode::StepFailed => {
            Some(StepInfo::Run(RunStepInfo { kind: None }))
        }
        _ => None,
    }
}

fn millis_between(a: SystemTime, b: SystemTime) -> i64 {
    b.duration_since(a)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The output of a span, by its output id: `(data, error)`, each JSON.
pub(crate) fn output(run: &RunRef<'_>, output_id: &str) -> Option<(Option<Value>, Option<Value>)> {
    let (_, which) = output_id.rsplit_once(':')?;
    if which == "run" {
        let output = run.output()?.clone();
        return Some(match run.status() {
            RunStatus::Failed => (None, Some(output)),
            _ => (Some(output), None),
        });
    }
    let record = run.history().get(which.parse::<usize>().ok()?)?;
    if has_value(&record.error) {
        return Some((None, record.error.clone()));
    }
    Some((record.output.clone(), None))
}
