//! The seam between the facade, written once, and IO: a [`Driver`] sends
//! a request, reads a body and waits until an instant, and decides what a
//! facade call returns — the result itself (blocking) or a future of it
//! (async).
//!
//! Two drivers exist: every blocking [`Transport`](crate::Transport) is one
//! ([`crate::client::blocking`]), and [`Async`](crate::Async) makes one of
//! any [`AsyncTransport`](crate::AsyncTransport)
//! ([`crate::client::nonblocking`]).

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use bytes::Bytes;

use crate::client::lifecycle::Lifecycle;
use crate::client::transport::{RequestKind, Tunnel};
use crate::error::{Error, Result, TransportErrorKind};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// How a cluster's calls meet IO. Implemented by kubewire for every
/// blocking [`crate::Transport`] and for [`crate::Async`] over any
/// [`crate::AsyncTransport`]; implement one of those traits, not this one.
///
/// A facade method returns `D::Call<'_, R>`: for a blocking transport that
/// is `R` itself, for an async one a future of `R`:
///
/// ```no_run
/// # fn blocking(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
/// let pod = cluster.pods().fetch("web-0", Some("demo"))?;            // blocking
/// # Ok(()) }
/// # async fn nonblocking(cluster: kubewire::AsyncCluster<impl kubewire::AsyncTransport + std::fmt::Debug>) -> kubewire::Result<()> {
/// let pod = cluster.pods().fetch("web-0", Some("demo")).await?;      // async
/// # Ok(()) }
/// ```
pub trait Driver: Sealed + Send + Sync + fmt::Debug + 'static {
    /// What a facade call returns: `R` (blocking) or a future of `R`.
    type Call<'a, R: Send + 'a>;

    /// A streamed answer's body.
    type Body: Send + Unpin + 'static;

    /// Turns the facade's future into what a call returns (runs it to the
    /// end on this thread, or boxes it).
    fn call<'a, R: Send + 'a>(future: impl Future<Output = R> + Send + 'a) -> Self::Call<'a, R>;

    /// Runs a call to its end on this thread: the identity for a blocking
    /// driver; for an async one, parks the thread until the future is done
    /// (for tests and small tools; inside a runtime, `.await` instead).
    fn wait<'a, R: Send + 'a>(call: Self::Call<'a, R>) -> R;

    /// Sends one request. `life` owns any helper thread the driver starts.
    fn send(
        this: &Arc<Self>,
        request: http::Request<Bytes>,
        kind: RequestKind,
        life: &Arc<Lifecycle>,
    ) -> BoxFuture<'static, Result<http::Response<Self::Body>>>;

    /// Reads what has arrived of a body.
    fn poll_read(
        body: Pin<&mut Self::Body>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;

    /// Reads what has arrived of a body: into `buf`, or a chunk the driver
    /// already holds, handed over without a copy.
    fn poll_chunk<'b>(
        body: &'b mut Self::Body,
        cx: &mut Context<'_>,
        buf: &'b mut [u8],
    ) -> Poll<io::Result<&'b [u8]>> {
        Self::poll_read(Pin::new(body), cx, buf).map_ok(|n| &buf[..n])
    }

    /// Reads a whole body; `size` is its `Content-Length`, when given (the
    /// buffer is made that large at once, so a transport whose every read
    /// costs a hand-over is read in as few reads as it allows).
    fn read_to_end(
        body: Self::Body,
        size: Option<usize>,
    ) -> BoxFuture<'static, io::Result<Vec<u8>>> {
        let mut body = body;
        Box::pin(read_all(size, move |cx, buf| {
            Self::poll_read(Pin::new(&mut body), cx, buf)
        }))
    }

    /// Completes at `at`.
    fn sleep_until(&self, at: Instant) -> BoxFuture<'static, ()>;

    /// Opens a raw connection to the server `uri` names, for an upgrade.
    /// Blocking: the facade calls it on a helper thread.
    fn open_tunnel(&self, uri: &http::Uri) -> Result<Box<dyn Tunnel>>;

    /// Stops and joins the helper threads the driver itself started (a
    /// timer thread); called when the cluster closes.
    fn shutdown(&self) {}
}

/// Everything `poll_read` yields, to its end.
pub(crate) async fn read_all(
    size: Option<usize>,
    mut poll_read: impl FnMut(&mut Context<'_>, &mut [u8]) -> Poll<io::Result<usize>>,
) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(preallocation(size));
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = std::future::poll_fn(|cx| poll_read(cx, &mut buf)).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// The most a `Content-Length` reserves before any byte arrives: a larger
/// answer grows as it is read, and a false length costs no more than this.
const MOST_RESERVED: usize = 16 << 20;

/// What to reserve for a body of `size` bytes (one more, so the read that
/// finds its end needs no growth).
pub(crate) fn preallocation(size: Option<usize>) -> usize {
    size.map_or(0, |n| n.saturating_add(1).min(MOST_RESERVED))
}

/// The clock, read in one place: the monotonic instant for pacing,
/// retries and watch timing, the wall time for credential expiry.
pub(crate) fn now() -> (Instant, SystemTime) {
    #[allow(clippy::disallowed_methods)] // the facade's one clock reading
    let now = (Instant::now(), SystemTime::now());
    now
}

/// The error for a body that could not be read: a timeout stays a
/// timeout on every transport.
pub(crate) fn read_error(what: &str, e: &io::Error) -> Error {
    Error::Transport {
        kind: if e.kind() == io::ErrorKind::TimedOut {
            TransportErrorKind::Timeout
        } else {
            TransportErrorKind::Io
        },
        message: format!("{what}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body handed over in pieces of at most `piece` bytes.
    fn pieces(body: &[u8], piece: usize) -> io::Result<Vec<u8>> {
        let mut left = body.to_vec();
        crate::client::blocking::block_on(read_all(Some(3), move |_, buf| {
            let n = left.len().min(piece).min(buf.len());
            buf[..n].copy_from_slice(&left[..n]);
            left.drain(..n);
            Poll::Ready(Ok(n))
        }))
    }

    #[test]
    fn a_content_length_reserves_the_body_at_once_within_a_limit() {
        assert_eq!(preallocation(None), 0);
        assert_eq!(preallocation(Some(4096)), 4097);
        assert_eq!(preallocation(Some(usize::MAX)), MOST_RESERVED);
        // A length that is wrong (here 3) loses nothing: the body grows.
        let body: Vec<u8> = (0..50_000u32).map(|i| i as u8).collect();
        assert_eq!(pieces(&body, 7_000).unwrap(), body);
    }
}
