//! A small HTTP/1.1 wire layer over `TcpStream`, shared by the replay
//! server, the recorder and the test client: heads parsed with `httparse`,
//! bodies by content-length or chunked encoding, chunk boundaries visible.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The largest request or response head accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// The largest body accepted.
pub const MAX_BODY: usize = 256 * 1024 * 1024;

/// How often blocked reads wake up to check for shutdown.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// A parsed request head.
#[derive(Clone, Debug)]
pub struct RequestHead {
    /// Method.
    pub method: String,
    /// Request target (`/path?query`).
    pub target: String,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
}

/// A parsed response head.
#[derive(Clone, Debug)]
pub struct ResponseHead {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
}

/// Parses a whole request head (through its blank line).
pub fn parse_request_head(raw: &[u8]) -> Result<RequestHead, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(raw) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(ReadError::Malformed("incomplete head".into()));
        }
        Err(e) => return Err(ReadError::Malformed(e.to_string())),
    }
    if req.version != Some(1) {
        return Err(ReadError::Malformed("only HTTP/1.1 is served".into()));
    }
    Ok(RequestHead {
        method: req.method.unwrap_or_default().to_string(),
        target: req.path.unwrap_or_default().to_string(),
        headers: lower(req.headers)?,
    })
}

/// Looks up a header (names are lower-case).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// How a message body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `content-length: N`.
    Length(usize),
    /// `transfer-encoding: chunked`.
    Chunked,
    /// Until the connection closes (responses only).
    Close,
}

/// The framing a set of headers announces; `None` when it is malformed.
pub fn framing(headers: &[(String, String)], default: Framing) -> Option<Framing> {
    if let Some(te) = header(headers, "transfer-encoding") {
        return te
            .eq_ignore_ascii_case("chunked")
            .then_some(Framing::Chunked);
    }
    match header(headers, "content-length") {
        Some(n) => n
            .trim()
            .parse()
            .ok()
            .filter(|n| *n <= MAX_BODY)
            .map(Framing::Length),
        None => Some(default),
    }
}

/// A connection with a read buffer. Reads wake up every `POLL` to check
/// `stop`, so a server can shut down connections blocked in a read.
#[derive(Debug)]
pub struct Wire {
    stream: TcpStream,
    buf: Vec<u8>,
    idle_limit: Option<std::time::Duration>,
}

