//! What a scenario talks to: something that sends one `http::Request` and
//! hands back the response with a body readable piece by piece.

use std::sync::Arc;

use bytes::Bytes;
use kubewire::Config;

/// Why a body ended early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyError {
    /// The connection closed before the body was complete.
    Cut,
    /// The server keeps the stream open but will send nothing more (the
    /// sans-IO runner reports this instead of blocking forever).
    Hang,
    /// Any other transport failure.
    Io(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Cut => f.write_str("connection cut before the body ended"),
            BodyError::Hang => f.write_str("the stream hangs: nothing more will arrive"),
            BodyError::Io(e) => write!(f, "transport error: {e}"),
        }
    }
}

impl std::error::Error for BodyError {}

/// A response body, read piece by piece as it arrives.
pub struct Body(Box<dyn Iterator<Item = Result<Bytes, BodyError>> + Send>);

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Body(..)")
    }
}

impl Body {
    /// A body from an iterator of pieces.
    pub fn new(pieces: impl Iterator<Item = Result<Bytes, BodyError>> + Send + 'static) -> Body {
        Body(Box::new(pieces))
    }

    /// The next piece; `None` when the body ended properly.
    pub fn next_piece(&mut self) -> Option<Result<Bytes, BodyError>> {
        self.0.next()
    }

    /// Reads the whole body.
    pub fn read_all(mut self) -> Result<Bytes, BodyError> {
        let mut all = Vec::new();
        while let Some(piece) = self.next_piece() {
            all.extend_from_slice(&piece?);
        }
        Ok(Bytes::from(all))
    }
}

/// A response whose body has not been read yet.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Body,
}

impl Response {
    /// Reads the whole body into an `http::Response<Bytes>`, the shape the
    /// core's whole-body decoders take.
    pub fn into_http(self) -> Result<http::Response<Bytes>, BodyError> {
        let mut resp = http::Response::new(self.body.read_all()?);
        *resp.status_mut() =
            http::StatusCode::from_u16(self.status).map_err(|e| BodyError::Io(e.to_string()))?;
        *resp.headers_mut() = self.headers;
        Ok(resp)
    }
}

/// Sends requests for a scenario: the sans-IO runner, a raw HTTP/1.1
/// client, or a transport crate.
pub trait Driver {
    /// A short name for reports, e.g. `sans-io/7` or `ureq/recorded`.
    fn name(&self) -> String;

    /// The configuration the scenario builds requests with (its base URL
    /// points at the replay server, when there is one).
    fn config(&self) -> Arc<Config>;

    /// Sends one request and returns the response head with a lazy body.
    fn send(&mut self, request: http::Request<Bytes>) -> Result<Response, String>;

    /// False when `send` returns only once the first body byte arrives
    /// (libcurl does): such a driver cannot observe a response that sends
    /// its head and then nothing.
    fn head_before_body(&self) -> bool {
        true
    }

    /// Sends a request whose answer the scenario will not read (the last
    /// request of a watch that then idles). Drivers that cannot see a head
    /// before the first body byte send it without waiting for the answer.
    fn send_detached(&mut self, request: http::Request<Bytes>) -> Result<(), String> {
        self.send(request).map(drop)
    }

    /// Opens a raw connection to the server for an upgrade (exec, attach,
    /// port-forward): the scenario writes the HTTP/1.1 request itself.
    fn open_tunnel(&mut self, uri: &http::Uri) -> Result<Box<dyn kubewire::Tunnel>, String> {
        Err(format!(
            "{} cannot open a raw connection to {uri}",
            self.name()
        ))
    }
}

/// Makes a driver for a replay server's base URL: how a transport joins the
/// suite (see [`crate::conformance_suite!`]).
pub type Connect = dyn Fn(&str) -> Box<dyn Driver>;
