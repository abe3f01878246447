//! An upgraded connection's IO, the same for every driver: a helper thread
//! opens the raw connection, writes the upgrade request and reads what
//! arrives into a [`Pipe`]; a second one writes the frames a session
//! queues in an [`Outbox`]. Sessions poll both, so that a blocking caller
//! parks and an async task is woken, and neither ever waits on the network
//! itself.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

use crate::client::driver::{Driver, read_error};
use crate::client::lifecycle::Lifecycle;
use crate::client::lock::lock;
use crate::client::pipe::{Head, Piece, Pipe, PipeReader, pump_reads};
use crate::client::transport::Tunnel;
use crate::error::{Error, Result, TransportErrorKind};
use crate::stream::{Handshake, Session, Upgraded, http1_request};

/// How many bytes may wait to be written before a session waits.
const OUTBOX_LIMIT: usize = 256 * 1024;

/// Randomness for handshake keys and masking seeds, from the standard
/// library's randomly keyed hasher (seeded from the OS; no extra crate).
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

#[derive(Default)]
struct OutState {
    queue: VecDeque<Bytes>,
    queued: usize,
    closed: bool,
    error: Option<String>,
    waker: Option<Waker>,
}

/// Frames waiting for the writer thread: bounded, so a session waits when
/// the server reads slowly.
#[derive(Default)]
struct Outbox {
    state: Mutex<OutState>,
    ready: Condvar,
}

