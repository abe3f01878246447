//! The opening handshake (RFC 6455 §4): the upgrade request written as
//! HTTP/1.1 bytes, and the server's answer read from bytes — a `101` whose
//! `Sec-WebSocket-Accept` matches the key, or any other answer read to its
//! end and decoded as the usual [`Error`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};
use http::header::{
    CONNECTION, HOST, HeaderName, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};

use crate::error::{Error, Result};
use crate::stream::sha1;

/// The GUID RFC 6455 appends to the key.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The longest response head read before giving up.
const MAX_HEAD: usize = 64 * 1024;

/// The longest refused answer's body read.
const MAX_REFUSAL_BODY: usize = 1 << 20;

/// The `Sec-WebSocket-Accept` a server must answer to `key`.
///
/// ```
/// // RFC 6455 §1.3's example.
/// assert_eq!(kubewire::stream::accept_for("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_for(key: &str) -> String {
    STANDARD.encode(sha1::digest(format!("{key}{GUID}").as_bytes()))
}

/// What the handshake ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upgraded {
    /// The subprotocol the server chose (`None` when it chose none).
    pub protocol: Option<String>,
    /// Bytes that came after the answer's head: the first frames.
    pub leftover: Bytes,
}

/// The client's side of the handshake, sans IO.
///
/// ```
/// use kubewire::stream::Handshake;
/// let request = http::Request::get("https://10.0.0.1:6443/api/v1/namespaces/demo/pods/web-0/exec?command=ls&stdout=true")
///     .body(bytes::Bytes::new())?;
/// let (mut handshake, request) = Handshake::new(request, [7; 16], &["v5.channel.k8s.io", "v4.channel.k8s.io"])?;
/// let wire = String::from_utf8(kubewire::stream::http1_request(&request)).unwrap();
/// assert!(wire.starts_with("GET /api/v1/namespaces/demo/pods/web-0/exec?command=ls&stdout=true HTTP/1.1\r\n"));
/// let answer = format!(
///     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///      Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n",
///     kubewire::stream::accept_for(handshake.key()));
/// let wire = [answer.as_bytes(), b"\x82\x01\x01"].concat();
/// let upgraded = handshake.handle_data(&wire)?.expect("a whole head");
/// assert_eq!(upgraded.protocol.as_deref(), Some("v5.channel.k8s.io"));
/// assert_eq!(&upgraded.leftover[..], b"\x82\x01\x01");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Handshake {
    key: String,
    offered: Vec<String>,
    head: BytesMut,
    /// A refused answer whose body is being read.
    refused: Option<Refusal>,
}

#[derive(Debug)]
struct Refusal {
    parts: http::response::Parts,
    framing: Framing,
    body: BytesMut,
}

/// How a refused answer's body ends.
#[derive(Debug)]
enum Framing {
    Length(usize),
    Chunked(ChunkState),
    UntilClose,
}

#[derive(Debug)]
enum ChunkState {
    /// Reading a size line.
    Size(Vec<u8>),
    /// Reading this many more data bytes, then CRLF.
    Data(usize),
    /// Skipping the CRLF after a chunk's data (how many bytes are left).
    DataEnd(usize),
    /// After the last chunk: skipping trailers to the blank line.
    Trailer(Vec<u8>),
    Done,
}

impl Handshake {
    /// Adds the upgrade headers to `request` (a GET): the key from the
    /// caller's 16 random bytes and the subprotocols offered, in order of
    /// preference.
    pub fn new(
        mut request: http::Request<Bytes>,
        key: [u8; 16],
        protocols: &[&str],
    ) -> Result<(Handshake, http::Request<Bytes>)> {
        if request.method() != http::Method::GET {
            return Err(Error::InvalidInput("a WebSocket upgrade is a GET".into()));
        }
        let key = STANDARD.encode(key);
        let headers = request.headers_mut();
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        headers.insert(
            SEC_WEBSOCKET_KEY,
            HeaderValue::from_str(&key).expect("base64"),
        );
        if !protocols.is_empty() {
            let offer = HeaderValue::from_str(&protocols.join(", "))
                .map_err(|_| Error::InvalidInput(format!("bad subprotocol in {protocols:?}")))?;
            headers.insert(SEC_WEBSOCKET_PROTOCOL, offer);
        }
        let handshake = Handshake {
            key,
            offered: protocols.iter().map(|p| p.to_string()).collect(),
            head: BytesMut::new(),
            refused: None,
        };
        Ok((handshake, request))
    }

