//! Singletons (`singleton`): one run at a time per key. A new run is skipped while one runs
//! (`skip`), or the running one is cancelled (`cancel`).

use super::super::tracked::TrackedMap;

/// The run holding each singleton key.
#[derive(Debug, Default)]
pub(crate) struct Holders {
    pub(crate) runs: TrackedMap<String, String>,
}

impl Holders {
    /// The run holding `key`.
    pub(crate) fn holder(&self, key: &str) -> Option<&str> {
        self.runs.get(key).map(String::as_str)
    }

    /// `run` holds `key` now.
    pub(crate) fn hold(&mut self, key: String, run: String) {
        self.runs.insert(key, run);
    }

    /// `run` ended: it releases `key` if it holds it.
    pub(crate) fn release(&mut self, key: &str, run: &str) {
        if self.holder(key) == Some(run) {
            self.runs.remove(key);
        }
    }
}
