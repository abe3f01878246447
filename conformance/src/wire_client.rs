//! A plain HTTP/1.1 client over `std::net::TcpStream`: the suite's driver
//! when no transport crate is involved, and the recorder's upstream client.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bytes::Bytes;
use kubewire::Config;

use crate::driver::{Body, BodyError, Driver, Response};
use crate::http1::{self, Framing, ReadError, ResponseHead, Wire};

static NEVER: AtomicBool = AtomicBool::new(false);

/// How long the driver waits for a byte before failing the read.
const IDLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Sends each request on a fresh loopback connection and reads the
/// response as it arrives, chunk boundaries included.
#[derive(Debug)]
pub struct WireDriver {
    config: Arc<Config>,
}

impl WireDriver {
    /// A driver for the server at `base_url` (plain `http` on loopback).
    pub fn new(base_url: &str) -> Result<WireDriver, String> {
        let config = Config::new(base_url).map_err(|e| e.to_string())?;
        if config.is_https() {
            return Err("the wire driver speaks plain HTTP only".into());
        }
        Ok(WireDriver {
            config: Arc::new(config),
        })
    }
}

/// Sends `request` to `authority` and returns the response head and the
/// connection positioned at the body.
pub(crate) fn exchange(
    authority: &str,
    request: &http::Request<Bytes>,
    idle_limit: Option<std::time::Duration>,
) -> Result<(ResponseHead, Wire), String> {
    let stream = TcpStream::connect(authority).map_err(|e| format!("connect {authority}: {e}"))?;
    let mut wire = Wire::new(stream).map_err(|e| e.to_string())?;
    wire.set_idle_limit(idle_limit);
    let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nhost: {authority}\r\n",
        request.method()
    );
    for (k, v) in request.headers() {
        if k == http::header::HOST
            || k == http::header::CONTENT_LENGTH
            || k == http::header::CONNECTION
        {
            continue;
        }
        head.push_str(&format!(
            "{k}: {}\r\n",
            String::from_utf8_lossy(v.as_bytes())
        ));
    }
    if kubewire::client::sends_body(request.method(), request.body()) {
        head.push_str(&format!("content-length: {}\r\n", request.body().len()));
    }
    head.push_str("connection: close\r\n\r\n");
    let s = wire.stream();
    s.write_all(head.as_bytes())
        .and_then(|_| s.write_all(request.body()))
        .and_then(|_| s.flush())
        .map_err(|e| format!("send: {e}"))?;
    let resp = wire
        .read_response_head(&NEVER)
        .map_err(|e| format!("response head: {e}"))?;
    Ok((resp, wire))
}

/// Reads a body piece by piece: one piece per HTTP chunk, or per read.
pub(crate) struct Pieces {
    wire: Wire,
    framing: Framing,
    left: usize,
    done: bool,
}

impl Pieces {
    pub(crate) fn new(
        wire: Wire,
        status: u16,
        headers: &[(String, String)],
        method: &str,
    ) -> Pieces {
        let no_body = method == "HEAD" || status == 204 || status == 304 || status < 200;
        let framing = if no_body {
            Framing::Length(0)
        } else {
            http1::framing(headers, Framing::Close).unwrap_or(Framing::Close)
        };
        let left = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        Pieces {
            wire,
            framing,
            left,
            done: false,
        }
    }
}

fn body_error(e: ReadError) -> BodyError {
    match e {
        ReadError::Closed => BodyError::Cut,
        other => BodyError::Io(other.to_string()),
    }
}

impl Iterator for Pieces {
    type Item = Result<Bytes, BodyError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let piece = match self.framing {
            Framing::Chunked => self.wire.read_chunk(&NEVER).map_err(body_error),
            Framing::Length(0) => Ok(None),
            Framing::Length(n) => {
                let want = self.left.min(64 * 1024).min(n);
                match self.wire.read_exact(want, &NEVER) {
                    Ok(b) => {
                        self.left -= b.len();
                        Ok(Some(b))
                    }
                    Err(e) => Err(body_error(e)),
                }
            }
            Framing::Close => self
                .wire
                .read_to_close(&NEVER)
                .map(Some)
                .map_err(body_error),
        };
        match piece {
            Ok(Some(b)) => {
                if matches!(self.framing, Framing::Close)
                    || (matches!(self.framing, Framing::Length(_)) && self.left == 0)
                {
                    self.framing = Framing::Length(0);
                }
                Some(Ok(Bytes::from(b)))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl Driver for WireDriver {
    fn name(&self) -> String {
        "wire".into()
    }

    fn config(&self) -> Arc<Config> {
        self.config.clone()
    }

    fn open_tunnel(&mut self, uri: &http::Uri) -> Result<Box<dyn kubewire::Tunnel>, String> {
        let authority = uri.authority().ok_or("a URI without authority")?;
        let stream = TcpStream::connect(authority.as_str()).map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Box::new(TcpTunnel(stream)))
    }

    fn send(&mut self, request: http::Request<Bytes>) -> Result<Response, String> {
        let authority = request
            .uri()
            .authority()
            .map(|a| a.to_string())
            .ok_or("request without authority")?;
        let (head, wire) = exchange(&authority, &request, Some(IDLE_LIMIT))?;
        let mut headers = http::HeaderMap::new();
        for (k, v) in &head.headers {
            if let (Ok(k), Ok(v)) = (
                http::HeaderName::from_bytes(k.as_bytes()),
                http::HeaderValue::from_str(v),
            ) {
                headers.append(k, v);
            }
        }
        let pieces = Pieces::new(wire, head.status, &head.headers, request.method().as_str());
        Ok(Response {
            status: head.status,
            headers,
            body: Body::new(pieces),
        })
    }
}

/// A plain TCP connection as a tunnel: `&TcpStream` reads and writes from
/// two threads at once.
#[derive(Debug)]
struct TcpTunnel(TcpStream);

impl kubewire::Tunnel for TcpTunnel {
    fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::io::Read::read(&mut &self.0, buf)
    }

    fn write_all(&self, data: &[u8]) -> std::io::Result<()> {
        (&self.0).write_all(data)
    }

    fn shutdown(&self) {
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}
