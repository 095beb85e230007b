//! The benchmark's scenario, shared by the Rust bench server, the criterion benches
//! (`benches/replay.rs` in the root package) and the driver (`bench-run`): the bench function
//! and the call request every server gets.
//!
//! The bench function, `steps`, runs `event.data.n` steps `step-0`, `step-1`, ... in turn with
//! `step.run`; step `k` returns `k`. The call request memoizes every one of them, so the
//! function replays them all and completes with `{"n": n, "sum": n(n-1)/2}` (200). The JS and
//! Python peers (`tests/peers/js/bench-server.mjs`, `tests/peers/py/bench_server.py`) serve
//! the same function under the same ids, so every server gets byte-identical requests.

pub mod fillers;

use inngest::{Context, Error};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

/// The app id of every bench server.
pub const APP_ID: &str = "bench";
/// The id (within the app) of the bench function.
pub const FUNCTION_ID: &str = "steps";
/// The event that triggers the bench function.
pub const EVENT: &str = "bench/steps";
/// How many functions every bench server registers: the bench function and 99 others.
pub const FUNCTIONS: usize = 100;
/// The path and query of the call request: a discovery call of `bench-steps`.
pub const CALL_PATH: &str = "/api/inngest?fnId=bench-steps&stepId=step";
/// The path every bench server answers GET on (200).
pub const SERVE_PATH: &str = "/api/inngest";

/// The event data of the bench function.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Steps {
    /// How many steps to run.
    pub n: u64,
}

/// The bench function: `n` memoized steps, then a small object.
#[inngest::function(id = "steps", event = "bench/steps")]
pub async fn steps(ctx: Context<Steps>) -> Result<Value, Error> {
    let n = ctx.event.data.n;
    let mut sum = 0_u64;
    for k in 0..n {
        let value: u64 = ctx
            .step
            .run(&format!("step-{k}"), || async move { Ok(k) })
            .await?;
        sum += value;
    }
    Ok(json!({ "n": n, "sum": sum }))
}

/// The id of step `k`.
pub fn step_id(k: u64) -> String {
    format!("step-{k}")
}

/// The hashed id of a step (lowercase hex SHA-1 of its id, protocol.md section 4).
pub fn hash(id: &str) -> String {
    Sha1::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The call request (protocol.md section 2) of a run of the bench function with `n` steps,
/// every one of them memoized (in the order they ran, as the server sends them).
pub fn call_body(n: u64) -> Value {
    let event = json!({
        "id": "01JBENCH0000000000000000000",
        "name": EVENT,
        "data": { "n": n },
        "user": {},
        "ts": 1_712_345_678_901_u64,
    });
    let mut steps = serde_json::Map::new();
    let mut stack = Vec::new();
    for k in 0..n {
        let hashed = hash(&step_id(k));
        steps.insert(hashed.clone(), json!({ "data": k }));
        stack.push(hashed);
    }
    json!({
        "event": event,
        "events": [event],
        "steps": steps,
        "version": 2,
        "use_api": false,
        "ctx": {
            "fn_id": "00000000-0000-0000-0000-000000000000",
            "run_id": "01JBENCHRUN0000000000000000",
            "env": "",
            "step_id": "step",
            "attempt": 0,
            "max_attempts": 4,
            "stack": { "stack": stack, "current": n },
            "disable_immediate_execution": false,
            "use_api": false,
        },
    })
}

/// The call request of [`call_body`] as bytes.
pub fn call_bytes(n: u64) -> Vec<u8> {
    serde_json::to_vec(&call_body(n)).expect("a JSON value serializes")
}

/// What the bench function returns for a run with `n` steps.
pub fn expected(n: u64) -> Value {
    json!({ "n": n, "sum": n * n.saturating_sub(1) / 2 })
}

/// The fixed answer of the bare hyper server: the Rust SDK's answer to the 10-step call
/// request, byte for byte.
pub const FIXED_ANSWER: &[u8] = br#"{"n":10,"sum":45}"#;

/// The middleware a bench server or bench runs with (`cargo bench --bench replay`,
/// `bench-calls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// None: the plain path.
    None,
    /// One middleware that implements no hook (every hook's default runs).
    Noop,
    /// The encryption middleware; the memoized step outputs are encrypted, and so is the
    /// answer.
    Encryption,
}

impl Variant {
    /// Every variant, in the order they are reported.
    pub const ALL: [Variant; 3] = [Variant::None, Variant::Noop, Variant::Encryption];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Variant::None => "none",
            Variant::Noop => "noop",
            Variant::Encryption => "encryption",
        }
    }

    /// The variant named `name`.
    pub fn parse(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// A middleware with no hooks.
#[derive(Debug, Default)]
pub struct Noop;

impl inngest::middleware::Middleware for Noop {}

/// The key of the encryption variant.
pub const ENCRYPTION_KEY: &str = "bench-key";

fn encryption() -> inngest::encryption::Encryption {
    inngest::encryption::Encryption::new(ENCRYPTION_KEY).expect("a key")
}

/// The bench app (the bench function alone) with `variant`'s middleware, as a service.
pub fn service(variant: Variant) -> inngest::InngestService {
    // Checkpointing off, as in `bench-sdk-server`: the classic answer to the replay call.
    let app = inngest::App::new(APP_ID)
        .dev("http://127.0.0.1:9")
        .checkpointing(inngest::Checkpointing::OFF)
        .register::<steps>();
    let app = match variant {
        Variant::None => app,
        Variant::Noop => app.middleware(Noop),
        Variant::Encryption => app.middleware(encryption()),
    };
    app.into_service().expect("the bench app builds")
}

/// The call request of [`call_body`] for `variant`: with the encryption middleware, every
/// memoized output is an envelope.
pub fn call_bytes_for(n: u64, variant: Variant) -> Vec<u8> {
    let mut body = call_body(n);
    if variant == Variant::Encryption {
        let enc = encryption();
        if let Some(steps) = body["steps"].as_object_mut() {
            for memo in steps.values_mut() {
                memo["data"] = enc.encrypt(&memo["data"]);
            }
        }
    }
    serde_json::to_vec(&body).expect("a JSON value serializes")
}

/// What the bench function answers for `variant` with `n` steps, read back (decrypted for
/// the encryption variant).
pub fn read_answer(answer: &[u8], variant: Variant) -> Value {
    let value: Value = serde_json::from_slice(answer).expect("JSON");
    match variant {
        Variant::Encryption => encryption()
            .decrypt(&value, "the answer")
            .expect("decrypts")
            .expect("an envelope"),
        _ => value,
    }
}

/// The first line a child process writes on its stdout (a server's `LISTENING <port>`),
/// read on a thread that then keeps draining the pipe, so that the child never blocks on it.
pub fn first_stdout_line(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut lines = std::io::BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {}
        });
    }
    rx
}
