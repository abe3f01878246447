//! Any [`kubewire::Transport`] as a scenario driver: how transport crates
//! join the suite.

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use kubewire::{Config, RequestKind, Transport};

use crate::driver::{Body, BodyError, Driver, Response};

/// Drives scenarios through a transport, over real loopback sockets to the
/// replay server.
#[derive(Debug)]
pub struct TransportDriver<T> {
    name: String,
    head_before_body: bool,
    config: Arc<Config>,
    transport: Arc<T>,
}

impl<T: Transport> TransportDriver<T> {
    /// A driver for the replay server at `base_url`, with the transport
    /// `make` builds for its configuration.
    pub fn new(
        name: &str,
        base_url: &str,
        make: impl FnOnce(&Config) -> kubewire::Result<T>,
    ) -> TransportDriver<T> {
        let config = Config::new(base_url).expect("the replay server's URL is valid");
        let transport = make(&config).expect("the transport builds");
        TransportDriver {
            name: name.to_string(),
            head_before_body: true,
            config: Arc::new(config),
            transport: Arc::new(transport),
        }
    }
}

impl<T> TransportDriver<T> {
    /// Declares that the transport's `send` returns only at the first body
    /// byte (see [`Driver::head_before_body`]).
    pub fn head_after_first_byte(mut self) -> TransportDriver<T> {
        self.head_before_body = false;
        self
    }
}

/// Reads a blocking body piece by piece (one read each).
pub(crate) struct Pieces<B> {
    body: B,
    done: bool,
}

impl<B> Pieces<B> {
    pub(crate) fn new(body: B) -> Pieces<B> {
        Pieces { body, done: false }
    }
}

impl<B: Read> Iterator for Pieces<B> {
    type Item = Result<Bytes, BodyError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.body.read(&mut buf) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(n) => {
                    buf.truncate(n);
                    return Some(Ok(Bytes::from(buf)));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    return Some(Err(if e.kind() == std::io::ErrorKind::TimedOut {
                        BodyError::Io(e.to_string())
                    } else {
                        BodyError::Cut
                    }));
                }
            }
        }
    }
}

impl<T: Transport> Driver for TransportDriver<T> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn config(&self) -> Arc<Config> {
        self.config.clone()
    }

    fn head_before_body(&self) -> bool {
        self.head_before_body
    }

    fn send_detached(&mut self, request: http::Request<Bytes>) -> Result<(), String> {
        if self.head_before_body {
            return self.send(request).map(drop);
        }
        // The answer comes only with a first body byte that an idle watch
        // never sends: let a thread wait for it (it ends when the replay
        // server closes the connection).
        let transport = self.transport.clone();
        std::thread::spawn(move || drop(transport.send(request, RequestKind::Stream)));
        Ok(())
    }

    fn open_tunnel(&mut self, uri: &http::Uri) -> Result<Box<dyn kubewire::Tunnel>, String> {
        self.transport.open_tunnel(uri).map_err(|e| e.to_string())
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
        let response = self
            .transport
            .send(request, kind)
            .map_err(|e| e.to_string())?;
        let (parts, body) = response.into_parts();
        Ok(Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: Body::new(Pieces::new(body)),
        })
    }
}
