//! A runtime-agnostic timer future: a helper thread sleeps and wakes the
//! task, so the async facade needs no particular executor.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// Completes at `until`.
#[derive(Debug)]
pub(crate) struct Delay {
    until: Instant,
    shared: Arc<Mutex<(bool, Option<Waker>)>>,
    started: bool,
}

impl Delay {
    pub(crate) fn until(until: Instant) -> Delay {
        Delay {
            until,
            shared: Arc::new(Mutex::new((false, None))),
            started: false,
        }
    }
}

impl Future for Delay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.until {
            return Poll::Ready(());
        }
        {
            let mut state = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            if state.0 {
                return Poll::Ready(());
            }
            state.1 = Some(cx.waker().clone());
        }
        if !self.started {
            self.started = true;
            let (shared, until) = (self.shared.clone(), self.until);
            std::thread::spawn(move || {
                std::thread::sleep(until.saturating_duration_since(Instant::now()));
                let mut state = shared.lock().unwrap_or_else(|e| e.into_inner());
                state.0 = true;
                if let Some(w) = state.1.take() {
                    w.wake();
                }
            });
        }
        Poll::Pending
    }
}
