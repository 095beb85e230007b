//! [`Simulation`]: the core on virtual time. Calls are made one at a time through a
//! transport; when nothing is left to do but wait, time jumps to the next timer. A run that
//! sleeps for a day, retries with Inngest's backoff or waits for an event that never comes
//! ends in as long as its calls take.

use std::time::{Duration, SystemTime};

use inngest_protocol::register::RegisterRequest;
use serde_json::Value;

use std::sync::Arc;

use crate::core::{
    Call, CallId, CallResponse, Core, CoreConfig, EventError, Fetch, Happening, Output,
    RegisterError, Synced, TransportError,
};
use crate::core::{RestoreError, Snapshot};
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
    /// Requests the core asked for while calls were taken ([`Simulation::take_calls`]),
    /// made at the next run.
    fetches: Vec<Fetch>,
    /// With [`Simulation::persistent`]: its settings, and what a store holds.
    stored: Option<(CoreConfig, Snapshot)>,
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
            fetches: Vec::new(),
            stored: None,
        }
    }

    /// A simulation whose core keeps its changes as a store would
    /// ([`Core::take_changes`]), to be restarted from them ([`Simulation::restart`]).
    pub fn persistent(config: CoreConfig, start: SystemTime) -> Simulation {
        let restored = Core::restore(config.clone(), Snapshot::default(), 0x1_2345_6789, start);
        let mut sim = Simulation::new(config.clone(), start);
        if let Ok(restored) = restored {
            sim.core = restored.core;
        }
        sim.stored = Some((config, Snapshot::default()));
        sim
    }

    /// What a store would hold now (after writing every change set so far), with
    /// [`Simulation::persistent`].
    pub fn stored(&mut self) -> Option<&Snapshot> {
        let changes = self.core.take_changes();
        let (_, stored) = self.stored.as_mut()?;
        stored.apply(&changes);
        Some(&*stored)
    }

    /// Stops the engine as a `kill -9` would and starts it again from what a store holds
    /// (with [`Simulation::persistent`]): calls and requests that were out are lost, and
    /// asked for again. Returns how many were out.
    pub fn restart(&mut self) -> Result<usize, RestoreError> {
        let snapshot = self
            .stored()
            .cloned()
            .ok_or_else(|| RestoreError::new("the simulation is not persistent"))?;
        let config = self
            .stored
            .as_ref()
            .map(|(c, _)| c.clone())
            .unwrap_or_default();
        let restored = Core::restore(config, snapshot, 0, self.now)?;
        self.core = restored.core;
        self.fetches.clear();
        Ok(restored.requeued)
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

    /// Receives events as Inngest itself sends them ([`Core::inject`]: its own `inngest/`
    /// names allowed).
    pub fn inject(&mut self, events: Vec<Value>) -> Result<Vec<String>, EventError> {
        self.core.inject(events, self.now)
    }

    /// Moves the virtual clock forward by `by`, firing the timers due by then (the calls they
    /// cause wait for [`Simulation::run_until_idle`] or [`Simulation::take_calls`]).
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.core.tick(self.now);
    }

    /// The calls the core asks for now, without making them (to answer them one by one with
    /// [`Simulation::finish_call`], or to see how many are out at once).
    pub fn take_calls(&mut self) -> Vec<Call> {
        let mut calls = Vec::new();
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Call(call) => calls.push(call),
                Output::Fetch(fetch) => self.fetches.push(fetch),
                Output::Happening(h) => self.happenings.push(h),
            }
        }
        calls
    }

    /// Hands back the answer to a call taken with [`Simulation::take_calls`].
    pub fn finish_call(&mut self, id: CallId, answer: Result<CallResponse, TransportError>) {
        self.calls += 1;
        self.core.call_finished(id, answer, self.now);
    }

    /// Everything that happened so far.
    pub fn happenings(&self) -> &[Happening] {
        &self.happenings
    }

    /// Makes every call and request the core asks for now, and those it asks for as they
    /// end, until it asks for nothing more.
    async fn make_outputs<T: Transport + ?Sized>(
        &mut self,
        transport: &T,
        max_calls: usize,
    ) -> Result<(), TooManyCalls> {
        for fetch in std::mem::take(&mut self.fetches) {
            let result = self.fetcher.fetch(&fetch.request).await;
            self.core.fetch_finished(fetch.id, result, self.now);
        }
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
        Ok(())
    }

    /// Runs until `at` (or until nothing is under way, if sooner): makes each call the core
    /// asks for and fires each timer due by then, then sets the clock to `at`. What is due
    /// later waits (to send an event at a given time between others).
    pub async fn run_until<T: Transport + ?Sized>(
        &mut self,
        transport: &T,
        at: SystemTime,
        max_calls: usize,
    ) -> Result<(), TooManyCalls> {
        loop {
            self.make_outputs(transport, max_calls).await?;
            match self.core.next_deadline() {
                Some(due) if due <= at => {
                    self.now = self.now.max(due);
                    self.core.tick(self.now);
                }
                _ if self.now >= at => return Ok(()),
                _ => {
                    self.now = at;
                    self.core.tick(self.now);
                }
            }
        }
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
            self.make_outputs(transport, max_calls).await?;
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
