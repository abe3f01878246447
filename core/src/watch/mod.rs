//! Watching: incremental decoding of watch streams and the watcher state
//! machine (resume, relist, backoff).

pub(crate) mod backoff;
pub(crate) mod decoder;
pub(crate) mod event;
mod resource_version;
pub(crate) mod watcher;

pub use backoff::Backoff;
pub use decoder::WatchDecoder;
pub use event::{INITIAL_EVENTS_END, WatchEvent, WatchEventType};
pub use resource_version::compare_resource_versions;
pub use watcher::{OnError, WatchStart, Watcher, WatcherEvent, WatcherOptions};
