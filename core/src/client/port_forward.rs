//! Port-forward through the facade: one duplex stream per forwarded port
//! over one upgraded connection (`Read + Write` on a blocking transport,
//! `AsyncRead + AsyncWrite` on an async one), and a local listener that
//! forwards each accepted connection as `kubectl port-forward` does.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;

use crate::client::driver::Driver;
use crate::client::lifecycle::Stop;
use crate::client::link::{Link, random_u64};
use crate::client::view::ClusterView;
use crate::error::Result;
use crate::items::pod::Pod;
use crate::stream::{ChannelProtocol, Masks, PortEvent, PortForwardSession, WebSocket};

/// The largest message sent at once on a port.
const PORT_MESSAGE: usize = 32 * 1024;

/// Wakes every port stream waiting on the shared connection: whichever
/// stream polls the connection, the data it reads may be another's.
#[derive(Default)]
struct FanOut(Mutex<Vec<Waker>>);

impl FanOut {
    fn register(&self, waker: &Waker) {
        let mut wakers = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !wakers.iter().any(|w| w.will_wake(waker)) {
            wakers.push(waker.clone());
        }
    }
}

impl Wake for FanOut {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let wakers = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for waker in wakers {
            waker.wake();
        }
    }
}

struct State {
    link: Link,
    session: PortForwardSession,
    inbox: Vec<VecDeque<Bytes>>,
    errors: Vec<Option<String>>,
    /// What ended the whole connection, for every stream to report.
    failure: Option<String>,
    ended: bool,
    open_streams: usize,
}

struct Forward {
    state: Mutex<State>,
    fanout: Arc<FanOut>,
    waker: Waker,
    stop: Arc<Stop>,
}

impl Forward {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Hands the session's events to the ports' inboxes.
    fn distribute(&mut self) {
        while let Some(event) = self.session.poll_event() {
            match event {
                PortEvent::Data { index, bytes } => self.inbox[index].push_back(bytes),
                PortEvent::Error { index, message } => {
                    let slot = &mut self.errors[index];
                    *slot = Some(match slot.take() {
                        Some(before) => before + &message,
                        None => message,
                    });
                }
                PortEvent::Closed => self.ended = true,
            }
        }
    }

    /// Reads what the connection has into the inboxes; `false` when
    /// nothing was there.
    fn receive(&mut self, cx: &mut Context<'_>) -> bool {
        let read = self.link.poll_receive(&mut self.session, cx);
        self.distribute();
        match read {
            Poll::Pending => false,
            Poll::Ready(Ok(())) => {
                self.ended |= self.link.is_ended();
                true
            }
            Poll::Ready(Err(e)) => {
                self.failure.get_or_insert_with(|| e.to_string());
                self.ended = true;
                true
            }
        }
    }
}

fn gone(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, what.to_string())
}

/// One forwarded port of a [`ClusterView::port_forward`] session: bytes
/// written go to the port in the pod, bytes read come from it. A server
/// error on this port (nothing listening) is this stream's read error;
/// the other ports keep working.
pub struct PortStream<D: Driver> {
    forward: Arc<Forward>,
    index: usize,
    port: u16,
    _driver: std::marker::PhantomData<fn() -> D>,
}

impl<D: Driver> std::fmt::Debug for PortStream<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortStream")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl<D: Driver> ClusterView<D, Pod> {
    /// Forwards `ports` of a pod over one connection: one duplex stream
    /// per port, in the order given.
    pub fn port_forward<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        ports: &'a [u16],
    ) -> D::Call<'a, Result<Vec<PortStream<D>>>> {
        D::call(async move {
            let request = self
                .view()
                .object_endpoint(namespace)?
                .port_forward(name, ports)?;
            let cluster = self.cluster();
            let offer: Vec<&str> = ChannelProtocol::PORT_FORWARD_OFFER
                .iter()
                .map(|p| p.name())
                .collect();
            let (link, upgraded) = cluster.upgrade(request, &offer).await?;
            let protocol = ChannelProtocol::negotiated(upgraded.protocol.as_deref())?;
            let ws = WebSocket::new(Masks::new(random_u64()), crate::stream::DEFAULT_MAX_MESSAGE);
            let mut session = PortForwardSession::new(ws, protocol, ports)?;
            let failure = Link::feed_leftover(&mut session, &upgraded)
                .err()
                .map(|e| e.to_string());
            let fanout = Arc::new(FanOut::default());
            let mut state = State {
                link,
                session,
                inbox: vec![VecDeque::new(); ports.len()],
                errors: vec![None; ports.len()],
                failure,
                ended: false,
                open_streams: ports.len(),
            };
            state.distribute();
            let forward = Arc::new(Forward {
                state: Mutex::new(state),
                waker: Waker::from(fanout.clone()),
                fanout,
                stop: cluster.life().stream(),
            });
            Ok(ports
                .iter()
                .enumerate()
                .map(|(index, &port)| PortStream {
                    forward: forward.clone(),
                    index,
                    port,
                    _driver: std::marker::PhantomData,
                })
                .collect())
        })
    }
}