impl Outbox {
    /// Queues `frame` unless the box is full (then `Pending`, woken when
    /// the writer makes room).
    fn poll_push(&self, cx: &mut Context<'_>, frame: &mut Option<Bytes>) -> Poll<Result<()>> {
        let mut state = lock(&self.state);
        if let Some(e) = &state.error {
            return Poll::Ready(Err(Error::Transport {
                kind: TransportErrorKind::Io,
                message: format!("writing to the upgraded connection: {e}"),
            }));
        }
        if state.queued >= OUTBOX_LIMIT {
            state.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if let Some(frame) = frame.take() {
            state.queued += frame.len();
            state.queue.push_back(frame);
            self.ready.notify_one();
        }
        Poll::Ready(Ok(()))
    }

    /// The writer's next frame; `None` once closed and empty.
    fn take(&self) -> Option<Bytes> {
        let mut state = lock(&self.state);
        loop {
            if let Some(frame) = state.queue.pop_front() {
                state.queued -= frame.len();
                if let Some(waker) = state.waker.take() {
                    waker.wake();
                }
                return Some(frame);
            }
            if state.closed {
                return None;
            }
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn fail(&self, e: &io::Error) {
        let mut state = lock(&self.state);
        state.error = Some(e.to_string());
        state.closed = true;
        state.queue.clear();
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    }

    fn close(&self) {
        lock(&self.state).closed = true;
        self.ready.notify_all();
    }
}

/// The IO ends of one upgraded connection.
pub(crate) struct Link {
    input: PipeReader,
    outbox: Arc<Outbox>,
    /// A frame the outbox had no room for yet.
    pending: Option<Bytes>,
    eof: bool,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // The writer sends what is queued (a close frame), then shuts the
        // connection down, which ends the reader.
        self.outbox.close();
    }
}

/// Opens the connection for `request` and completes the handshake,
/// offering `protocols`.
pub(crate) async fn connect<D: Driver>(
    driver: &Arc<D>,
    life: &Arc<Lifecycle>,
    request: http::Request<Bytes>,
    protocols: &[&str],
) -> Result<(Link, Upgraded)> {
    let key = [random_u64().to_le_bytes(), random_u64().to_le_bytes()].concat();
    let key: [u8; 16] = key.try_into().expect("16 bytes");
    let (mut handshake, request) = Handshake::new(request, key, protocols)?;
    let uri = request.uri().clone();
    let head = http1_request(&request);
    let pipe = Arc::new(Pipe::default());
    let outbox = Arc::new(Outbox::default());
    let (driver, reading, writing, helpers) =
        (driver.clone(), pipe.clone(), outbox.clone(), life.clone());
    let started = life.spawn("kubewire-upgrade", move || {
        let tunnel: Arc<dyn Tunnel> = match driver.open_tunnel(&uri) {
            Ok(tunnel) => Arc::from(tunnel),
            Err(e) => {
                reading.put(Piece::Head(Err(e)));
                return;
            }
        };
        if let Err(e) = tunnel.write_all(&head) {
            reading.put(Piece::Head(Err(read_error(
                "sending the upgrade request",
                &e,
            ))));
            return;
        }
        let writer = tunnel.clone();
        let started = helpers.spawn("kubewire-upgrade-writer", move || {
            while let Some(frame) = writing.take() {
                if let Err(e) = writer.write_all(&frame) {
                    writing.fail(&e);
                    break;
                }
            }
            writer.shutdown();
        });
        if let Err(e) = started {
            reading.put(Piece::Head(Err(read_error("starting the writer", &e))));
            tunnel.shutdown();
            return;
        }
        let (parts, ()) = http::Response::new(()).into_parts();
        if reading.put(Piece::Head(Ok(parts))) {
            pump_reads(&reading, |buf| tunnel.read(buf));
        }
        tunnel.shutdown();
    });
    if let Err(e) = started {
        return Err(read_error("starting the connection", &e));
    }
    let answer = async {
        let mut input = Head(Some(pipe)).await?.into_body();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = std::future::poll_fn(|cx| input.poll_read(cx, &mut buf)).await;
            let n = n.map_err(|e| read_error("reading the upgrade answer", &e))?;
            if n == 0 {
                return Err(handshake.handle_eof());
            }
            if let Some(upgraded) = handshake.handle_data(&buf[..n])? {
                return Ok((input, upgraded));
            }
        }
    };
    match answer.await {
        Ok((input, upgraded)) => Ok((
            Link {
                input,
                outbox,
                pending: None,
                eof: false,
            },
            upgraded,
        )),
        Err(e) => {
            // The writer thread ends with the box; the reader with the pipe.
            outbox.close();
            Err(e)
        }
    }
}

impl Link {
    /// Moves the frames `session` wants sent into the outbox; `Pending`
    /// while it is full.
    pub(crate) fn poll_send<S: Session>(
        &mut self,
        session: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<Result<()>> {
        loop {
            if self.pending.is_none() {
                self.pending = session.poll_transmit();
            }
            if self.pending.is_none() {
                return Poll::Ready(Ok(()));
            }
            match self.outbox.poll_push(cx, &mut self.pending) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
        }
    }

    /// Reads what has arrived into `session`: `Ready` after one chunk or
    /// the end (then `Ready` at once on every later call).
    pub(crate) fn poll_receive<S: Session>(
        &mut self,
        session: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<Result<()>> {
        if self.eof {
            return Poll::Ready(Ok(()));
        }
        let chunk = match self.input.poll_chunk(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(chunk)) => chunk,
            Poll::Ready(Err(e)) => {
                self.eof = true;
                // A connection that ends with an error after the server's
                // close frame ended cleanly.
                if session.is_closed() {
                    return Poll::Ready(Ok(()));
                }
                return Poll::Ready(Err(read_error("the upgraded connection", &e)));
            }
        };
        if chunk.is_empty() {
            self.eof = true;
            return Poll::Ready(session.handle_eof());
        }
        Poll::Ready(session.handle_data(chunk))
    }

    /// Feeds the bytes that came with the handshake's answer.
    pub(crate) fn feed_leftover<S: Session>(session: &mut S, upgraded: &Upgraded) -> Result<()> {
        if upgraded.leftover.is_empty() {
            Ok(())
        } else {
            session.handle_data(&upgraded.leftover)
        }
    }

    /// True once the connection ended.
    pub(crate) fn is_ended(&self) -> bool {
        self.eof
    }
}
