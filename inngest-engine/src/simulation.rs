//! [`Simulation`]: the core on virtual time. Calls are made one at a time through a
//! transport; when nothing is left to do but wait, time jumps to the next timer. A run that
//! sleeps for a day, retries with Inngest's backoff or waits for an event that never comes
//! ends in as long as its calls take.

use std::time::SystemTime;

use inngest_protocol::register::RegisterRequest;
use serde_json::Value;

use std::sync::Arc;

use crate::core::{Core, CoreConfig, EventError, Happening, Output, RegisterError, Synced};
use crate::shell::{Fetcher, HttpFetcher, Transport};

/// The core, driven on virtual time.
#[derive(Debug)]
pub struct Simulation {
    core: Core,
    now: SystemTime,
    happenings: Vec<Happening>,
    calls: usize,
    /// Makes the HTTP requests of `step.fetch` and `step.ai.infer`.
    fetcher: Arc<dyn Fetcher>,
}

/// Why a simulation stopped before it was idle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the simulation made {calls} calls and the runs had not ended")]
pub struct TooManyCalls {
    /// How many calls it made.
    pub calls: usize,
}

impl Simulation {
    /// A simulation whose virtual clock starts at `start`, with a fixed seed (runs replay
    /// exactly).
    pub fn new(config: CoreConfig, start: SystemTime) -> Simulation {
        Simulation {
            core: Core::new(config, 0x1_2345_6789),
            now: start,
            happenings: Vec::new(),
            calls: 0,
            fetcher: Arc::new(HttpFetcher::default()),
        }
    }

    /// Makes the HTTP requests of `step.fetch` and `step.ai.infer` with `fetcher` (over the
    /// network by default).
    pub fn with_fetcher(mut self, fetcher: Arc<dyn Fetcher>) -> Simulation {
        self.fetcher = fetcher;
        self
    }

    /// The virtual time now.
    pub fn now(&self) -> SystemTime {
        self.now
    }

    /// The core (to read runs, or to act on it directly).
    pub fn core(&mut self) -> &mut Core {
        &mut self.core
    }

    /// Syncs an app.
    pub fn register(&mut self, request: &RegisterRequest) -> Result<Synced, RegisterError> {
        self.core.register(request, self.now)
    }

    /// Receives events.
    pub fn send(&mut self, events: Vec<Value>) -> Result<Vec<String>, EventError> {
        self.core.send(events, self.now)
    }

    /// Everything that happened so far.
    pub fn happenings(&self) -> &[Happening] {
        &self.happenings
    }

    /// Runs until nothing is under way (cron schedules aside): makes each call the core asks
    /// for through `transport`, and moves the clock to the next timer whenever there is
    /// nothing else to do. Stops with an error after `max_calls` calls.
    pub async fn run_until_idle<T: Transport + ?Sized>(
        &mut self,
        transport: &T,
        max_calls: usize,
    ) -> Result<(), TooManyCalls> {
        loop {
            while let Some(output) = self.core.poll_output() {
                match output {
                    Output::Call(call) => {
                        self.calls += 1;
                        if self.calls > max_calls {
                            return Err(TooManyCalls { calls: self.calls });
                        }
                        let answer = transport.call(&call).await;
                        self.core.call_finished(call.id, answer, self.now);
                    }
                    Output::Fetch(fetch) => {
                        let result = self.fetcher.fetch(&fetch.request).await;
                        self.core.fetch_finished(fetch.id, result, self.now);
                    }
                    Output::Happening(h) => self.happenings.push(h),
                }
            }
            match self.core.next_work_deadline() {
                Some(at) => {
                    self.now = self.now.max(at);
                    self.core.tick(self.now);
                }
                None => return Ok(()),
            }
        }
    }
}
