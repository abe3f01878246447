//! Objects and their history: every write gets the next resourceVersion
//! and a log entry, so a list can be read as it was at an earlier version
//! (pagination), a watch can resume from any version not yet compacted,
//! and a compacted version answers `410 Expired`.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

/// Where an object lives: its type's storage name (`apps/deployments`),
/// its namespace (`""` when cluster-scoped) and its name.
pub(crate) type Key = (String, String, String);

/// One write, or a bookmark (no key, both sides `None`).
#[derive(Clone, Debug)]
pub(crate) struct Change {
    /// The resourceVersion the write made.
    pub(crate) rv: u64,
    /// The object written (`storage`, `namespace`, `name`).
    pub(crate) key: Key,
    /// The object before the write (`None` when created).
    pub(crate) before: Option<Arc<Value>>,
    /// The object after it (`None` when deleted).
    pub(crate) after: Option<Arc<Value>>,
    /// Its event lines as watchers of the stored version see them, made
    /// once for them all: `ADDED`, `MODIFIED`, `DELETED`.
    pub(crate) lines: [OnceLock<Vec<u8>>; 3],
}

impl Change {
    /// Whether this entry is a bookmark.
    pub(crate) fn is_bookmark(&self) -> bool {
        self.before.is_none() && self.after.is_none()
    }
}

/// A resourceVersion older than the kept history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Compacted {
    /// The oldest version still readable.
    pub(crate) oldest: u64,
}

/// The objects and their log.
#[derive(Debug)]
pub(crate) struct Store {
    objects: BTreeMap<Key, Arc<Value>>,
    log: Vec<Change>,
    rv: u64,
    compacted: u64,
}

impl Store {
    /// Empty, with the first write at resourceVersion `first`.
    pub(crate) fn new(first: u64) -> Store {
        Store {
            objects: BTreeMap::new(),
            log: Vec::new(),
            rv: first.saturating_sub(1),
            compacted: first.saturating_sub(1),
        }
    }

    /// The newest resourceVersion.
    pub(crate) fn rv(&self) -> u64 {
        self.rv
    }

    /// The object at `key`.
    pub(crate) fn get(&self, key: &Key) -> Option<&Arc<Value>> {
        self.objects.get(key)
    }

