//! What a store update changed, for a work queue.

use crate::cache::ObjectKey;
use crate::item::Item;

/// How an object changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// It is new to the store.
    Added,
    /// It has a new version.
    Modified,
    /// It is gone.
    Deleted,
}

/// One change the store made visible.
#[derive(Clone, Debug)]
pub struct Change {
    /// How it changed.
    pub kind: ChangeKind,
    /// Which object.
    pub key: ObjectKey,
    /// Its new state (its last state when deleted).
    pub item: Item,
}
