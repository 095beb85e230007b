//! Maps that remember which of their keys changed, so that the core can tell a store exactly
//! what an input changed ([`super::Core::take_changes`]). Every mutation goes through the
//! map's own methods (there is no `DerefMut`), so nothing changes unseen. Tracking is off
//! until [`TrackedMap::track`]: an engine without a store pays nothing.
//!
//! A piece of state kept in one of these maps is persisted by adding it to the list of
//! spaces in `persist.rs`; its keys and values need only `Serialize` and `Deserialize`.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::persist::{RestoreError, Row};

macro_rules! tracked {
    ($(#[$doc:meta])* $name:ident, $map:ident, $set:ident, [$($bound:tt)+]) => {
        $(#[$doc])*
        pub(crate) struct $name<K, V> {
            map: $map<K, V>,
            /// The keys changed since the last [`Self::drain`]; `None` while not tracking.
            dirty: Option<$set<K>>,
        }

        impl<K, V> Default for $name<K, V> {
            fn default() -> Self {
                $name {
                    map: $map::new(),
                    dirty: None,
                }
            }
        }

        impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for $name<K, V> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.map.fmt(f)
            }
        }

        #[allow(dead_code)]
        impl<K: $($bound)+ + Clone, V> $name<K, V> {
            /// Starts remembering changed keys.
            pub(crate) fn track(&mut self) {
                if self.dirty.is_none() {
                    self.dirty = Some($set::new());
                }
            }

            fn touch(&mut self, key: &K) {
                if let Some(dirty) = &mut self.dirty {
                    dirty.insert(key.clone());
                }
            }

            /// The value of `key`.
            pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
            where
                K: Borrow<Q>,
                Q: $($bound)+ + ?Sized,
            {
                self.map.get(key)
            }

            /// The value of `key`, to change (the key counts as changed).
            pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
            where
                K: Borrow<Q>,
                Q: $($bound)+ + ToOwned<Owned = K> + ?Sized,
            {
                if self.map.contains_key(key) {
                    if let Some(dirty) = &mut self.dirty {
                        dirty.insert(key.to_owned());
                    }
                }
                self.map.get_mut(key)
            }

            /// Whether `key` has a value.
            pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
            where
                K: Borrow<Q>,
                Q: $($bound)+ + ?Sized,
            {
                self.map.contains_key(key)
            }

            /// Sets `key`.
            pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
                self.touch(&key);
                self.map.insert(key, value)
            }

            /// Removes `key`.
            pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
            where
                K: Borrow<Q>,
                Q: $($bound)+ + ToOwned<Owned = K> + ?Sized,
            {
                let removed = self.map.remove(key);
                if removed.is_some() {
                    if let Some(dirty) = &mut self.dirty {
                        dirty.insert(key.to_owned());
                    }
                }
                removed
            }

            /// The value of `key`, inserted with `make` when there is none (the key counts as
            /// changed).
            pub(crate) fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
                self.touch(&key);
                self.map.entry(key).or_insert_with(make)
            }

            /// Keeps the entries `keep` holds for.
            pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
                let dirty = &mut self.dirty;
                self.map.retain(|k, v| {
                    let kept = keep(k, v);
                    if !kept {
                        if let Some(dirty) = dirty.as_mut() {
                            dirty.insert(k.clone());
                        }
                    }
                    kept
                });
            }

            /// The entries.
            pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
                self.map.iter()
            }

            /// The values.
            pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
                self.map.values()
            }

            /// The keys.
            pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
                self.map.keys()
            }

            /// How many entries there are.
            pub(crate) fn len(&self) -> usize {
                self.map.len()
            }

            /// Whether there is none.
            pub(crate) fn is_empty(&self) -> bool {
                self.map.is_empty()
            }
        }

        impl<K, V> $name<K, V>
        where
            K: $($bound)+ + Clone + Serialize,
            V: Serialize,
        {
            /// Hands the changes since the last call to `rows` (a value, or `None` for a key
            /// removed), under `space`.
            pub(crate) fn drain(&mut self, space: &'static str, rows: &mut Vec<Row>) {
                let Some(dirty) = self.dirty.as_mut() else {
                    return;
                };
                for key in std::mem::take(dirty) {
                    rows.push(Row::new(space, &key, self.map.get(&key)));
                }
            }

            /// Every entry, as rows under `space` (a whole snapshot).
            pub(crate) fn rows(&self, space: &'static str, rows: &mut Vec<Row>) {
                for (key, value) in &self.map {
                    rows.push(Row::new(space, key, Some(value)));
                }
            }

        }

        impl<K, V> $name<K, V>
        where
            K: $($bound)+ + Clone + DeserializeOwned,
            V: DeserializeOwned,
        {
            /// A map of stored rows, tracking.
            pub(crate) fn restore(
                space: &str,
                rows: Vec<(String, Vec<u8>)>,
            ) -> Result<Self, RestoreError> {
                let mut map = $map::new();
                for (key, value) in rows {
                    let (k, v) = super::persist::decode_row(space, &key, &value)?;
                    map.insert(k, v);
                }
                Ok($name {
                    map,
                    dirty: Some($set::new()),
                })
            }
        }
    };
}

tracked!(
    /// A hash map that remembers its changed keys.
    TrackedMap,
    HashMap,
    HashSet,
    [Hash + Eq]
);

tracked!(
    /// An ordered map that remembers its changed keys.
    TrackedTree,
    BTreeMap,
    BTreeSet,
    [Ord]
);

#[allow(dead_code)]
impl<K: Ord + Clone, V> TrackedTree<K, V> {
    /// The first entry.
    pub(crate) fn first_key_value(&self) -> Option<(&K, &V)> {
        self.map.first_key_value()
    }
}

impl<K: Ord + Clone, V> TrackedTree<K, V> {
    /// An ordered map built from `map`, not tracking (for values rebuilt at restore rather
    /// than decoded).
    pub(crate) fn from_map(map: BTreeMap<K, V>) -> Self {
        TrackedTree { map, dirty: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_remembered_once_tracking_and_drained() {
        let mut m: TrackedMap<String, u32> = TrackedMap::default();
        m.insert("untracked".into(), 1);
        m.track();
        m.insert("a".into(), 1);
        m.insert("b".into(), 2);
        *m.get_mut("untracked").unwrap() += 1;
        m.remove("b");
        assert!(m.get_mut("missing").is_none());
        m.retain(|k, _| k != "a");
        let mut rows = Vec::new();
        m.drain("t", &mut rows);
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        let seen: Vec<(&str, Option<&[u8]>)> = rows
            .iter()
            .map(|r| (r.key.as_str(), r.value.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                ("\"a\"", None),
                ("\"b\"", None),
                ("\"untracked\"", Some(&b"2"[..]))
            ]
        );
        rows.clear();
        m.drain("t", &mut rows);
        assert!(rows.is_empty());
    }
}
