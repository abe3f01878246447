//! A cluster's life: open until [`crate::Cluster::close`], which stops its
//! watches and follows and joins the helper threads the facade started.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::Waker;
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// The stop switch of one stream (a watch, a followed log): set by its
/// [`crate::client::StopHandle`] or by closing the cluster, it wakes the task
/// waiting on the stream.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    stopped: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Stop {
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Stops the stream and wakes whoever waits on it.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        let waker = self
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Remembers who to wake (before the stream returns `Pending`).
    pub(crate) fn park(&self, waker: &Waker) {
        let mut slot = self.waker.lock().unwrap_or_else(PoisonError::into_inner);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }
}

/// What a cluster and its clones share about being open.
#[derive(Debug, Default)]
pub struct Lifecycle {
    closed: AtomicBool,
    streams: Mutex<Vec<Weak<Stop>>>,
    helpers: Mutex<Vec<JoinHandle<()>>>,
}

impl Lifecycle {
    /// `Err(Error::Closed)` once the cluster is closed.
    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// A stop switch for a new stream, stopped with the cluster.
    pub(crate) fn stream(&self) -> Arc<Stop> {
        let stop = Arc::new(Stop::default());
        if self.closed.load(Ordering::Acquire) {
            stop.stop();
        }
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        streams.retain(|s| s.strong_count() > 0);
        streams.push(Arc::downgrade(&stop));
        stop
    }

    /// Starts a helper thread that `close` joins.
    pub(crate) fn spawn(
        &self,
        name: &str,
        work: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<()> {
        // The facade's helper threads start here, and are joined.
        #[allow(clippy::disallowed_methods)]
        let handle = std::thread::Builder::new().name(name.into()).spawn(work)?;
        let mut helpers = self.helpers.lock().unwrap_or_else(PoisonError::into_inner);
        helpers.retain(|h| !h.is_finished());
        helpers.push(handle);
        Ok(())
    }

    /// Number of helper threads still running (the ended ones are joined).
    pub(crate) fn running_helpers(&self) -> usize {
        let mut helpers = self.helpers.lock().unwrap_or_else(PoisonError::into_inner);
        let (ended, running): (Vec<_>, Vec<_>) = std::mem::take(&mut *helpers)
            .into_iter()
            .partition(JoinHandle::is_finished);
        *helpers = running;
        let count = helpers.len();
        drop(helpers);
        for handle in ended {
            let _ = handle.join();
        }
        count
    }

    /// Closes: later calls fail with [`Error::Closed`], every stream stops
    /// (its reader lets go of the connection), and the helper threads that
    /// ended are joined. A helper still inside a read of a silent
    /// connection is not waited for: it ends at that stream's next byte or
    /// end, and [`Lifecycle::running_helpers`] counts it until then.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let streams =
            std::mem::take(&mut *self.streams.lock().unwrap_or_else(PoisonError::into_inner));
        for stop in streams.iter().filter_map(Weak::upgrade) {
            stop.stop();
        }
        self.running_helpers();
    }
}