impl<D: Driver> PortStream<D> {
    /// The forwarded port in the pod.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Reads what the pod sent (`Ok(0)` once the connection ended): the
    /// same call on every driver, as `Read::read` (blocking) and
    /// `AsyncReadExt::read` (async) are.
    pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> D::Call<'a, io::Result<usize>> {
        D::call(poll_fn(move |cx| self.poll_read_port(cx, buf)))
    }

    /// Writes all of `data` to the port: the same call on every driver.
    pub fn write_all<'a>(&'a mut self, mut data: &'a [u8]) -> D::Call<'a, io::Result<()>> {
        D::call(async move {
            while !data.is_empty() {
                let n = poll_fn(|cx| self.poll_write_port(cx, data)).await?;
                data = &data[n..];
            }
            poll_fn(|cx| self.poll_flush_port(cx)).await
        })
    }

    /// Ends the whole port-forward connection (every port): the server
    /// answers the close, and reads then end.
    pub fn close(&mut self) -> D::Call<'_, io::Result<()>> {
        self.forward.lock().session.close();
        D::call(poll_fn(move |cx| self.poll_flush_port(cx)))
    }

    fn poll_read_port(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let forward = &*self.forward;
        let mut guard = forward.lock();
        let state = &mut *guard;
        let mut shared = Context::from_waker(&forward.waker);
        loop {
            let _ = state.link.poll_send(&mut state.session, &mut shared);
            if let Some(front) = state.inbox[self.index].front_mut() {
                let n = front.len().min(buf.len());
                buf[..n].copy_from_slice(&front.split_to(n));
                if front.is_empty() {
                    state.inbox[self.index].pop_front();
                }
                return Poll::Ready(Ok(n));
            }
            if let Some(message) = state.errors[self.index].take() {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    message,
                )));
            }
            if let Some(failure) = &state.failure {
                return Poll::Ready(Err(io::Error::other(failure.clone())));
            }
            if state.ended {
                return Poll::Ready(Ok(0));
            }
            if forward.stop.is_stopped() {
                return Poll::Ready(Err(gone("the cluster was closed")));
            }
            forward.fanout.register(cx.waker());
            forward.stop.park(&forward.waker);
            if !state.receive(&mut shared) {
                return Poll::Pending;
            }
        }
    }

    fn poll_write_port(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let forward = &*self.forward;
        let mut state = forward.lock();
        if state.ended || forward.stop.is_stopped() {
            return Poll::Ready(Err(gone("the port-forward connection is closed")));
        }
        let mut shared = Context::from_waker(&forward.waker);
        forward.fanout.register(cx.waker());
        let state = &mut *state;
        match state.link.poll_send(&mut state.session, &mut shared) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(io::Error::other(e.to_string()))),
            Poll::Ready(Ok(())) => {}
        }
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = data.len().min(PORT_MESSAGE);
        if let Err(e) = state.session.send(self.index, &data[..n]) {
            return Poll::Ready(Err(io::Error::other(e.to_string())));
        }
        let _ = state.link.poll_send(&mut state.session, &mut shared);
        Poll::Ready(Ok(n))
    }

    fn poll_flush_port(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let forward = &*self.forward;
        let mut state = forward.lock();
        let mut shared = Context::from_waker(&forward.waker);
        forward.fanout.register(cx.waker());
        let state = &mut *state;
        state
            .link
            .poll_send(&mut state.session, &mut shared)
            .map_err(|e| io::Error::other(e.to_string()))
    }
}

impl<D: Driver> Clone for PortStream<D> {
    /// Another handle on the same port (e.g. one thread reads while
    /// another writes); the connection closes with the last handle.
    fn clone(&self) -> Self {
        self.forward.lock().open_streams += 1;
        PortStream {
            forward: self.forward.clone(),
            index: self.index,
            port: self.port,
            _driver: std::marker::PhantomData,
        }
    }
}

impl<D: Driver> Drop for PortStream<D> {
    fn drop(&mut self) {
        let forward = &*self.forward;
        let mut state = forward.lock();
        state.open_streams -= 1;
        if state.open_streams == 0 {
            // The last stream ends the session: close, sent by the writer.
            state.session.close();
            let state = &mut *state;
            let _ = state
                .link
                .poll_send(&mut state.session, &mut Context::from_waker(&forward.waker));
        }
        drop(state);
        forward.waker.wake_by_ref();
    }
}

impl<T: crate::Transport + std::fmt::Debug> io::Read for PortStream<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        crate::client::blocking::block_on(poll_fn(|cx| self.poll_read_port(cx, buf)))
    }
}

impl<T: crate::Transport + std::fmt::Debug> io::Write for PortStream<T> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        crate::client::blocking::block_on(poll_fn(|cx| self.poll_write_port(cx, data)))
    }

    fn flush(&mut self) -> io::Result<()> {
        crate::client::blocking::block_on(poll_fn(|cx| self.poll_flush_port(cx)))
    }
}

type AsyncStream<T> = PortStream<crate::client::nonblocking::Async<T>>;

impl<T: crate::AsyncTransport + std::fmt::Debug> futures_io::AsyncRead for AsyncStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_port(cx, buf)
    }
}

impl<T: crate::AsyncTransport + std::fmt::Debug> futures_io::AsyncWrite for AsyncStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_port(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_port(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_port(cx)
    }
}
