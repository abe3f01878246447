//! The async driver: [`Async`] over any [`AsyncTransport`] makes every
//! facade call a future, runnable on any executor; its waits use a
//! [`Timer`] (one thread per cluster by default, or the runtime's sleep).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;

use crate::client::blocking::block_on;
use crate::client::driver::{BoxFuture, Driver, Sealed};
use crate::client::lifecycle::Lifecycle;
use crate::client::timer::{ThreadTimer, Timer};
use crate::client::transport::{AsyncTransport, RequestKind, Tunnel};
use crate::error::Result;

/// An async transport as a [`Driver`]: `Cluster<Async<T>>` (alias
/// [`crate::AsyncCluster`]) has every method of the blocking cluster, each
/// returning a future.
///
/// ```no_run
/// # fn demo<T: kubewire::AsyncTransport + std::fmt::Debug>(transport: T) {
/// use kubewire::{Async, AsyncCluster, BoxFuture, Config};
/// let timer = |at: std::time::Instant| -> BoxFuture<'static, ()> {
///     Box::pin(async move { let _ = at; /* e.g. tokio::time::sleep_until(at.into()).await */ })
/// };
/// let cluster = AsyncCluster::with_transport(Config::default(), Async::new(transport).with_timer(timer));
/// # }
/// ```
pub struct Async<T> {
    transport: T,
    timer: Box<dyn Timer>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Async")
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncTransport> Async<T> {
    /// `transport` with the default timer ([`ThreadTimer`]).
    pub fn new(transport: T) -> Async<T> {
        Async {
            transport,
            timer: Box::new(ThreadTimer::new()),
        }
    }

    /// Waits with `timer` instead (a runtime's own sleep).
    pub fn with_timer(mut self, timer: impl Timer) -> Async<T> {
        self.timer = Box::new(timer);
        self
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

impl<T: AsyncTransport + std::fmt::Debug> Sealed for Async<T> {}

impl<T: AsyncTransport + std::fmt::Debug> Driver for Async<T> {
    type Call<'a, R: Send + 'a> = BoxFuture<'a, R>;
    type Body = T::Body;

    fn call<'a, R: Send + 'a>(future: impl Future<Output = R> + Send + 'a) -> BoxFuture<'a, R> {
        Box::pin(future)
    }

    fn wait<'a, R: Send + 'a>(call: BoxFuture<'a, R>) -> R {
        block_on(call)
    }

    fn send(
        this: &Arc<Self>,
        request: http::Request<Bytes>,
        kind: RequestKind,
        _life: &Arc<Lifecycle>,
    ) -> BoxFuture<'static, Result<http::Response<T::Body>>> {
        let this = this.clone();
        Box::pin(async move { this.transport.send(request, kind).await })
    }

    fn poll_read(
        body: Pin<&mut T::Body>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncRead::poll_read(body, cx, buf)
    }

    fn sleep_until(&self, at: Instant) -> BoxFuture<'static, ()> {
        self.timer.sleep_until(at)
    }

    fn open_tunnel(&self, uri: &http::Uri) -> Result<Box<dyn Tunnel>> {
        self.transport.open_tunnel(uri)
    }

    fn shutdown(&self) {
        self.timer.shutdown();
    }
}
