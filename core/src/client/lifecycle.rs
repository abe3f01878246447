//! A cluster's life: open until [`crate::Cluster::close`], which stops its
//! watches and follows and joins the helper threads the facade started.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::Waker;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, Result};

/// How long `close` waits for a helper thread still inside a read (a
/// streamed answer whose server sends nothing); it ends at the stream's
/// next byte or end either way.
const JOIN_GRACE: Duration = Duration::from_secs(2);

/// The stop switch of one stream (a watch, a followed log): set by its
/// [`crate::StopHandle`] or by closing the cluster, it wakes the task
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
        #[allow(clippy::disallowed_methods)]
        // the facade's helper threads start here, and are joined
        let handle = std::thread::Builder::new().name(name.into()).spawn(work)?;
        let mut helpers = self.helpers.lock().unwrap_or_else(PoisonError::into_inner);
        helpers.retain(|h| !h.is_finished());
        helpers.push(handle);
        Ok(())
    }

    /// Number of helper threads still running.
    pub(crate) fn running_helpers(&self) -> usize {
        let helpers = self.helpers.lock().unwrap_or_else(PoisonError::into_inner);
        helpers.iter().filter(|h| !h.is_finished()).count()
    }

    /// Closes: later calls fail with [`Error::Closed`], every stream stops,
    /// and helper threads are joined (those still inside a silent read are
    /// given a grace period, then left to end at their stream's next byte).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let streams =
            std::mem::take(&mut *self.streams.lock().unwrap_or_else(PoisonError::into_inner));
        for stop in streams.iter().filter_map(Weak::upgrade) {
            stop.stop();
        }
        let helpers =
            std::mem::take(&mut *self.helpers.lock().unwrap_or_else(PoisonError::into_inner));
        let (_, started) = crate::client::driver::now();
        for handle in helpers {
            while !handle.is_finished() && started.elapsed().unwrap_or_default() < JOIN_GRACE {
                #[allow(clippy::disallowed_methods)] // close waits briefly for helpers to end
                std::thread::sleep(Duration::from_millis(5));
            }
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
    }
}
