//! [`FunctionInput`]: what `transform_function_input` may change before the function runs.

use serde_json::Value;

use super::Extensions;
use crate::error::Error;
use crate::json::RawJson;

/// The event and events as JSON text, and the context's values.
pub(crate) type Finished = (RawJson, Vec<RawJson>, Extensions);

/// The function's input in one call, before it runs: the event, the events, and the values
/// put into its context. The events are read into JSON values only when a hook asks for them.
#[derive(Debug)]
pub struct FunctionInput {
    function_id: String,
    run_id: String,
    attempt: u32,
    event: Lazy,
    events: Vec<Lazy>,
    extensions: Extensions,
}

/// JSON text, read into a value the first time it is asked for.
#[derive(Debug)]
enum Lazy {
    Raw(RawJson),
    Value(Value),
}

impl Lazy {
    fn value(&mut self) -> &mut Value {
        if let Lazy::Raw(raw) = self {
            // The call request's events were checked to be valid JSON when it was read.
            *self = Lazy::Value(raw.value().unwrap_or(Value::Null));
        }
        match self {
            Lazy::Value(value) => value,
            Lazy::Raw(_) => unreachable!("read just above"),
        }
    }

    fn into_raw(self) -> Result<RawJson, Error> {
        match self {
            Lazy::Raw(raw) => Ok(raw),
            Lazy::Value(value) => RawJson::from_value(&value).map_err(Error::new),
        }
    }
}

impl FunctionInput {
    pub(crate) fn new(
        function_id: String,
        run_id: String,
        attempt: u32,
        event: RawJson,
        events: Vec<RawJson>,
    ) -> Self {
        FunctionInput {
            function_id,
            run_id,
            attempt,
            event: Lazy::Raw(event),
            events: events.into_iter().map(Lazy::Raw).collect(),
            extensions: Extensions::default(),
        }
    }

    /// The composite id of the function (`"<app>-<fn>"`).
    pub fn function_id(&self) -> &str {
        &self.function_id
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The 0-based attempt of this call.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The triggering event (`{"name", "data", "id", "ts", ..}`), to read or change.
    pub fn event(&mut self) -> &mut Value {
        self.event.value()
    }

    /// How many triggering events there are (one, unless the function batches events).
    pub fn events_len(&self) -> usize {
        self.events.len()
    }

    /// The `index`th triggering event, to read or change.
    pub fn events(&mut self, index: usize) -> Option<&mut Value> {
        self.events.get_mut(index).map(Lazy::value)
    }

    /// Puts `value` into the run's context, where the function reads it by type with
    /// [`Context::get`](crate::Context::get) (and later hooks with
    /// [`RunInfo::extensions`](super::RunInfo)).
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.extensions.insert(value);
    }

    /// The values put into the context so far.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The values put into the context so far, to change.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }

    /// The event and events as JSON text again, and the context's values.
    pub(crate) fn finish(self) -> Result<Finished, Error> {
        let event = self.event.into_raw()?;
        let events = self
            .events
            .into_iter()
            .map(Lazy::into_raw)
            .collect::<Result<_, _>>()?;
        Ok((event, events, self.extensions))
    }
}
