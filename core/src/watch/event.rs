//! Watch events as the apiserver sends them.

use std::fmt;

use crate::item::Item;
use crate::status::Status;

/// The `type` of a watch event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatchEventType {
    /// `ADDED`: the object appeared (or was listed by an initial-events stream).
    Added,
    /// `MODIFIED`: the object changed.
    Modified,
    /// `DELETED`: the object is gone; the item is its last state.
    Deleted,
    /// `BOOKMARK`: only the resourceVersion is meaningful.
    Bookmark,
    /// `ERROR`: the object is a `Status` (see [`WatchEvent::status`]).
    Error,
}

impl WatchEventType {
    /// The type as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEventType::Added => "ADDED",
            WatchEventType::Modified => "MODIFIED",
            WatchEventType::Deleted => "DELETED",
            WatchEventType::Bookmark => "BOOKMARK",
            WatchEventType::Error => "ERROR",
        }
    }

    pub(crate) fn parse(s: &[u8]) -> Option<WatchEventType> {
        Some(match s {
            b"ADDED" => WatchEventType::Added,
            b"MODIFIED" => WatchEventType::Modified,
            b"DELETED" => WatchEventType::Deleted,
            b"BOOKMARK" => WatchEventType::Bookmark,
            b"ERROR" => WatchEventType::Error,
            _ => return None,
        })
    }
}

impl fmt::Display for WatchEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One watch event: its type and the object it carries, decoded lazily
/// (metadata now, the rest on access; the raw JSON is kept).
#[derive(Clone, Debug, PartialEq)]
pub struct WatchEvent {
    /// The event type.
    pub evtype: WatchEventType,
    /// The object. For `ERROR` it is the `Status` the server sent (kind
    /// `Status`, empty metadata).
    pub item: Item,
}

/// The annotation the apiserver puts on the bookmark that ends the initial
/// events of a `sendInitialEvents=true` watch.
pub const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

impl WatchEvent {
    /// The decoded `Status` of an `ERROR` event.
    pub fn status(&self) -> Option<Status> {
        if self.evtype != WatchEventType::Error {
            return None;
        }
        Status::from_error_object(self.item.raw())
    }

    /// True for an `ERROR` event reporting `410 Gone`/`Expired`: the watch
    /// started from a version older than the server keeps; relist.
    pub fn is_expired(&self) -> bool {
        self.status().is_some_and(|s| s.is_expired())
    }

    /// True for the bookmark that ends a streaming list's initial events.
    pub fn is_initial_events_end(&self) -> bool {
        self.evtype == WatchEventType::Bookmark
            && self
                .item
                .meta()
                .annotations()
                .get(INITIAL_EVENTS_END)
                .is_some_and(|v| v == "true")
    }
}
