//! Whether the engine keeps its state: in memory only, or in a [`Store`](super::store) too
//! (feature `persist`). [`Durable::commit`] writes what the inputs changed, in the order the
//! changes were taken from the core, before the engine releases what they caused.

use std::sync::{Mutex, MutexGuard};

use crate::core::Core;

/// The engine's durability.
#[derive(Debug, Default)]
pub(crate) struct Durable {
    #[cfg(feature = "persist")]
    store: Option<Mutex<super::store::Store>>,
    /// Why the store failed: from then on nothing more is acknowledged.
    failed: Mutex<Option<String>>,
}

impl Durable {
    /// Opens the store in `dir` and reads what it holds.
    #[cfg(feature = "persist")]
    pub(crate) fn open(dir: &std::path::Path) -> Result<(Durable, crate::core::Snapshot), String> {
        let (store, snapshot) = super::store::Store::open(dir)?;
        Ok((
            Durable {
                store: Some(Mutex::new(store)),
                failed: Mutex::new(None),
            },
            snapshot,
        ))
    }

    /// Why the store failed, if it did.
    pub(crate) fn failure(&self) -> Option<String> {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Writes what the core changed since the last commit (one transaction), releasing the
    /// core's lock while the store writes (the store's lock, taken first, keeps the order).
    /// Without a store, nothing to do.
    pub(crate) fn commit(&self, core: MutexGuard<'_, Core>) -> Result<(), String> {
        #[cfg(feature = "persist")]
        if let Some(store) = &self.store {
            let mut core = core;
            let changes = core.take_changes();
            let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
            drop(core);
            if let Some(failed) = self.failure() {
                return Err(failed);
            }
            return store.write(&changes).inspect_err(|e| {
                tracing::error!(
                    target: "inngest::engine",
                    "the engine's database could not be written, so nothing more is acknowledged or run (restart the engine): {e}"
                );
                *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
            });
        }
        drop(core);
        match self.failure() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Folds the store's log into its file (at a clean stop).
    pub(crate) fn checkpoint(&self) {
        #[cfg(feature = "persist")]
        if let Some(store) = &self.store {
            store.lock().unwrap_or_else(|p| p.into_inner()).checkpoint();
        }
    }
}
