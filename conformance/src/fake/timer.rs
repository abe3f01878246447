//! A timer for async answers with no runtime to ask: a helper thread
//! wakes the task at the deadline (started once, waking the latest waker).

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use crate::listener::lock;

/// Ready at `deadline`.
#[derive(Debug)]
pub(crate) struct Timer {
    deadline: Instant,
    waker: Option<Arc<Mutex<Option<Waker>>>>,
}

impl Timer {
    /// A timer for `deadline`.
    pub(crate) fn at(deadline: Instant) -> Timer {
        Timer {
            deadline,
            waker: None,
        }
    }

    /// Ready once the deadline has passed; until then the task's latest
    /// waker is woken at the deadline.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        match &self.waker {
            Some(slot) => *lock(slot) = Some(cx.waker().clone()),
            None => {
                let slot = Arc::new(Mutex::new(Some(cx.waker().clone())));
                let (wake, deadline) = (slot.clone(), self.deadline);
                std::thread::spawn(move || {
                    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    if let Some(w) = lock(&wake).take() {
                        w.wake();
                    }
                });
                self.waker = Some(slot);
            }
        }
        Poll::Pending
    }
}

impl std::future::Future for Timer {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Timer::poll(self.get_mut(), cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;
    use std::time::Duration;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_latest_waker_is_woken_once_at_the_deadline_then_it_is_ready() {
        let (first, latest) = (
            Arc::new(Count(AtomicUsize::new(0))),
            Arc::new(Count(AtomicUsize::new(0))),
        );
        let mut timer = Timer::at(Instant::now() + Duration::from_millis(50));
        let waker = Waker::from(first.clone());
        assert!(timer.poll(&mut Context::from_waker(&waker)).is_pending());
        let waker = Waker::from(latest.clone());
        assert!(timer.poll(&mut Context::from_waker(&waker)).is_pending());
        let started = Instant::now();
        while latest.0.load(Ordering::SeqCst) == 0 && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            (
                first.0.load(Ordering::SeqCst),
                latest.0.load(Ordering::SeqCst)
            ),
            (0, 1)
        );
        assert!(timer.poll(&mut Context::from_waker(&waker)).is_ready());
    }
}
