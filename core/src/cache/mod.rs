//! A reflector cache, sans IO: the [`Store`] keeps the objects a watcher
//! has seen, keyed by namespace and name, replaces them atomically on a
//! relist, and says what changed. Items keep the raw bytes they arrived in,
//! so the cache costs about the bytes of its objects.
//!
//! Feed it a [`crate::watch::Watcher`]'s events (started with
//! [`crate::watch::WatchStart::List`]):
//!
//! ```
//! use kubewire::cache::{ChangeKind, ObjectKey, Store};
//! use kubewire::watch::{WatchEvent, WatchEventType, WatcherEvent};
//! # let pod = |name: &str, rv: &str| kubewire::request::decode_item(format!(
//! #     r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}","namespace":"demo","resourceVersion":"{rv}","labels":{{"app":"web"}}}}}}"#).into()).unwrap();
//! let mut store = Store::new();
//! store.apply(WatcherEvent::Event(WatchEvent { evtype: WatchEventType::Added, item: pod("web-0", "7") }));
//! assert!(!store.is_ready());                       // the list is not complete yet
//! let changes = store.apply(WatcherEvent::Synced { resource_version: "7".into() });
//! assert_eq!(changes[0].kind, ChangeKind::Added);
//! assert!(store.is_ready());
//! assert_eq!(store.get(&ObjectKey::new("demo", "web-0")).unwrap().meta().version(), "7");
//! assert_eq!(store.list_by_label("app", "web").len(), 1);
//! ```

mod change;
mod key;
mod snapshot;
mod store;

pub use change::{Change, ChangeKind};
pub use key::ObjectKey;
pub use snapshot::Snapshot;
pub use store::Store;
