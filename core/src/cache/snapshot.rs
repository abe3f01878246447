//! A consistent view of a store at one moment, cheap to take.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cache::ObjectKey;
use crate::item::Item;

/// The store's objects at one moment. Taking one costs a reference count;
/// the store copies its index (not the objects) on its next change while a
/// snapshot is alive.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    objects: Arc<BTreeMap<ObjectKey, Item>>,
}

impl Snapshot {
    pub(crate) fn new(objects: Arc<BTreeMap<ObjectKey, Item>>) -> Snapshot {
        Snapshot { objects }
    }

    /// The object at `key`.
    pub fn get(&self, key: &ObjectKey) -> Option<&Item> {
        self.objects.get(key)
    }

    /// Every object, by namespace then name.
    pub fn iter(&self) -> impl Iterator<Item = &Item> {
        self.objects.values()
    }

    /// The objects of one namespace, by name.
    pub fn in_namespace<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a Item> + 'a {
        let from = ObjectKey::new(namespace, "");
        let namespace = namespace.to_string();
        self.objects
            .range(from..)
            .take_while(move |(k, _)| k.namespace == namespace)
            .map(|(_, item)| item)
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}
