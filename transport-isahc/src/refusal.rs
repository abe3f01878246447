//! A refused TLS session, told apart from a broken connection. Under TLS
//! 1.3 a server refuses a client certificate (or its absence) with an
//! alert after the handshake; libcurl reports that to isahc as a bare
//! receive failure, its words lost on the way. When a request fails so,
//! a fresh connect-only connection reads the alert itself, and the error
//! becomes a TLS error with OpenSSL's words, as on every other transport.

use std::error::Error as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use kubewire::{Error, error::TransportErrorKind};

/// True when libcurl gave up receiving (`CURLE_RECV_ERROR`).
pub(crate) fn is_receive_failure(e: &isahc::Error) -> bool {
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(curl) = err.downcast_ref::<curl::Error>() {
            return curl.is_recv_error();
        }
        source = err.source();
    }
    false
}

/// `error` as a TLS error when the server's `alert` explains it.
pub(crate) fn refused(error: Error, alert: Option<String>) -> Error {
    match (error, alert) {
        (Error::Transport { message, .. }, Some(alert)) => Error::Transport {
            kind: TransportErrorKind::Tls,
            message: format!("{message}: the server refused the TLS session: {alert}"),
        },
        (error, _) => error,
    }
}

#[derive(Default)]
struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    done: bool,
}

/// The result of work on a thread of its own, awaited without blocking
/// the executor (the diagnosis connects and waits up to a second).
pub(crate) struct OffThread<T>(Arc<Mutex<Slot<T>>>);

/// Runs `work` on a new thread; `None` if the thread could not start.
pub(crate) fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> OffThread<Option<T>> {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
        done: false,
    }));
    let filling = slot.clone();
    let started = std::thread::Builder::new()
        .name("kubewire-tls-diagnosis".into())
        .spawn(move || {
            let value = work();
            let mut slot = filling.lock().unwrap_or_else(PoisonError::into_inner);
            slot.value = Some(Some(value));
            slot.done = true;
            if let Some(w) = slot.waker.take() {
                w.wake();
            }
        });
    if started.is_err() {
        let mut s = slot.lock().unwrap_or_else(PoisonError::into_inner);
        s.value = Some(None);
        s.done = true;
    }
    OffThread(slot)
}

impl<T> Future for OffThread<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.done
            && let Some(value) = slot.value.take()
        {
            return Poll::Ready(value);
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