    /// The `Sec-WebSocket-Key` sent.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Takes bytes read from the server. `Ok(Some(..))` once a valid `101`
    /// head is in; `Ok(None)` while more is needed; an error for an answer
    /// that is not an upgrade (decoded like every other error answer, once
    /// its body is in) or a `101` that breaks the handshake rules.
    pub fn handle_data(&mut self, data: &[u8]) -> Result<Option<Upgraded>> {
        if self.refused.is_some() {
            return self.read_refusal(data).map(|()| None);
        }
        self.head.extend_from_slice(data);
        let Some(end) = memchr::memmem::find(&self.head, b"\r\n\r\n") else {
            if self.head.len() > MAX_HEAD {
                return Err(Error::Protocol(format!(
                    "the upgrade answer's head is over {MAX_HEAD} bytes"
                )));
            }
            return Ok(None);
        };
        let head = self.head.split_to(end + 4);
        let rest = std::mem::take(&mut self.head);
        let parts = parse_head(&head)?;
        if parts.status == http::StatusCode::SWITCHING_PROTOCOLS {
            let protocol = self.check_switch(&parts)?;
            return Ok(Some(Upgraded {
                protocol,
                leftover: rest.freeze(),
            }));
        }
        let framing = framing(&parts)?;
        self.refused = Some(Refusal {
            parts,
            framing,
            body: BytesMut::new(),
        });
        self.read_refusal(&rest).map(|()| None)
    }

    /// The server ended the connection.
    pub fn handle_eof(&mut self) -> Error {
        match self.refused.take() {
            Some(refusal) if matches!(refusal.framing, Framing::UntilClose) => refusal.error(),
            Some(_) => Error::Protocol("the connection ended inside the answer's body".into()),
            None => Error::Protocol(
                "the connection ended before the server answered the upgrade".into(),
            ),
        }
    }

    fn check_switch(&self, parts: &http::response::Parts) -> Result<Option<String>> {
        let header = |name: HeaderName| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
        };
        if !header(UPGRADE).eq_ignore_ascii_case("websocket") {
            return Err(Error::Protocol(
                "a 101 answer without `Upgrade: websocket`".into(),
            ));
        }
        if !header(CONNECTION)
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        {
            return Err(Error::Protocol(
                "a 101 answer without `Connection: Upgrade`".into(),
            ));
        }
        let accept = header(SEC_WEBSOCKET_ACCEPT);
        if accept != accept_for(&self.key) {
            return Err(Error::Protocol(format!(
                "the server's Sec-WebSocket-Accept {accept:?} does not answer the key sent"
            )));
        }
        let chosen = header(SEC_WEBSOCKET_PROTOCOL).trim();
        if chosen.is_empty() {
            return Ok(None);
        }
        if !self.offered.iter().any(|p| p == chosen) {
            return Err(Error::Protocol(format!(
                "the server chose subprotocol {chosen:?}, which was not offered ({})",
                self.offered.join(", ")
            )));
        }
        Ok(Some(chosen.to_string()))
    }

    fn read_refusal(&mut self, mut data: &[u8]) -> Result<()> {
        let refusal = self.refused.as_mut().expect("reading a refusal");
        loop {
            let taken = refusal.step(data)?;
            data = &data[taken..];
            if refusal.done() {
                let refusal = self.refused.take().expect("reading a refusal");
                return Err(refusal.error());
            }
            if data.is_empty() {
                return Ok(());
            }
        }
    }
}

