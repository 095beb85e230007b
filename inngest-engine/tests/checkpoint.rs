//! Async checkpoints on the core directly (sans I/O): the test plays the SDK, answering each
//! call and posting checkpoints while a call is out (protocol-2.md section 1.3).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use inngest_engine::core::{Core, CoreConfig, Output};
use inngest_engine::{Call, CallResponse, CheckpointError, RunStatus, Simulation};
use inngest_protocol::call::CallRequest;
use inngest_protocol::checkpoint::AsyncCheckpoint;
use inngest_protocol::op::{Op, Opcode};
use inngest_protocol::register::RegisterRequest;
use inngest_protocol::step_id::hash;
use serde_json::{json, Value};

/// The app `app` with the function `app-f` (`f/go`), 3 attempts.
fn app() -> RegisterRequest {
    serde_json::from_value(json!({"appName": "app", "url": "http://app/api",
        "functions": [{"id": "app-f", "name": "f", "triggers": [{"event": "f/go"}],
            "steps": {"step": {"id": "step", "name": "step", "retries": {"attempts": 2},
            "runtime": {"type": "http", "url": "http://app/api?fnId=app-f&stepId=step"}}}}]}))
    .unwrap()
}

struct Harness {
    core: Core,
    now: SystemTime,
    calls: Vec<Call>,
}

impl Harness {
    /// A core with the function `app-f` (`f/go`), 3 attempts.
    fn new() -> Harness {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut core = Core::new(CoreConfig::default().with_jitter(false), 7);
        core.register(&app(), now).unwrap();
        Harness {
            core,
            now,
            calls: Vec::new(),
        }
    }

    fn pump(&mut self) {
        while let Some(output) = self.core.poll_output() {
            if let Output::Call(call) = output {
                self.calls.push(call);
            }
        }
    }

    fn start(&mut self) -> String {
        let ids = self
            .core
            .send(vec![json!({"name": "f/go", "data": {}})], self.now)
            .unwrap();
        self.pump();
        self.core.runs_for_event(&ids[0])[0].run_id.clone()
    }

    /// The request of the call out now.
    fn request(&self) -> CallRequest {
        serde_json::from_slice(&self.calls[0].body).unwrap()
    }

    fn checkpoint(&mut self, run_id: &str, steps: Vec<Op>) -> Result<(), CheckpointError> {
        let call = self.calls[0].clone();
        self.checkpoint_from(&call, None, None, run_id, steps)
    }

    /// A checkpoint from `call`, with its generation (`x-inngest-generation-id`) and the
    /// time it began (`request_started_at`) as an SDK sends them.
    fn checkpoint_from(
        &mut self,
        call: &Call,
        generation: Option<i64>,
        started: Option<SystemTime>,
        run_id: &str,
        steps: Vec<Op>,
    ) -> Result<(), CheckpointError> {
        let ctx = serde_json::from_slice::<CallRequest>(&call.body)
            .unwrap()
            .ctx;
        let body = AsyncCheckpoint {
            run_id: run_id.to_owned(),
            fn_id: ctx.fn_id.unwrap(),
            qi_id: ctx.qi_id.unwrap(),
            request_id: None,
            generation_id: generation,
            request_started_at: started.map(millis),
            steps,
            ts: 0,
        };
        let saved = self.core.checkpoint(&body, self.now);
        self.pump();
        saved
    }

