//! Timers for the async driver: one helper thread per cluster serves every
//! wait (no thread per wait), or the user's runtime's own sleep.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::client::driver::{BoxFuture, now};

/// Something that completes a future at an instant: an async runtime's
/// sleep, in one line.
///
/// ```
/// use kubewire::{BoxFuture, client::Timer};
/// // With tokio: |at| Box::pin(tokio::time::sleep_until(at.into())) as BoxFuture<'static, ()>
/// // With smol:  |at| Box::pin(async move { smol::Timer::at(at).await; }) as BoxFuture<'static, ()>
/// fn takes(_: impl Timer) {}
/// takes(|at: std::time::Instant| Box::pin(async move { let _ = at; }) as BoxFuture<'static, ()>);
/// ```
pub trait Timer: Send + Sync + 'static {
    /// A future that completes at `at`.
    fn sleep_until(&self, at: Instant) -> BoxFuture<'static, ()>;

    /// Stops what the timer started (its thread); waits already pending
    /// complete at once.
    fn shutdown(&self) {}
}

impl<F> Timer for F
where
    F: Fn(Instant) -> BoxFuture<'static, ()> + Send + Sync + 'static,
{
    fn sleep_until(&self, at: Instant) -> BoxFuture<'static, ()> {
        self(at)
    }
}

/// One entry of the timer's queue.
struct Entry {
    at: Instant,
    seq: u64,
    slot: Arc<Slot>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A pending wait: done once its instant passed, with the waker to call.
#[derive(Default)]
struct Slot {
    state: Mutex<(bool, Option<Waker>)>,
}

impl Slot {
    fn fire(&self) {
        let waker = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    /// Waits dropped before their instant since the last sweep.
    abandoned: usize,
    stopped: bool,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

/// The default timer: one thread, started at the first wait, serves every
/// wait of its cluster from a queue ordered by deadline; it is joined when
/// the cluster closes or its last clone is dropped.
#[derive(Default)]
pub struct ThreadTimer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ThreadTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("ThreadTimer")
            .field("pending", &queue.heap.len())
            .field("running", &queue.thread.is_some())
            .finish()
    }
}

impl ThreadTimer {
    /// A timer whose thread starts at the first wait.
    pub fn new() -> ThreadTimer {
        ThreadTimer::default()
    }

    fn run(shared: &Shared) {
        let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if queue.stopped {
                return;
            }
            let (now, _) = now();
            while queue.heap.peek().is_some_and(|e| e.0.at <= now) {
                if let Some(Reverse(entry)) = queue.heap.pop() {
                    entry.slot.fire();
                }
            }
            queue = match queue.heap.peek() {
                Some(next) => {
                    let left = next.0.at.saturating_duration_since(now);
                    shared
                        .changed
                        .wait_timeout(queue, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => shared
                    .changed
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

impl Timer for ThreadTimer {
    fn sleep_until(&self, at: Instant) -> BoxFuture<'static, ()> {
        Box::pin(Sleep {
            at,
            shared: self.shared.clone(),
            slot: None,
        })
    }

    fn shutdown(&self) {
        let thread = {
            let mut queue = self
                .shared
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            queue.stopped = true;
            for Reverse(entry) in queue.heap.drain() {
                entry.slot.fire();
            }
            queue.thread.take()
        };
        self.shared.changed.notify_all();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for ThreadTimer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Past this many abandoned waits (and half the queue), the queue drops
/// them, so a caller racing short timeouts against fast events does not
/// grow it until the timeouts pass.
const SWEEP_AFTER: usize = 1024;

/// A wait on a [`ThreadTimer`].
struct Sleep {
    at: Instant,
    shared: Arc<Shared>,
    slot: Option<Arc<Slot>>,
}

impl Drop for Sleep {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        if slot.state.lock().unwrap_or_else(PoisonError::into_inner).0 {
            return; // fired: already out of the queue
        }
        drop(slot);
        let mut queue = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        queue.abandoned += 1;
        if queue.abandoned > SWEEP_AFTER && queue.abandoned * 2 > queue.heap.len() {
            // Only the queue still holds an abandoned wait's slot.
            queue
                .heap
                .retain(|Reverse(e)| Arc::strong_count(&e.slot) > 1);
            queue.abandoned = 0;
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(slot) = &self.slot {
            let mut state = slot.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.0 {
                return Poll::Ready(());
            }
            state.1 = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if now().0 >= self.at {
            return Poll::Ready(());
        }
        let slot = Arc::new(Slot::default());
        slot.state.lock().unwrap_or_else(PoisonError::into_inner).1 = Some(cx.waker().clone());
        {
            let mut queue = self
                .shared
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if queue.stopped {
                return Poll::Ready(());
            }
            queue.seq += 1;
            let seq = queue.seq;
            queue.heap.push(Reverse(Entry {
                at: self.at,
                seq,
                slot: slot.clone(),
            }));
            if queue.thread.is_none() {
                let shared = self.shared.clone();
                // The async driver's one timer thread, joined at shutdown.
                #[allow(clippy::disallowed_methods)]
                let spawned = std::thread::Builder::new()
                    .name("kubewire-timer".into())
                    .spawn(move || ThreadTimer::run(&shared));
                match spawned {
                    Ok(handle) => queue.thread = Some(handle),
                    // No thread to be had: the wait ends early rather than never.
                    Err(_) => return Poll::Ready(()),
                }
            }
        }
        self.shared.changed.notify_all();
        self.slot = Some(slot);
        Poll::Pending
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests start from real instants
mod tests {
    use std::task::Waker;
    use std::time::Duration;

    use super::*;

    fn pending(timer: &ThreadTimer, at: Instant) -> BoxFuture<'static, ()> {
        let mut sleep = timer.sleep_until(at);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        sleep
    }

    #[test]
    fn waits_dropped_early_do_not_pile_up_and_shutdown_joins_the_thread() {
        let timer = ThreadTimer::new();
        let later = Instant::now() + Duration::from_secs(3600);
        let kept = pending(&timer, later);
        for _ in 0..10_000 {
            drop(pending(&timer, later));
        }
        let queued = timer.shared.queue.lock().unwrap().heap.len();
        assert!(
            queued <= 2 * SWEEP_AFTER + 2,
            "{queued} entries for 1 live wait"
        );
        // A wait that is due fires, and shutdown ends the rest at once.
        let mut soon = pending(&timer, Instant::now() + Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(100));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(soon.as_mut().poll(&mut cx).is_ready());
        timer.shutdown();
        assert!(
            timer.shared.queue.lock().unwrap().thread.is_none(),
            "joined"
        );
        drop(kept);
    }
}
