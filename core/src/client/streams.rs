//! Streamed answers read as they arrive: a followed log's lines and a
//! proxy watch's raw events. Each is a `Stream` on every driver and an
//! `Iterator` on a blocking one, and ends when the cluster closes.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::client::driver::{Driver, read_error};
use crate::client::lifecycle::Stop;
use crate::client::polled::{Polled, polled};
use crate::error::Result;
use crate::logs::{LineDecoder, LogLine};
use crate::watch::decoder::WatchDecoder;
use crate::watch::event::WatchEvent;

/// What turns a stream's bytes into its items.
trait Decode: Send {
    type Out;
    fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<Self::Out>>);
    fn finish(&mut self, out: &mut VecDeque<Result<Self::Out>>);
}

impl Decode for LineDecoder {
    type Out = LogLine;
    fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<LogLine>>) {
        out.extend(LineDecoder::feed(self, bytes).into_iter().map(Ok));
    }
    fn finish(&mut self, out: &mut VecDeque<Result<LogLine>>) {
        out.extend(LineDecoder::finish(self).map(Ok));
    }
}

impl Decode for WatchDecoder {
    type Out = WatchEvent;
    fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<WatchEvent>>) {
        WatchDecoder::feed(self, bytes);
        while let Some(event) = self.next_event() {
            out.push_back(event);
        }
    }
    fn finish(&mut self, out: &mut VecDeque<Result<WatchEvent>>) {
        out.extend(WatchDecoder::finish(self));
    }
}

/// A body decoded as it arrives.
struct Decoded<D: Driver, X: Decode> {
    body: D::Body,
    decoder: X,
    ready: VecDeque<Result<X::Out>>,
    buf: Vec<u8>,
    done: bool,
    stop: Arc<Stop>,
    what: &'static str,
}

impl<D: Driver, X: Decode> Decoded<D, X> {
    fn new(stop: Arc<Stop>, body: D::Body, decoder: X, what: &'static str) -> Self {
        Decoded {
            body,
            decoder,
            ready: VecDeque::new(),
            buf: vec![0u8; 16 * 1024],
            done: false,
            stop,
            what,
        }
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<X::Out>>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Poll::Ready(Some(item));
            }
            if self.done || self.stop.is_stopped() {
                self.done = true;
                return Poll::Ready(None);
            }
            self.stop.park(cx.waker());
            match D::poll_read(Pin::new(&mut self.body), cx, &mut self.buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => {
                    self.done = true;
                    self.decoder.finish(&mut self.ready);
                }
                Poll::Ready(Ok(n)) => self.decoder.feed(&self.buf[..n], &mut self.ready),
                Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(read_error(self.what, &e))));
                }
            }
        }
    }
}

macro_rules! decoded_stream {
    ($(#[$doc:meta])* $name:ident, $decoder:ty, $out:ty) => {
        $(#[$doc])*
        pub struct $name<D: Driver>(Decoded<D, $decoder>);

        impl<D: Driver> Unpin for $name<D> {}

        impl<D: Driver> std::fmt::Debug for $name<D> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("done", &self.0.done)
                    .finish_non_exhaustive()
            }
        }

        impl<D: Driver> $name<D> {
            /// Ends the stream: the connection is dropped.
            pub fn close(&mut self) {
                self.0.stop.stop();
            }
        }

        impl<D: Driver> Polled for $name<D> {
            type Item = Result<$out>;

            fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                self.0.poll_item(cx)
            }
        }

        polled!($name => Result<$out>);
    };
}

decoded_stream!(
    /// The lines of a followed log, read as they arrive (see
    /// [`crate::ClusterView::follow_logs`]).
    LogLines,
    LineDecoder,
    LogLine
);

decoded_stream!(
    /// Raw watch events from [`crate::client::ClusterProxy::watch`], ending with
    /// the stream (no resume: see the views' `watch` for that).
    ProxyWatch,
    WatchDecoder,
    WatchEvent
);

impl<D: Driver> LogLines<D> {
    pub(crate) fn new(stop: Arc<Stop>, body: D::Body, timestamps: bool) -> LogLines<D> {
        LogLines(Decoded::new(
            stop,
            body,
            LineDecoder::new(timestamps),
            "log stream",
        ))
    }
}

impl<D: Driver> ProxyWatch<D> {
    pub(crate) fn new(stop: Arc<Stop>, body: D::Body) -> ProxyWatch<D> {
        ProxyWatch(Decoded::new(
            stop,
            body,
            WatchDecoder::new(),
            "watch stream",
        ))
    }
}