    fn answer(&mut self, status: u16, body: Value) {
        let call = self.calls.remove(0);
        let mut headers = BTreeMap::new();
        headers.insert("x-inngest-sdk".to_owned(), "fake:v1".to_owned());
        let res = CallResponse {
            status,
            headers,
            body: Bytes::from(serde_json::to_vec(&body).unwrap()),
        };
        self.core.call_finished(call.id, Ok(res), self.now);
        self.pump();
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.core.tick(self.now);
        self.pump();
    }
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn step_run(id: &str, data: Value) -> Op {
    let mut op = Op::new(Opcode::StepRun, hash(id));
    op.name = id.to_owned();
    op.data = Some(data);
    op
}

#[test]
fn calls_carry_the_function_and_queue_item_to_checkpoint_under() {
    let mut h = Harness::new();
    h.start();
    let ctx = h.request().ctx;
    assert_eq!(ctx.fn_id.as_deref(), Some("app-f"));
    assert!(ctx.qi_id.is_some_and(|q| !q.is_empty()));
}

#[test]
fn checkpointed_steps_are_memoized_and_the_run_ends_with_run_complete_in_one_call() {
    let mut h = Harness::new();
    let run = h.start();
    h.checkpoint(&run, vec![step_run("a", json!(1))]).unwrap();
    h.checkpoint(&run, vec![step_run("b", json!(2)), step_run("a", json!(9))])
        .unwrap();
    h.answer(
        206,
        json!([{"op": "RunComplete", "id": hash("complete"), "data": 3}]),
    );
    let view = h.core.run(&run).unwrap();
    assert_eq!(
        (view.status, view.output),
        (RunStatus::Completed, Some(json!(3)))
    );
    assert_eq!(h.core.run_calls(&run), Some(1));
    let history = h.core.run_history(&run).unwrap();
    assert!(
        history.iter().all(|s| s.op != Opcode::RunComplete),
        "{history:?}"
    );
    let saved: Vec<(String, Option<Value>)> = h
        .core
        .run_history(&run)
        .unwrap()
        .into_iter()
        .filter(|s| s.op == Opcode::StepRun)
        .map(|s| (s.name, s.output))
        .collect();
    // A step saved before stays as it was.
    assert_eq!(
        saved,
        vec![
            ("a".to_owned(), Some(json!(1))),
            ("b".to_owned(), Some(json!(2)))
        ]
    );
}

#[test]
fn a_later_call_replays_what_was_checkpointed() {
    let mut h = Harness::new();
    let run = h.start();
    h.checkpoint(&run, vec![step_run("a", json!("one"))])
        .unwrap();
    h.answer(
        206,
        json!([{"op": "Sleep", "id": hash("nap"), "name": "1s", "opts": {"duration": "1s"}}]),
    );
    h.advance(Duration::from_secs(2));
    let request = h.request();
    assert_eq!(request.steps[&hash("a")], json!({"data": "one"}));
    assert_eq!(request.ctx.stack.unwrap().stack[0], hash("a"));
}

#[test]
fn async_ops_and_ops_the_server_does_not_checkpoint_are_refused() {
    let mut h = Harness::new();
    let run = h.start();
    let sleep = Op::new(Opcode::Sleep, hash("nap"));
    assert_eq!(
        h.checkpoint(&run, vec![step_run("a", json!(1)), sleep]),
        Err(CheckpointError {
            status: 400,
            message: "cannot checkpoint async steps".to_owned()
        })
    );
    let complete = Op::new(Opcode::RunComplete, hash("complete"));
    assert_eq!(
        h.checkpoint(&run, vec![complete]),
        Err(CheckpointError {
            status: 400,
            message: "cannot checkpoint opcode: RunComplete".to_owned()
        })
    );
    // Nothing was saved by a refused checkpoint.
    assert!(h.request().steps.is_empty());
    assert!(h.core.run_history(&run).unwrap().is_empty());
}

#[test]
fn an_unknown_run_or_another_function_is_not_found() {
    let mut h = Harness::new();
    let run = h.start();
    let not_found = Err(CheckpointError {
        status: 400,
        message: "run not found in state store".to_owned(),
    });
    assert_eq!(h.checkpoint("01NOPE", vec![]), not_found);
    let mut body = AsyncCheckpoint {
        run_id: run.clone(),
        fn_id: "app-other".to_owned(),
        qi_id: String::new(),
        request_id: None,
        generation_id: None,
        request_started_at: None,
        steps: vec![],
        ts: 0,
    };
    assert_eq!(h.core.checkpoint(&body, h.now), not_found);
    body.fn_id = "app-f".to_owned();
    assert_eq!(h.core.checkpoint(&body, h.now), Ok(()));
}

#[test]
fn an_output_over_4_mib_is_413() {
    let mut h = Harness::new();
    let run = h.start();
    let big = "x".repeat(4 * 1024 * 1024 + 1);
    assert_eq!(
        h.checkpoint(&run, vec![step_run("big", json!(big))]),
        Err(CheckpointError {
            status: 413,
            message: format!(
                "step {} output too large: step output size is greater than the limit",
                hash("big")
            )
        })
    );
}

#[test]
fn a_checkpoint_resets_the_attempts_of_the_call() {
    let mut h = Harness::new();
    let run = h.start();
    // The first attempt fails; the retry is attempt 1.
    h.answer(500, json!({"name": "Error", "message": "down"}));
    h.advance(Duration::from_secs(3600));
    assert_eq!(h.request().ctx.attempt, 1);
    // It checkpoints a step, then fails: its count started over, so the next is attempt 1
    // again, not 2 (which would be the last of 3).
    h.checkpoint(&run, vec![step_run("a", json!(1))]).unwrap();
    h.answer(500, json!({"name": "Error", "message": "down again"}));
    h.advance(Duration::from_secs(3600));
    assert_eq!(h.request().ctx.attempt, 1);
    assert_eq!(h.core.run(&run).unwrap().status, RunStatus::Running);
}

fn qi_id(call: &Call) -> String {
    serde_json::from_slice::<CallRequest>(&call.body)
        .unwrap()
        .ctx
        .qi_id
        .unwrap()
}

fn stale(message: &str) -> Result<(), CheckpointError> {
    Err(CheckpointError {
        status: 409,
        message: format!("stale dispatch: {message}"),
    })
}

#[test]
fn a_queue_item_keeps_its_id_across_attempts_and_each_dispatch_is_a_new_generation() {
    let mut h = Harness::new();
    h.start();
    let first = h.calls[0].clone();
    assert_eq!((first.attempt, first.generation), (0, 1));
    h.answer(500, json!({"name": "Error", "message": "down"}));
    h.advance(Duration::from_secs(3600));
    let retry = h.calls[0].clone();
    assert_eq!((retry.attempt, retry.generation), (1, 2));
    assert_eq!(qi_id(&retry), qi_id(&first));
    // The step it reports is the next queue item: another id, its first generation.
    h.answer(206, json!([{"op": "StepRun", "id": hash("a"), "data": 1}]));
    let next = h.calls[0].clone();
    assert_eq!((next.attempt, next.generation), (0, 1));
    assert_ne!(qi_id(&next), qi_id(&first));
}

#[test]
fn a_checkpoint_from_a_superseded_call_10_s_late_is_409_and_saves_nothing() {
    let mut h = Harness::new();
    let run = h.start();
    let first = h.calls[0].clone();
    let started = h.now;
    h.answer(500, json!({"name": "Error", "message": "timed out"}));
    // The retry waits for its backoff: the item is at generation 2.
    h.advance(Duration::from_secs(10));
    assert!(h.calls.is_empty());
    let a = || vec![step_run("a", json!(1))];
    assert_eq!(
        h.checkpoint_from(&first, Some(1), Some(started), &run, a()),
        stale("dispatch generation 1 does not match queue item generation 2")
    );
    // The retry is out: still generation 2.
    h.advance(Duration::from_secs(3600));
    assert_eq!(h.calls[0].generation, 2);
    assert_eq!(
        h.checkpoint_from(&first, Some(1), Some(started), &run, a()),
        stale("dispatch generation 1 does not match queue item generation 2")
    );
    assert!(h.core.run_history(&run).unwrap().is_empty());
    // Nor were the attempts reset: after this failure comes the last attempt, 2.
    h.answer(500, json!({"name": "Error", "message": "down"}));
    h.advance(Duration::from_secs(3600));
    let last = h.calls[0].clone();
    assert_eq!((last.attempt, last.generation), (2, 3));
    // The call out checkpoints at its own generation, however late.
    h.checkpoint_from(&last, Some(3), Some(started), &run, a())
        .unwrap();
    assert_eq!(h.core.run_history(&run).unwrap().len(), 1);
}

#[test]
fn a_checkpoint_from_a_call_answered_since_10_s_late_is_409() {
    let mut h = Harness::new();
    let run = h.start();
    let first = h.calls[0].clone();
    let started = h.now;
    h.answer(206, json!([{"op": "StepRun", "id": hash("a"), "data": 1}]));
    h.advance(Duration::from_secs(10));
    assert_eq!(
        h.checkpoint_from(
            &first,
            Some(1),
            Some(started),
            &run,
            vec![step_run("b", json!(2))]
        ),
        stale("queue item not found")
    );
    let saved: Vec<String> = h
        .core
        .run_history(&run)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(saved, vec![hash("a")], "b was not saved");
}

#[test]
fn within_10_s_or_without_a_generation_a_checkpoint_is_taken_on_trust() {
    let mut h = Harness::new();
    let run = h.start();
    let first = h.calls[0].clone();
    let started = h.now;
    h.answer(500, json!({"name": "Error", "message": "down"}));
    // 9.999 s after the call began: not checked (the server's skip rule).
    h.advance(Duration::from_millis(9_999));
    h.checkpoint_from(
        &first,
        Some(1),
        Some(started),
        &run,
        vec![step_run("a", json!(1))],
    )
    .unwrap();
    h.advance(Duration::from_secs(60));
    // Generation 0 or none: not checked either, however late.
    for generation in [Some(0), None] {
        h.checkpoint_from(&first, generation, Some(started), &run, vec![])
            .unwrap();
    }
    // No start time: checked; a start in the future (clock skew): checked too.
    assert_eq!(
        h.checkpoint_from(&first, Some(1), None, &run, vec![]),
        stale("dispatch generation 1 does not match queue item generation 2")
    );
    let future = h.now + Duration::from_secs(5);
    assert_eq!(
        h.checkpoint_from(&first, Some(1), Some(future), &run, vec![]),
        stale("dispatch generation 1 does not match queue item generation 2")
    );
    assert_eq!(h.core.run_history(&run).unwrap().len(), 1);
}

#[test]
fn a_call_lost_in_a_restart_is_made_again_at_the_next_generation() {
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut sim = Simulation::persistent(CoreConfig::default(), start);
    sim.register(&app()).unwrap();
    sim.send(vec![json!({"name": "f/go", "data": {}})]).unwrap();
    let lost = sim.take_calls().remove(0);
    assert_eq!(sim.restart(), Ok(1));
    let again = sim.take_calls().remove(0);
    assert_eq!((again.attempt, again.generation), (0, 2));
    assert_eq!(qi_id(&again), qi_id(&lost));
    // The SDK that ran the lost call is told it is stale.
    sim.advance(Duration::from_secs(10));
    let body = AsyncCheckpoint {
        run_id: lost.run_id.clone(),
        fn_id: "app-f".to_owned(),
        qi_id: qi_id(&lost),
        request_id: None,
        generation_id: Some(1),
        request_started_at: Some(millis(start)),
        steps: vec![step_run("a", json!(1))],
        ts: 0,
    };
    let now = sim.now();
    assert_eq!(
        sim.core().checkpoint(&body, now),
        stale("dispatch generation 1 does not match queue item generation 2")
    );
}
