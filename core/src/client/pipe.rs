//! The hand-over from a helper thread that reads a connection to the task
//! that consumes it: a streamed answer (watch, followed log) on a blocking
//! driver, and every upgraded connection (exec, attach, port-forward).

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

use crate::error::{Error, Result};

/// What the helper thread hands over.
pub(crate) enum Piece {
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
pub(crate) struct Pipe {
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
    pub(crate) fn put(&self, piece: Piece) -> bool {
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
pub(crate) fn pump<B: Read>(pipe: &Pipe, answer: Result<http::Response<B>>) {
    let (parts, mut body) = match answer {
        Ok(response) => response.into_parts(),
        Err(e) => {
            pipe.put(Piece::Head(Err(e)));
            return;
        }
    };
    if pipe.put(Piece::Head(Ok(parts))) {
        pump_reads(pipe, |buf| body.read(buf));
    }
}

/// Passes every chunk `read` yields on, then the end (or the error).
pub(crate) fn pump_reads(pipe: &Pipe, mut read: impl FnMut(&mut [u8]) -> io::Result<usize>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let piece = match read(&mut buf) {
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
pub(crate) struct Head(pub(crate) Option<Arc<Pipe>>);

impl Drop for Head {
    fn drop(&mut self) {
        if let Some(pipe) = self.0.take() {
            pipe.close_reader();
        }
    }
}

impl Future for Head {
    type Output = Result<http::Response<PipeReader>>;

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
                PipeReader {
                    pipe,
                    current: Bytes::new(),
                    handed: false,
                    done: false,
                },
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

    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
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
    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
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