impl Refusal {
    fn done(&self) -> bool {
        match &self.framing {
            Framing::Length(n) => self.body.len() >= *n,
            Framing::Chunked(ChunkState::Done) => true,
            _ => false,
        }
    }

    fn keep(&mut self, data: &[u8]) -> Result<()> {
        if self.body.len() + data.len() > MAX_REFUSAL_BODY {
            return Err(Error::Protocol(format!(
                "the refused upgrade's body is over {MAX_REFUSAL_BODY} bytes"
            )));
        }
        self.body.extend_from_slice(data);
        Ok(())
    }

    /// Consumes some of `data`; returns how much.
    fn step(&mut self, data: &[u8]) -> Result<usize> {
        match &mut self.framing {
            Framing::Length(n) => {
                let take = (*n - self.body.len()).min(data.len());
                self.keep(&data[..take])?;
                Ok(take)
            }
            Framing::UntilClose => {
                self.keep(data)?;
                Ok(data.len())
            }
            Framing::Chunked(state) => {
                let (taken, next, piece) = chunk_step(state, data)?;
                if let Some(next) = next {
                    *state = next;
                }
                if let Some(range) = piece {
                    self.keep(&data[range])?;
                }
                Ok(taken)
            }
        }
    }

    fn error(self) -> Error {
        crate::response::error_from_response(
            self.parts.status.as_u16(),
            &self.parts.headers,
            &self.body,
        )
    }
}

/// One step of the chunked decoder: bytes taken, the next state, and the
/// range of `data` that is body.
fn chunk_step(
    state: &mut ChunkState,
    data: &[u8],
) -> Result<(usize, Option<ChunkState>, Option<std::ops::Range<usize>>)> {
    let bad = || Error::Protocol("a malformed chunked body in the refused upgrade".into());
    match state {
        ChunkState::Size(line) | ChunkState::Trailer(line) => {
            let Some(at) = memchr::memchr(b'\n', data) else {
                line.extend_from_slice(data);
                if line.len() > 4096 {
                    return Err(bad());
                }
                return Ok((data.len(), None, None));
            };
            line.extend_from_slice(&data[..at]);
            let text = std::str::from_utf8(line)
                .map_err(|_| bad())?
                .trim()
                .to_string();
            if matches!(state, ChunkState::Trailer(_)) {
                let next = if text.is_empty() {
                    ChunkState::Done
                } else {
                    ChunkState::Trailer(Vec::new())
                };
                return Ok((at + 1, Some(next), None));
            }
            let size = text.split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size.trim(), 16).map_err(|_| bad())?;
            let next = if size == 0 {
                ChunkState::Trailer(Vec::new())
            } else {
                ChunkState::Data(size)
            };
            Ok((at + 1, Some(next), None))
        }
        ChunkState::Data(left) => {
            let take = (*left).min(data.len());
            let next = if take == *left {
                ChunkState::DataEnd(2)
            } else {
                ChunkState::Data(*left - take)
            };
            Ok((take, Some(next), Some(0..take)))
        }
        ChunkState::DataEnd(left) => {
            let take = (*left).min(data.len());
            let next = if take == *left {
                ChunkState::Size(Vec::new())
            } else {
                ChunkState::DataEnd(*left - take)
            };
            Ok((take, Some(next), None))
        }
        ChunkState::Done => Ok((data.len(), None, None)),
    }
}

fn framing(parts: &http::response::Parts) -> Result<Framing> {
    let chunked = parts
        .headers
        .get(http::header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return Ok(Framing::Chunked(ChunkState::Size(Vec::new())));
    }
    match parts.headers.get(http::header::CONTENT_LENGTH) {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map(Framing::Length)
            .ok_or_else(|| Error::Protocol("a bad Content-Length in the upgrade answer".into())),
        None => Ok(Framing::UntilClose),
    }
}

