//! Watching: incremental decoding of watch streams and the watcher state
//! machine (resume, relist, backoff).

pub(crate) mod backoff;
pub(crate) mod decoder;
pub(crate) mod event;
pub(crate) mod watcher;