    fn next(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Stores `object` at `key` with the next resourceVersion.
    pub(crate) fn put(&mut self, key: Key, mut object: Value) -> Arc<Value> {
        let rv = self.next();
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.store_at(rv, key, object)
    }

    /// Stores `object` (its resourceVersion already `rv`) and logs the write
    /// in version order.
    fn store_at(&mut self, rv: u64, key: Key, object: Value) -> Arc<Value> {
        let object = Arc::new(object);
        let before = self.objects.insert(key.clone(), object.clone());
        let at = self.log.partition_point(|c| c.rv <= rv);
        self.log.insert(
            at,
            Change {
                rv,
                key,
                before,
                after: Some(object.clone()),
                lines: Default::default(),
            },
        );
        object
    }

    /// Stores a seeded object keeping its own numeric `resourceVersion`
    /// (the store's version moves past it when it is newer); one without
    /// a usable version gets the next.
    pub(crate) fn seed(&mut self, key: Key, object: Value) -> Arc<Value> {
        let Some(rv) = object["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&rv| rv > self.compacted)
        else {
            return self.put(key, object);
        };
        self.rv = self.rv.max(rv);
        self.store_at(rv, key, object)
    }

    /// Moves the store's version on to at least `rv` (a recording's clock).
    pub(crate) fn advance(&mut self, rv: u64) {
        self.rv = self.rv.max(rv);
    }

    /// Removes the object at `key`; the returned copy carries the
    /// deletion's resourceVersion, as a `DELETED` event does.
    pub(crate) fn remove(&mut self, key: &Key) -> Option<Arc<Value>> {
        let mut gone = (**self.objects.get(key)?).clone();
        let before = self.objects.remove(key);
        let rv = self.next();
        gone["metadata"]["resourceVersion"] = json!(rv.to_string());
        let gone = Arc::new(gone);
        self.log.push(Change {
            rv,
            key: key.clone(),
            before,
            after: None,
            lines: Default::default(),
        });
        Some(gone)
    }

    /// Whether the kept history holds a deletion of the object at `key`.
    pub(crate) fn was_deleted(&self, key: &Key) -> bool {
        self.log
            .iter()
            .any(|c| c.after.is_none() && c.before.is_some() && c.key == *key)
    }

    /// Logs a bookmark at the current version.
    pub(crate) fn bookmark(&mut self) {
        let rv = self.rv;
        self.log.push(Change {
            rv,
            key: Default::default(),
            before: None,
            after: None,
            lines: Default::default(),
        });
    }

    /// Forgets all history: every version handed out so far becomes too
    /// old (the store moves one version on, as a compaction's own revision).
    pub(crate) fn compact(&mut self) {
        self.rv += 1;
        self.compacted = self.rv;
        let keep = self.log.partition_point(|c| c.rv <= self.compacted);
        self.log.drain(..keep);
    }

    /// The oldest version still readable.
    pub(crate) fn oldest(&self) -> u64 {
        self.compacted
    }

    /// The objects of `storage` (in `namespace`, or all), in key order, as
    /// they were at `at` (now when `None`).
    pub(crate) fn list(
        &self,
        storage: &str,
        namespace: Option<&str>,
        at: Option<u64>,
    ) -> Result<Vec<Arc<Value>>, Compacted> {
        let in_scope = |k: &Key| k.0 == storage && namespace.is_none_or(|n| k.1 == n);
        let mut objects: BTreeMap<Key, Arc<Value>> = self
            .objects
            .iter()
            .filter(|(k, _)| in_scope(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(at) = at.filter(|&at| at < self.rv) {
            if at < self.compacted {
                return Err(Compacted {
                    oldest: self.compacted,
                });
            }
            for c in self.log.iter().rev().take_while(|c| c.rv > at) {
                if c.is_bookmark() || !in_scope(&c.key) {
                    continue;
                }
                match &c.before {
                    Some(b) => objects.insert(c.key.clone(), b.clone()),
                    None => objects.remove(&c.key),
                };
            }
        }
        Ok(objects.into_values().collect())
    }

    /// Every object, for namespace clean-up and garbage collection.
    pub(crate) fn all(&self) -> impl Iterator<Item = (&Key, &Arc<Value>)> {
        self.objects.iter()
    }

    /// The log entries after `rv`, or `Compacted` when some are gone.
    pub(crate) fn since(&self, rv: u64) -> Result<&[Change], Compacted> {
        if rv < self.compacted {
            return Err(Compacted {
                oldest: self.compacted,
            });
        }
        let from = self.log.partition_point(|c| c.rv <= rv);
        Ok(&self.log[from..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Key {
        ("/configmaps".into(), "demo".into(), name.into())
    }

    #[test]
    fn a_list_reads_the_past_until_it_is_compacted() {
        let mut s = Store::new(100);
        s.put(key("a"), json!({"metadata": {"name": "a"}, "v": 1}));
        s.put(key("b"), json!({"metadata": {"name": "b"}}));
        let at = s.rv();
        s.put(key("a"), json!({"metadata": {"name": "a"}, "v": 2}));
        s.remove(&key("b"));
        s.put(key("c"), json!({"metadata": {"name": "c"}}));
        let then = s.list("/configmaps", Some("demo"), Some(at)).unwrap();
        let names: Vec<_> = then.iter().map(|o| o["metadata"]["name"].clone()).collect();
        assert_eq!(names, [json!("a"), json!("b")]);
        assert_eq!(then[0]["v"], 1);
        assert_eq!(s.list("/configmaps", None, None).unwrap().len(), 2);
        assert_eq!(s.since(at).unwrap().len(), 3);
        let before = s.rv();
        s.compact();
        assert_eq!(
            s.list("/configmaps", None, Some(at)),
            Err(Compacted { oldest: before + 1 })
        );
        assert!(s.since(before).is_err());
        assert_eq!(s.since(s.rv()).unwrap().len(), 0);
        assert_eq!(s.list("/configmaps", None, None).unwrap().len(), 2);
    }
}
