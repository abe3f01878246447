//! The blocking driver: every [`Transport`] is a [`Driver`] whose calls
//! run to their end on the caller's thread.
//!
//! Ordinary requests are sent and read on that thread. A streamed answer
//! (watch, followed log) is read by a helper thread that hands its chunks
//! over, so that a watch's `next_timeout` and stop handle never wait for
//! the network. Waiting (pacing, retries, timeouts) parks the thread.

use std::cell::Cell;
use std::future::Future;
use std::io::{self, Read};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Instant;

use bytes::Bytes;

use crate::client::driver::{BoxFuture, Driver, Sealed, now, preallocation, read_all};
use crate::client::lifecycle::Lifecycle;
pub use crate::client::pipe::PipeReader;
use crate::client::pipe::{Head, Pipe, pump};
use crate::client::transport::{RequestKind, Transport, Tunnel};
use crate::error::{Error, Result, TransportErrorKind};

impl<T: Transport + std::fmt::Debug> Sealed for T {}

impl<T: Transport + std::fmt::Debug> Driver for T {
    type Call<'a, R: Send + 'a> = R;
    type Body = BlockingBody<T::Body>;

    fn call<'a, R: Send + 'a>(future: impl Future<Output = R> + Send + 'a) -> R {
        block_on(future)
    }

    fn wait<'a, R: Send + 'a>(call: R) -> R {
        call
    }

    fn send(
        this: &Arc<T>,
        request: http::Request<Bytes>,
        kind: RequestKind,
        life: &Arc<Lifecycle>,
    ) -> BoxFuture<'static, Result<http::Response<BlockingBody<T::Body>>>> {
        if kind == RequestKind::Normal {
            let answer = this
                .send(request, kind)
                .map(|r| r.map(BlockingBody::Direct));
            return Box::pin(std::future::ready(answer));
        }
        let pipe = Arc::new(Pipe::default());
        let (transport, writer) = (this.clone(), pipe.clone());
        let started = life.spawn("kubewire-stream", move || {
            pump(&writer, transport.send(request, kind));
        });
        if let Err(e) = started {
            return Box::pin(std::future::ready(Err(Error::Transport {
                kind: TransportErrorKind::Io,
                message: format!("cannot start the stream reader: {e}"),
            })));
        }
        let head = Head(Some(pipe));
        Box::pin(async move { head.await.map(|r| r.map(BlockingBody::Piped)) })
    }

    fn poll_read(
        body: Pin<&mut BlockingBody<T::Body>>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match body.get_mut() {
            BlockingBody::Direct(body) => Poll::Ready(loop {
                match body.read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    other => break other,
                }
            }),
            BlockingBody::Piped(reader) => reader.poll_read(cx, buf),
        }
    }

    fn poll_chunk<'b>(
        body: &'b mut BlockingBody<T::Body>,
        cx: &mut Context<'_>,
        buf: &'b mut [u8],
    ) -> Poll<io::Result<&'b [u8]>> {
        match body {
            BlockingBody::Piped(reader) => reader.poll_chunk(cx),
            BlockingBody::Direct(_) => {
                Self::poll_read(Pin::new(body), cx, buf).map_ok(|n| &buf[..n])
            }
        }
    }

    fn read_to_end(
        body: BlockingBody<T::Body>,
        size: Option<usize>,
    ) -> BoxFuture<'static, io::Result<Vec<u8>>> {
        match body {
            BlockingBody::Direct(mut body) => {
                let mut out = Vec::with_capacity(preallocation(size));
                let read = body.read_to_end(&mut out).map(|_| out);
                Box::pin(std::future::ready(read))
            }
            BlockingBody::Piped(mut reader) => {
                Box::pin(read_all(size, move |cx, buf| reader.poll_read(cx, buf)))
            }
        }
    }

    fn sleep_until(&self, at: Instant) -> BoxFuture<'static, ()> {
        Box::pin(Deadline(at))
    }

    fn open_tunnel(&self, uri: &http::Uri) -> Result<Box<dyn Tunnel>> {
        Transport::open_tunnel(self, uri)
    }
}

/// The body of a blocking answer: read in place, or handed over by the
/// helper thread of a streamed answer.
#[derive(Debug)]
pub enum BlockingBody<B> {
    /// An ordinary answer, read on the caller's thread.
    Direct(B),
    /// A streamed answer, read by a helper thread.
    Piped(PipeReader),
}

// Nothing is structurally pinned: a body is read through `&mut`.
impl<B> Unpin for BlockingBody<B> {}

thread_local! {
    /// The earliest deadline a future polled by [`block_on`] waits for.
    static WAKE_AT: Cell<Option<Instant>> = const { Cell::new(None) };
    /// True while [`block_on`] polls on this thread.
    static IN_BLOCK_ON: Cell<bool> = const { Cell::new(false) };
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to its end on this thread, parking while it waits: until
/// woken, or until the earliest [`Deadline`] it polled.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        let outer = WAKE_AT.replace(None);
        let nested = IN_BLOCK_ON.replace(true);
        let polled = future.as_mut().poll(&mut cx);
        IN_BLOCK_ON.set(nested);
        let wake_at = WAKE_AT.replace(outer);
        if let Poll::Ready(value) = polled {
            return value;
        }
        match wake_at {
            Some(at) => {
                let left = at.saturating_duration_since(now().0);
                if !left.is_zero() {
                    std::thread::park_timeout(left);
                }
            }
            None => std::thread::park(),
        }
    }
}

/// A timer for [`block_on`]: pending until its instant, which it leaves for
/// `block_on` to park until. Polled elsewhere, it asks to be polled again.
#[derive(Debug)]
struct Deadline(Instant);

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let at = self.0;
        if now().0 >= at {
            return Poll::Ready(());
        }
        if IN_BLOCK_ON.get() {
            WAKE_AT.set(Some(WAKE_AT.get().map_or(at, |t| t.min(at))));
        } else {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}
