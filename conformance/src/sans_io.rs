//! The sans-IO runner: fixture responses fed straight into the core,
//! re-chunked, with no sockets at all.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use kubewire::Config;

use crate::chunking::Chunking;
use crate::driver::{Body, BodyError, Driver, Response};
use crate::fixture::{Chunk, End, Fixture, ResponseBody};
use crate::listener::lock;
use crate::matching::ActualRequest;
use crate::script::{Report, Script};
use crate::tunnel::SansIoTunnel;

/// Answers requests from a fixture in memory, splitting every body with a
/// [`Chunking`]. Mismatches are answered `599`, as the replay server does.
#[derive(Debug)]
pub struct SansIoDriver {
    script: Arc<Mutex<Script>>,
    chunking: Chunking,
    config: Arc<Config>,
}

impl SansIoDriver {
    /// A driver over `fixtures` with `chunking`.
    pub fn new(fixtures: Vec<Fixture>, chunking: Chunking) -> SansIoDriver {
        SansIoDriver {
            script: Arc::new(Mutex::new(Script::new(fixtures))),
            chunking,
            config: Arc::new(Config::default()),
        }
    }

    /// What happened so far.
    pub fn report(&self) -> Report {
        lock(&self.script).report()
    }

    /// A connection for an upgrade, answered from the same script.
    pub fn tunnel(&self) -> SansIoTunnel {
        SansIoTunnel::new(self.script.clone(), self.chunking)
    }
}

fn actual(request: &http::Request<Bytes>) -> ActualRequest {
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_string();
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    ActualRequest::from_target(
        request.method().as_str(),
        &target,
        headers,
        request.body().to_vec(),
    )
}

impl Driver for SansIoDriver {
    fn name(&self) -> String {
        format!("sans-io/{:?}", self.chunking)
    }

    fn config(&self) -> Arc<Config> {
        self.config.clone()
    }

    fn open_tunnel(&mut self, _uri: &http::Uri) -> Result<Box<dyn kubewire::Tunnel>, String> {
        Ok(Box::new(self.tunnel()))
    }

    fn send(&mut self, request: http::Request<Bytes>) -> Result<Response, String> {
        let taken = lock(&self.script).take(&actual(&request));
        let exchange = match taken {
            Ok(e) => e,
            Err(mismatch) => {
                let text = Bytes::from(serde_json::to_vec_pretty(&mismatch).unwrap_or_default());
                return Ok(Response {
                    status: 599,
                    headers: http::HeaderMap::new(),
                    body: Body::new(std::iter::once(Ok(text))),
                });
            }
        };
        let resp = exchange.response;
        let mut headers = http::HeaderMap::new();
        for (k, v) in &resp.headers {
            if let (Ok(k), Ok(v)) = (
                http::HeaderName::from_bytes(k.as_bytes()),
                http::HeaderValue::from_str(v),
            ) {
                headers.append(k, v);
            }
        }
        let recorded = match resp.body {
            ResponseBody::Chunks(c) => c,
            other => vec![Chunk {
                bytes: other.bytes(),
                delay_ms: 0,
            }],
        };
        let pieces: Vec<Result<Bytes, BodyError>> = self
            .chunking
            .split(&recorded)
            .into_iter()
            .filter(|c| !c.bytes.is_empty())
            .map(|c| Ok(Bytes::from(c.bytes)))
            .chain(match resp.end {
                End::Complete => None,
                End::Cut => Some(Err(BodyError::Cut)),
                End::Hang => Some(Err(BodyError::Hang)),
            })
            .collect();
        Ok(Response {
            status: resp.status,
            headers,
            body: Body::new(pieces.into_iter()),
        })
    }
}

/// The sans-IO runner as a [`kubewire::Transport`], so the blocking facade
/// itself runs without sockets. A body that hangs blocks its reader, as a
/// real idle stream would (the facade reads streams on a helper thread),
/// until the replay's report is taken: then it ends like a dropped
/// connection.
#[derive(Debug, Clone)]
pub struct SansIoTransport {
    driver: std::sync::Arc<std::sync::Mutex<SansIoDriver>>,
    hung: std::sync::Arc<Hung>,
}

/// The readers of hanging bodies, released when the replay ends.
#[derive(Debug, Default)]
struct Hung {
    released: std::sync::atomic::AtomicBool,
    readers: std::sync::Mutex<Vec<std::thread::Thread>>,
}

impl Hung {
    /// Blocks until the replay ends.
    fn wait(&self) {
        use std::sync::atomic::Ordering;
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(std::thread::current());
        while !self.released.load(Ordering::Acquire) {
            std::thread::park();
        }
    }

    fn release(&self) {
        self.released
            .store(true, std::sync::atomic::Ordering::Release);
        for reader in self
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            reader.unpark();
        }
    }
}

impl SansIoTransport {
    /// A transport answering from `driver`.
    pub fn new(driver: SansIoDriver) -> SansIoTransport {
        SansIoTransport {
            driver: std::sync::Arc::new(std::sync::Mutex::new(driver)),
            hung: std::sync::Arc::default(),
        }
    }

    /// A function returning what the replay saw; hanging bodies end then.
    pub fn reporter(&self) -> impl FnOnce() -> Report + 'static {
        let (driver, hung) = (self.driver.clone(), self.hung.clone());
        move || {
            hung.release();
            driver.lock().unwrap_or_else(|e| e.into_inner()).report()
        }
    }
}

/// Reads a fixture body piece by piece, as the runner split it.
pub struct PieceReader {
    body: Body,
    current: Bytes,
    hung: std::sync::Arc<Hung>,
}

impl std::fmt::Debug for PieceReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PieceReader")
    }
}

impl std::io::Read for PieceReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.body.next_piece() {
                None => return Ok(0),
                Some(Ok(piece)) => self.current = piece,
                Some(Err(BodyError::Hang)) => {
                    self.hung.wait();
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "the replay ended",
                    ));
                }
                Some(Err(e)) => {
                    return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, e));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

impl kubewire::Transport for SansIoTransport {
    type Body = PieceReader;

    fn send(
        &self,
        request: http::Request<Bytes>,
        _kind: kubewire::RequestKind,
    ) -> kubewire::Result<http::Response<PieceReader>> {
        let response = self
            .driver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(request)
            .map_err(kubewire::Error::Protocol)?;
        let mut out = http::Response::new(PieceReader {
            body: response.body,
            current: Bytes::new(),
            hung: self.hung.clone(),
        });
        *out.status_mut() = http::StatusCode::from_u16(response.status)
            .map_err(|e| kubewire::Error::Protocol(e.to_string()))?;
        *out.headers_mut() = response.headers;
        Ok(out)
    }

    fn open_tunnel(&self, _uri: &http::Uri) -> kubewire::Result<Box<dyn kubewire::Tunnel>> {
        Ok(Box::new(lock(&self.driver).tunnel()))
    }
}
