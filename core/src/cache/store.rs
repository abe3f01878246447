//! The reflector store: objects by key, readiness, label indexes, and the
//! changes each update made.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::cache::{Change, ChangeKind, ObjectKey, Snapshot};
use crate::item::Item;
use crate::watch::{WatchEvent, WatchEventType, WatcherEvent};

/// Label key → label value → the objects carrying it.
type LabelIndex = HashMap<String, BTreeSet<ObjectKey>>;

/// The objects a watcher has delivered, kept current by its events.
///
/// - A list (the first, or a relist after `410`) is applied at once when
///   the watcher says it is complete ([`WatcherEvent::Synced`]): readers
///   never see half of it, and the changes it made are reported together.
/// - The store is *ready* after the first complete list.
/// - [`Store::list_by_label`] indexes a label key the first time it is
///   asked for, then keeps that index current.
/// - [`Store::snapshot`] is a reference count.
#[derive(Debug, Default)]
pub struct Store {
    objects: Arc<BTreeMap<ObjectKey, Item>>,
    labels: HashMap<String, LabelIndex>,
    /// The events of a list in progress, applied at its end.
    pending: Option<Vec<WatchEvent>>,
    ready: bool,
    version: Option<String>,
}

impl Store {
    /// An empty store, waiting for its first list.
    pub fn new() -> Store {
        Store {
            pending: Some(Vec::new()),
            ..Store::default()
        }
    }

    /// True once the first list is complete.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// The resourceVersion of the last list or change applied.
    pub fn resource_version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The object at `key`.
    pub fn get(&self, key: &ObjectKey) -> Option<&Item> {
        self.objects.get(key)
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Every object at this moment; later changes do not show in it.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(self.objects.clone())
    }

    /// The objects whose label `key` is `value`, by namespace and name.
    /// The first call for a label key indexes it (one pass over the
    /// store); later ones read the index.
    pub fn list_by_label(&mut self, key: &str, value: &str) -> Vec<Item> {
        if !self.labels.contains_key(key) {
            let mut index = LabelIndex::new();
            for (k, item) in self.objects.iter() {
                if let Some(v) = item.meta().labels().get(key) {
                    index.entry(v.to_string()).or_default().insert(k.clone());
                }
            }
            self.labels.insert(key.to_string(), index);
        }
        self.labels[key]
            .get(value)
            .into_iter()
            .flatten()
            .filter_map(|k| self.objects.get(k).cloned())
            .collect()
    }

    /// Applies one of the watcher's events and returns the changes it made
    /// visible: none while a list is in progress, the list's differences
    /// when it completes, one change per streamed event afterwards.
    pub fn apply(&mut self, event: WatcherEvent) -> Vec<Change> {
        match event {
            WatcherEvent::Event(event) if event.evtype == WatchEventType::Bookmark => {
                if self.pending.is_none() {
                    self.note_version(event.item.meta().version());
                }
                Vec::new()
            }
            WatcherEvent::Event(event) => match &mut self.pending {
                Some(pending) => {
                    pending.push(event);
                    Vec::new()
                }
                None => {
                    self.note_version(event.item.meta().version());
                    self.change(event).into_iter().collect()
                }
            },
            WatcherEvent::Relisted => {
                self.pending.get_or_insert_with(Vec::new);
                Vec::new()
            }
            WatcherEvent::Synced { resource_version } => {
                let events = self.pending.take().unwrap_or_default();
                let changes = events.into_iter().filter_map(|e| self.change(e)).collect();
                self.ready = true;
                self.version = Some(resource_version);
                changes
            }
            _ => Vec::new(),
        }
    }

    fn note_version(&mut self, version: &str) {
        if !version.is_empty() {
            self.version = Some(version.to_string());
        }
    }

    /// Applies one change to the objects and the label indexes.
    fn change(&mut self, event: WatchEvent) -> Option<Change> {
        let key = ObjectKey::of(&event.item);
        let objects = Arc::make_mut(&mut self.objects);
        let (kind, old) = match event.evtype {
            WatchEventType::Added | WatchEventType::Modified => {
                let old = objects.insert(key.clone(), event.item.clone());
                let kind = if old.is_some() {
                    ChangeKind::Modified
                } else {
                    ChangeKind::Added
                };
                (kind, old)
            }
            WatchEventType::Deleted => (ChangeKind::Deleted, objects.remove(&key)),
            _ => return None,
        };
        for (label, index) in &mut self.labels {
            if let Some(v) = old.as_ref().and_then(|o| o.meta().labels().get(label))
                && let Some(keys) = index.get_mut(v)
            {
                keys.remove(&key);
                if keys.is_empty() {
                    index.remove(v);
                }
            }
            if kind != ChangeKind::Deleted
                && let Some(v) = event.item.meta().labels().get(label)
            {
                index.entry(v.to_string()).or_default().insert(key.clone());
            }
        }
        Some(Change {
            kind,
            key,
            item: event.item,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::decode_item;

    fn pod(name: &str, rv: &str, app: &str) -> Item {
        decode_item(
            format!(
                r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}","namespace":"demo","resourceVersion":"{rv}","labels":{{"app":"{app}"}}}}}}"#
            )
            .into(),
        )
        .unwrap()
    }

    fn event(evtype: WatchEventType, item: Item) -> WatcherEvent {
        WatcherEvent::Event(WatchEvent { evtype, item })
    }

    fn synced(rv: &str) -> WatcherEvent {
        WatcherEvent::Synced {
            resource_version: rv.into(),
        }
    }

    #[test]
    fn a_relist_is_applied_at_once_and_reports_its_differences() {
        let mut store = Store::new();
        store.apply(event(WatchEventType::Added, pod("a", "1", "web")));
        store.apply(event(WatchEventType::Added, pod("b", "2", "web")));
        assert!(store.is_empty(), "nothing is visible before the list ends");
        assert_eq!(store.apply(synced("2")).len(), 2);
        let before = store.snapshot();
        store.apply(WatcherEvent::Relisted);
        store.apply(event(WatchEventType::Deleted, pod("a", "1", "web")));
        store.apply(event(WatchEventType::Modified, pod("b", "5", "db")));
        assert_eq!(store.len(), 2, "the relist is not visible half applied");
        let changes = store.apply(synced("5"));
        let kinds: Vec<_> = changes
            .iter()
            .map(|c| (c.kind, c.key.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [(ChangeKind::Deleted, "a"), (ChangeKind::Modified, "b")]
        );
        assert_eq!(store.resource_version(), Some("5"));
        assert_eq!(before.len(), 2, "a snapshot keeps its moment");
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn label_indexes_follow_changes() {
        let mut store = Store::new();
        store.apply(event(WatchEventType::Added, pod("a", "1", "web")));
        store.apply(synced("1"));
        assert_eq!(store.list_by_label("app", "web").len(), 1);
        store.apply(event(WatchEventType::Modified, pod("a", "2", "db")));
        assert!(store.list_by_label("app", "web").is_empty());
        assert_eq!(store.list_by_label("app", "db").len(), 1);
        store.apply(event(WatchEventType::Deleted, pod("a", "3", "db")));
        assert!(store.list_by_label("app", "db").is_empty());
        assert!(store.labels["app"].is_empty(), "no empty sets are kept");
    }
}