/// Reads an HTTP/1.1 response head (status line and headers, CRLF CRLF).
fn parse_head(head: &[u8]) -> Result<http::response::Parts> {
    let bad = |what: &str| Error::Protocol(format!("the upgrade answer: {what}"));
    let text = std::str::from_utf8(head).map_err(|_| bad("the head is not text"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut words = status_line.splitn(3, ' ');
    let version = words.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(bad(&format!(
            "not an HTTP/1.1 status line: {status_line:?}"
        )));
    }
    let status = words
        .next()
        .and_then(|s| http::StatusCode::from_bytes(s.as_bytes()).ok())
        .ok_or_else(|| bad(&format!("no status code in {status_line:?}")))?;
    let mut builder = http::Response::builder().status(status);
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(&format!("a header line without a colon: {line:?}")))?;
        builder = builder.header(name.trim(), value.trim());
    }
    let (parts, ()) = builder
        .body(())
        .map_err(|e| bad(&format!("a bad header: {e}")))?
        .into_parts();
    Ok(parts)
}

/// `request` as HTTP/1.1 bytes: the origin-form target, `Host` from the
/// URI, every header, and the body (with its length) when there is one.
pub fn http1_request(request: &http::Request<Bytes>) -> Vec<u8> {
    let uri = request.uri();
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = format!("{} {target} HTTP/1.1\r\n", request.method()).into_bytes();
    if let Some(authority) = uri
        .authority()
        .filter(|_| !request.headers().contains_key(HOST))
    {
        out.extend_from_slice(format!("host: {authority}\r\n").as_bytes());
    }
    for (name, value) in request.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !request.body().is_empty() {
        out.extend_from_slice(format!("content-length: {}\r\n", request.body().len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(request.body());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake() -> Handshake {
        let request = http::Request::get("https://h:1/x")
            .body(Bytes::new())
            .unwrap();
        Handshake::new(
            request,
            [1; 16],
            &["v5.channel.k8s.io", "v4.channel.k8s.io"],
        )
        .unwrap()
        .0
    }

    #[test]
    fn a_bad_accept_is_refused() {
        let mut h = handshake();
        let answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n";
        let err = h.handle_data(answer).unwrap_err();
        assert!(err.to_string().contains("does not answer the key"), "{err}");
    }

    #[test]
    fn an_unoffered_protocol_is_refused() {
        let mut h = handshake();
        let answer = format!(
            "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: v9\r\n\r\n",
            accept_for(h.key())
        );
        assert!(
            h.handle_data(answer.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("not offered")
        );
    }

    #[test]
    fn refusals_decode_with_every_framing() {
        let status = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"nope\" not found","reason":"NotFound","details":{"name":"nope","kind":"pods"},"code":404}"#;
        let with_length = [
            format!("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", status.len()).into_bytes(),
            status.to_vec(),
        ]
        .concat();
        let mut h = handshake();
        let mut result = Ok(None);
        for byte in &with_length {
            result = h.handle_data(std::slice::from_ref(byte));
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}");

        let chunked = [
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
            format!("{:x}\r\n", 10).into_bytes(),
            status[..10].to_vec(),
            format!("\r\n{:x};x=y\r\n", status.len() - 10).into_bytes(),
            status[10..].to_vec(),
            b"\r\n0\r\n\r\n".to_vec(),
        ]
        .concat();
        let mut h = handshake();
        assert!(matches!(h.handle_data(&chunked), Err(Error::NotFound(_))));

        let mut h = handshake();
        let closing = b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n";
        assert_eq!(h.handle_data(closing).unwrap(), None);
        let err = h.handle_eof();
        assert_eq!(err.http_status(), Some(403));
    }

    #[test]
    fn eof_before_an_answer_is_an_error() {
        let mut h = handshake();
        h.handle_data(b"HTTP/1.1 10").unwrap();
        assert!(
            h.handle_eof()
                .to_string()
                .contains("before the server answered")
        );
    }
}