/// What reading a message found.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed the connection (cleanly, between messages, or not).
    Closed,
    /// The bytes are not valid HTTP/1.1.
    Malformed(String),
    /// The stop flag was raised.
    Stopped,
    /// An IO error.
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Closed => f.write_str("connection closed"),
            ReadError::Malformed(m) => write!(f, "malformed HTTP: {m}"),
            ReadError::Stopped => f.write_str("stopped"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl Wire {
    /// Wraps a connected stream.
    pub fn new(stream: TcpStream) -> io::Result<Wire> {
        stream.set_read_timeout(Some(POLL))?;
        stream.set_nodelay(true)?;
        Ok(Wire {
            stream,
            buf: Vec::new(),
            idle_limit: None,
        })
    }

    /// Fails reads that see no byte for `limit` (a client's guard against
    /// a server that hangs).
    pub fn set_idle_limit(&mut self, limit: Option<Duration>) {
        self.idle_limit = limit;
    }

    /// The underlying stream (for writing).
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    fn fill(&mut self, stop: &AtomicBool) -> Result<usize, ReadError> {
        let mut tmp = [0u8; 16 * 1024];
        let started = std::time::Instant::now();
        loop {
            if self.idle_limit.is_some_and(|l| started.elapsed() >= l) {
                return Err(ReadError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no data within the idle limit",
                )));
            }
            if stop.load(Ordering::Relaxed) {
                return Err(ReadError::Stopped);
            }
            match self.stream.read(&mut tmp) {
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(0),
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// True when the peer has closed its side (or the stop flag is up).
    pub fn wait_closed(&mut self, stop: &AtomicBool) {
        loop {
            self.buf.clear();
            match self.fill(stop) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let rest = self.buf.split_off(n);
        std::mem::replace(&mut self.buf, rest)
    }

    fn head_len(&mut self, stop: &AtomicBool) -> Result<usize, ReadError> {
        loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                return Ok(i + 4);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Malformed("head larger than 64 KiB".into()));
            }
            if self.fill(stop)? == 0 {
                return Err(if self.buf.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::Malformed("connection closed inside the head".into())
                });
            }
        }
    }

    /// What has arrived: buffered bytes first, else the next read
    /// (`Ok` empty at the end of the stream).
    pub fn read_some(&mut self, stop: &AtomicBool) -> Result<Vec<u8>, ReadError> {
        if self.buf.is_empty() {
            self.fill(stop)?;
        }
        Ok(std::mem::take(&mut self.buf))
    }

    /// Reads a request head.
    pub fn read_request_head(&mut self, stop: &AtomicBool) -> Result<RequestHead, ReadError> {
        let len = self.head_len(stop)?;
        let raw = self.take(len);
        parse_request_head(&raw)
    }

    /// Reads a response head.
    pub fn read_response_head(&mut self, stop: &AtomicBool) -> Result<ResponseHead, ReadError> {
        let len = self.head_len(stop)?;
        let raw = self.take(len);
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&raw) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => {
                return Err(ReadError::Malformed("incomplete head".into()));
            }
            Err(e) => return Err(ReadError::Malformed(e.to_string())),
        }
        Ok(ResponseHead {
            status: resp.code.unwrap_or_default(),
            headers: lower(resp.headers)?,
        })
    }

    /// Reads exactly `n` body bytes.
    pub fn read_exact(&mut self, n: usize, stop: &AtomicBool) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < n {
            if self.fill(stop)? == 0 {
                return Err(ReadError::Closed);
            }
        }
        Ok(self.take(n))
    }

    /// Reads until the peer closes.
    pub fn read_to_close(&mut self, stop: &AtomicBool) -> Result<Vec<u8>, ReadError> {
        while self.fill(stop)? > 0 {
            if self.buf.len() > MAX_BODY {
                return Err(ReadError::Malformed("body too large".into()));
            }
        }
        Ok(std::mem::take(&mut self.buf))
    }

    fn read_line(&mut self, stop: &AtomicBool) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let mut line = self.take(i + 2);
                line.truncate(i);
                return Ok(line);
            }
            if self.buf.len() > 4096 {
                return Err(ReadError::Malformed("chunk-size line too long".into()));
            }
            if self.fill(stop)? == 0 {
                return Err(ReadError::Closed);
            }
        }
    }

    /// Reads one chunk of a chunked body: `Ok(None)` at the final
    /// zero-length chunk (trailers skipped), `Err(Closed)` when the
    /// connection ends before it (a cut).
    pub fn read_chunk(&mut self, stop: &AtomicBool) -> Result<Option<Vec<u8>>, ReadError> {
        let line = self.read_line(stop)?;
        let text =
            std::str::from_utf8(&line).map_err(|_| ReadError::Malformed("chunk size".into()))?;
        let size_hex = text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .ok()
            .filter(|n| *n <= MAX_BODY)
            .ok_or_else(|| ReadError::Malformed(format!("bad chunk size {size_hex:?}")))?;
        if size == 0 {
            while !self.read_line(stop)?.is_empty() {}
            return Ok(None);
        }
        let data = self.read_exact(size, stop)?;
        if self.read_line(stop)? != b"" {
            return Err(ReadError::Malformed("chunk not followed by CRLF".into()));
        }
        Ok(Some(data))
    }

    /// Reads a whole body with the given framing.
    pub fn read_body(&mut self, framing: Framing, stop: &AtomicBool) -> Result<Vec<u8>, ReadError> {
        match framing {
            Framing::Length(n) => self.read_exact(n, stop),
            Framing::Close => self.read_to_close(stop),
            Framing::Chunked => {
                let mut body = Vec::new();
                while let Some(chunk) = self.read_chunk(stop)? {
                    body.extend_from_slice(&chunk);
                    if body.len() > MAX_BODY {
                        return Err(ReadError::Malformed("body too large".into()));
                    }
                }
                Ok(body)
            }
        }
    }
}

fn lower(headers: &[httparse::Header<'_>]) -> Result<Vec<(String, String)>, ReadError> {
    headers
        .iter()
        .map(|h| {
            let v = std::str::from_utf8(h.value)
                .map_err(|_| ReadError::Malformed(format!("header {} is not UTF-8", h.name)))?;
            Ok((h.name.to_ascii_lowercase(), v.to_string()))
        })
        .collect()
}

/// The reason phrase of a status code (HTTP/1.1 needs one on the wire).
pub fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or(if status == 599 {
            "Fixture Mismatch"
        } else {
            "Unknown"
        })
}

/// Writes a status line and headers.
pub fn write_head(w: &mut impl Write, status: u16, headers: &[(String, String)]) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())
}

/// Writes one HTTP chunk (never an empty one: that would end the body).
pub fn write_chunk(w: &mut impl Write, data: &[u8]) -> io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    w.write_all(&out)?;
    w.flush()
}

/// Writes the final zero-length chunk.
pub fn write_last_chunk(w: &mut impl Write) -> io::Result<()> {
    w.write_all(b"0\r\n\r\n")?;
    w.flush()
}
