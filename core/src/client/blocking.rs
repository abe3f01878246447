//! The blocking driver: every [`Transport`] is a [`Driver`] whose calls
//! run to their end on the caller's thread.
//!
//! Ordinary requests are sent and read on that thread. A streamed answer
//! (watch, followed log) is read by a helper thread that hands its chunks
//! over, so that a watch's `next_timeout` and stop handle never wait for
//! the network. Waiting (pacing, retries, timeouts) parks the thread.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, Read};
use std::pin::{Pin, pin};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Instant;

use bytes::Bytes;

use crate::client::driver::{BoxFuture, Driver, Sealed, now, read_all};
use crate::client::lifecycle::Lifecycle;
use crate::client::transport::{RequestKind, Transport};
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
        Box::pin(Head::<T::Body>(Some(pipe), std::marker::PhantomData))
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

    fn read_to_end(body: BlockingBody<T::Body>) -> BoxFuture<'static, io::Result<Vec<u8>>> {
        match body {
            BlockingBody::Direct(mut body) => {
                let mut out = Vec::new();
                let read = body.read_to_end(&mut out).map(|_| out);
                Box::pin(std::future::ready(read))
            }
            BlockingBody::Piped(mut reader) => {
                Box::pin(read_all(move |cx, buf| reader.poll_read(cx, buf)))
            }
        }
    }

    fn sleep_until(&self, at: Instant) -> BoxFuture<'static, ()> {
        Box::pin(Deadline(at))
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

/// What the helper thread hands over.
enum Piece {
    Head(Result<http::response::Parts>),
    Chunk(Bytes),
    End(Option<io::Error>),
}

/// How many chunks may wait before the helper stops reading.
const PIPE_DEPTH: usize = 16;

#[derive(Default)]
struct PipeState {
    pieces: VecDeque<Piece>,
    waker: Option<Waker>,
    reader_gone: bool,
}

/// A bounded hand-over from a helper thread to the task reading a stream.
#[derive(Default)]
struct Pipe {
    state: Mutex<PipeState>,
    space: Condvar,
}

impl std::fmt::Debug for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pipe")
    }
}

impl Pipe {
    fn lock(&self) -> std::sync::MutexGuard<'_, PipeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands a piece over; false when the reader is gone.
    fn put(&self, piece: Piece) -> bool {
        let mut state = self.lock();
        while state.pieces.len() >= PIPE_DEPTH && !state.reader_gone {
            state = self
                .space
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.reader_gone {
            return false;
        }
        state.pieces.push_back(piece);
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
        true
    }

    /// The next piece, or `Pending` with the waker kept.
    fn poll_take(&self, cx: &mut Context<'_>) -> Poll<Piece> {
        let mut state = self.lock();
        match state.pieces.pop_front() {
            Some(piece) => {
                self.space.notify_one();
                Poll::Ready(piece)
            }
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn close_reader(&self) {
        self.lock().reader_gone = true;
        self.space.notify_all();
    }
}

/// The helper thread's work: send, then pass the head and every chunk on.
fn pump<B: Read>(pipe: &Pipe, answer: Result<http::Response<B>>) {
    let (parts, mut body) = match answer {
        Ok(response) => response.into_parts(),
        Err(e) => {
            pipe.put(Piece::Head(Err(e)));
            return;
        }
    };
    if !pipe.put(Piece::Head(Ok(parts))) {
        return;
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let piece = match body.read(&mut buf) {
            Ok(0) => Piece::End(None),
            Ok(n) => Piece::Chunk(Bytes::copy_from_slice(&buf[..n])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Piece::End(Some(e)),
        };
        let last = matches!(piece, Piece::End(_));
        if !pipe.put(piece) || last {
            return;
        }
    }
}

/// The future of a streamed answer's head.
struct Head<B>(Option<Arc<Pipe>>, std::marker::PhantomData<fn() -> B>);

impl<B> Drop for Head<B> {
    fn drop(&mut self) {
        if let Some(pipe) = self.0.take() {
            pipe.close_reader();
        }
    }
}

impl<B> Future for Head<B> {
    type Output = Result<http::Response<BlockingBody<B>>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(pipe) = self.0.as_ref() else {
            return Poll::Ready(Err(Error::Protocol("stream head polled twice".into())));
        };
        let piece = match pipe.poll_take(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(piece) => piece,
        };
        let pipe = self.0.take().expect("checked above");
        Poll::Ready(match piece {
            Piece::Head(Ok(parts)) => Ok(http::Response::from_parts(
                parts,
                BlockingBody::Piped(PipeReader {
                    pipe,
                    current: Bytes::new(),
                    handed: false,
                    done: false,
                }),
            )),
            Piece::Head(Err(e)) => Err(e),
            Piece::Chunk(_) | Piece::End(_) => {
                Err(Error::Protocol("stream body before its head".into()))
            }
        })
    }
}

/// The reading end of a streamed answer read by a helper thread.
#[derive(Debug)]
pub struct PipeReader {
    pipe: Arc<Pipe>,
    current: Bytes,
    /// `current` was handed over whole by `poll_chunk`: drop it first.
    handed: bool,
    done: bool,
}

impl PipeReader {
    /// Fills `current` with the next chunk, unless it holds bytes; `Ok(false)`
    /// at the end of the stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        if std::mem::take(&mut self.handed) {
            self.current = Bytes::new();
        }
        loop {
            if !self.current.is_empty() {
                return Poll::Ready(Ok(true));
            }
            if self.done {
                return Poll::Ready(Ok(false));
            }
            match self.pipe.poll_take(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Piece::Chunk(bytes)) => self.current = bytes,
                Poll::Ready(Piece::End(None)) => self.done = true,
                Poll::Ready(Piece::End(Some(e))) => {
                    self.done = true;
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Piece::Head(_)) => {
                    self.done = true;
                    return Poll::Ready(Err(io::Error::other("a second head in one stream")));
                }
            }
        }
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self.poll_fill(cx) {
            Poll::Ready(Ok(true)) => {
                let n = self.current.len().min(buf.len());
                buf[..n].copy_from_slice(&self.current.split_to(n));
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Ok(false)) => Poll::Ready(Ok(0)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// The next chunk as the helper thread read it, without a copy.
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        match self.poll_fill(cx) {
            Poll::Ready(Ok(true)) => {
                self.handed = true;
                Poll::Ready(Ok(&self.current))
            }
            Poll::Ready(Ok(false)) => Poll::Ready(Ok(&[])),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        self.pipe.close_reader();
    }
}
