//! Running async transports from the suite: a tiny `block_on` (no
//! runtime) and the async transport as a scenario driver. (The facade
//! suite runs on async clusters through [`crate::facade_suite!`].)

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use bytes::Bytes;
use futures_core::Stream;
use futures_io::AsyncRead;
use kubewire::{AsyncTransport, Config, RequestKind};

use crate::driver::{Body, Driver, Response};
use crate::transport_driver::Pieces;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread (any executor would do:
/// the async transports bring their own IO threads).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// The next item of a stream, blocking.
pub fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    block_on(poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)))
}

/// Drives scenarios through an async transport.
#[derive(Debug)]
pub struct AsyncTransportDriver<T> {
    name: String,
    config: Arc<Config>,
    transport: Arc<T>,
}

impl<T: AsyncTransport> AsyncTransportDriver<T> {
    /// A driver for the replay server at `base_url`.
    pub fn new(
        name: &str,
        base_url: &str,
        make: impl FnOnce(&Config) -> kubewire::Result<T>,
    ) -> AsyncTransportDriver<T> {
        let config = Config::new(base_url).expect("the replay server's URL is valid");
        let transport = make(&config).expect("the transport builds");
        AsyncTransportDriver {
            name: name.to_string(),
            config: Arc::new(config),
            transport: Arc::new(transport),
        }
    }
}

/// An async body read blocking, so the shared piece reader can use it.
struct BlockingRead<B>(B);

impl<B: AsyncRead + Unpin> std::io::Read for BlockingRead<B> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        block_on(poll_fn(|cx| Pin::new(&mut self.0).poll_read(cx, buf)))
    }
}

impl<T: AsyncTransport> Driver for AsyncTransportDriver<T> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn config(&self) -> Arc<Config> {
        self.config.clone()
    }

    fn open_tunnel(&mut self, uri: &http::Uri) -> Result<Box<dyn kubewire::Tunnel>, String> {
        self.transport.open_tunnel(uri).map_err(|e| e.to_string())
    }

    /// Like libcurl's blocking API, isahc's async answer arrives with the
    /// first body byte.
    fn head_before_body(&self) -> bool {
        false
    }

    fn send_detached(&mut self, request: http::Request<Bytes>) -> Result<(), String> {
        let transport = self.transport.clone();
        std::thread::spawn(move || drop(block_on(transport.send(request, RequestKind::Stream))));
        Ok(())
    }

    fn send(&mut self, request: http::Request<Bytes>) -> Result<Response, String> {
        let watch = request
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "watch=true"));
        let kind = if watch {
            RequestKind::Stream
        } else {
            RequestKind::Normal
        };
        let transport = self.transport.clone();
        let response = block_on(transport.send(request, kind)).map_err(|e| e.to_string())?;
        let (parts, body) = response.into_parts();
        Ok(Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: Body::new(Pieces::new(BlockingRead(body))),
        })
    }
}
