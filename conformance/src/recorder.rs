//! The recorder: a forwarding proxy between a client and a real apiserver
//! that writes the conversation as a fixture.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::fixture::{
    Chunk, End, Exchange, ExpectedRequest, Fixture, RecordedResponse, RequestBody, ResponseBody,
    Source,
};
use crate::http1::{self, Framing, ReadError, RequestHead, Wire};
use crate::listener::{Listener, lock};
use crate::matching::ActualRequest;
use crate::redact;

/// How a recorder runs.
#[derive(Clone, Debug)]
pub struct RecorderOptions {
    /// Where the client connects (loopback).
    pub listen: SocketAddr,
    /// The apiserver to forward to: `http://host:port[/prefix]` (e.g.
    /// `kubectl proxy`).
    pub upstream: String,
    /// The fixture file to write (rewritten after every exchange).
    pub out: PathBuf,
    /// Replace Secret data with `REDACTED` (on unless explicitly opted out).
    pub redact: bool,
    /// Gaps between chunks longer than this are recorded as this.
    pub max_delay_ms: u64,
}

impl RecorderOptions {
    /// Options recording to `out` from `upstream`, listening on an
    /// ephemeral loopback port.
    pub fn new(upstream: &str, out: impl Into<PathBuf>) -> RecorderOptions {
        RecorderOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream: upstream.to_string(),
            out: out.into(),
            redact: true,
            max_delay_ms: 200,
        }
    }
}

/// A running recorder. See [`RecorderOptions`].
#[derive(Debug)]
pub struct Recorder {
    listener: Listener,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    options: RecorderOptions,
    authority: String,
    prefix: String,
    stop: Arc<AtomicBool>,
    slots: Mutex<Vec<Option<Exchange>>>,
}

impl Recorder {
    /// Starts listening. The upstream must be plain `http` (put `kubectl
    /// proxy` in front of a TLS apiserver).
    pub fn start(options: RecorderOptions) -> io::Result<Recorder> {
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let rest = options.upstream.strip_prefix("http://").ok_or_else(|| {
            invalid(format!(
                "upstream {:?} must be http://HOST:PORT",
                options.upstream
            ))
        })?;
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(invalid("upstream has no host".into()));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let listen = options.listen;
        let shared = Arc::new(Shared {
            authority: authority.to_string(),
            prefix: prefix.to_string(),
            options,
            stop: stop.clone(),
            slots: Mutex::new(Vec::new()),
        });
        let conn_shared = shared.clone();
        let listener = Listener::start(listen, "recorder", stop, move |stream| {
            proxy_connection(stream, &conn_shared)
        })?;
        Ok(Recorder { listener, shared })
    }

    /// `http://127.0.0.1:PORT/`: where the client must connect.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.listener.addr())
    }

    /// The fixture recorded so far (complete exchanges, in request order).
    pub fn fixture(&self) -> Fixture {
        self.shared.fixture()
    }

    /// Stops, writes the fixture a last time and returns it.
    pub fn stop(mut self) -> io::Result<Fixture> {
        self.listener.shutdown();
        let fixture = self.shared.fixture();
        fixture.write(&self.shared.options.out)?;
        Ok(fixture)
    }

    /// Blocks while the recorder runs (the CLI's "until stopped").
    pub fn wait(mut self) {
        self.listener.wait();
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.listener.shutdown();
    }
}

impl Shared {
    fn fixture(&self) -> Fixture {
        let name = self
            .options
            .out
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("recording")
            .to_string();
        Fixture {
            name,
            description: format!(
                "recorded through kubewire-conformance record from {}; say what the client did",
                self.options.upstream
            ),
            source: Source::Recorded,
            server_version: None,
            exchanges: lock(&self.slots).iter().flatten().cloned().collect(),
            negotiation: false,
            matching: Default::default(),
        }
    }

    fn store(&self, slot: usize, exchange: Exchange) {
        lock(&self.slots)[slot] = Some(exchange);
        // Rewritten after every step so an interrupted recording keeps
        // everything seen so far.
        if let Err(e) = self.fixture().write(&self.options.out) {
            eprintln!("recorder: cannot write {}: {e}", self.options.out.display());
        }
    }
}

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// The request headers a fixture keeps: the patch type, and an `accept`
/// that asks for something other than plain JSON.
fn recorded_request_headers(head: &RequestHead) -> Vec<(String, String)> {
    head.headers
        .iter()
        .filter(|(k, v)| {
            (k == "content-type" && head.method == "PATCH")
                || (k == "accept"
                    && !matches!(
                        v.as_str(),
                        "application/json" | "*/*" | "application/json, */*"
                    ))
        })
        .cloned()
        .collect()
}

fn request_body(body: &[u8], secrets: bool, redact: bool) -> RequestBody {
    if body.is_empty() {
        return RequestBody::None;
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut v) => {
            if redact {
                redact::redact_value(&mut v, secrets);
            }
            RequestBody::Json(v)
        }
        Err(_) => RequestBody::Text(String::from_utf8_lossy(body).into_owned()),
    }
}

fn proxy_connection(stream: TcpStream, shared: &Shared) {
    let Ok(mut client) = Wire::new(stream) else {
        return;
    };
    loop {
        let head = match client.read_request_head(&shared.stop) {
            Ok(h) => h,
            Err(_) => return,
        };
        let body = match http1::framing(&head.headers, Framing::Length(0)) {
            Some(Framing::Close) | None => return,
            Some(f) => match client.read_body(f, &shared.stop) {
                Ok(b) => b,
                Err(_) => return,
            },
        };
        let slot = {
            let mut slots = lock(&shared.slots);
            slots.push(None);
            slots.len() - 1
        };
        let keep = forward(&mut client, shared, slot, &head, &body);
        let close = http1::header(&head.headers, "connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        if !keep || close {
            let _ = client.stream().shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Forwards one request and streams the answer back while recording it;
/// false when the client connection must close.
fn forward(
    client: &mut Wire,
    shared: &Shared,
    slot: usize,
    head: &RequestHead,
    body: &[u8],
) -> bool {
    let opts = &shared.options;
    let actual = ActualRequest::from_target(&head.method, &head.target, Vec::new(), Vec::new());
    let secrets = redact::is_secrets_path(&actual.path);
    let request = ExpectedRequest {
        method: head.method.clone(),
        path: actual.path.clone(),
        query: actual.query.clone(),
        headers: recorded_request_headers(head).into_iter().collect(),
        body: request_body(body, secrets, opts.redact),
        offer: crate::fixture::Offer::Set,
    };
    let upstream = match TcpStream::connect(&shared.authority).and_then(Wire::new) {
        Ok(w) => w,
        Err(e) => {
            let msg = format!("recorder: upstream {} unreachable: {e}", shared.authority);
            let headers = vec![("content-length".to_string(), msg.len().to_string())];
            let s = client.stream();
            let _ = http1::write_head(s, 502, &headers).and_then(|_| s.write_all(msg.as_bytes()));
            return false;
        }
    };
    let mut upstream = upstream;
    let mut out = format!(
        "{} {}{} HTTP/1.1\r\nhost: {}\r\n",
        head.method, shared.prefix, head.target, shared.authority
    );
    for (k, v) in &head.headers {
        if !HOP_BY_HOP.contains(&k.as_str()) {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let sent = upstream
        .stream()
        .write_all(out.as_bytes())
        .and_then(|_| upstream.stream().write_all(body));
    let resp = match sent
        .map_err(ReadError::Io)
        .and_then(|_| upstream.read_response_head(&shared.stop))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("recorder: {} {}: {e}", head.method, head.target);
            return false;
        }
    };
    let recorded_headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "content-type" | "retry-after" | "warning" | "location"
            )
        })
        .filter(|(k, _)| !redact::is_secret_header(k))
        .cloned()
        .collect();
    let no_body =
        head.method == "HEAD" || resp.status == 204 || resp.status == 304 || resp.status < 200;
    let framing = if no_body {
        Framing::Length(0)
    } else {
        http1::framing(&resp.headers, Framing::Close).unwrap_or(Framing::Close)
    };
    let mut response = RecordedResponse {
        status: resp.status,
        headers: recorded_headers.clone(),
        body: ResponseBody::Text(String::new()),
        end: End::Complete,
        upgrade: None,
    };
    let mut client_headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()))
        .cloned()
        .collect();
    if framing == Framing::Chunked {
        client_headers.push(("transfer-encoding".into(), "chunked".into()));
        if http1::write_head(client.stream(), resp.status, &client_headers).is_err() {
            return false;
        }
        let mut chunks = Vec::new();
        let mut last = Instant::now();
        let mut client_alive = true;
        let end = loop {
            match upstream.read_chunk(&shared.stop) {
                Ok(Some(data)) => {
                    let gap = last.elapsed().as_millis() as u64;
                    last = Instant::now();
                    if client_alive && http1::write_chunk(client.stream(), &data).is_err() {
                        client_alive = false;
                    }
                    chunks.push(Chunk {
                        bytes: data,
                        delay_ms: if chunks.is_empty() {
                            0
                        } else {
                            gap.min(opts.max_delay_ms)
                        },
                    });
                    if !client_alive {
                        break End::Hang;
                    }
                    let mut snapshot = response.clone();
                    snapshot.body =
                        ResponseBody::Chunks(finish_chunks(chunks.clone(), secrets, opts.redact));
                    snapshot.end = End::Hang;
                    shared.store(
                        slot,
                        Exchange {
                            request: request.clone(),
                            response: snapshot,
                            optional: false,
                            matching: Default::default(),
                        },
                    );
                }
                Ok(None) => {
                    if client_alive {
                        let _ = http1::write_last_chunk(client.stream());
                    }
                    break End::Complete;
                }
                Err(ReadError::Stopped) => break End::Hang,
                Err(_) => break End::Cut,
            }
        };
        response.body = ResponseBody::Chunks(finish_chunks(chunks, secrets, opts.redact));
        response.end = end;
        shared.store(
            slot,
            Exchange {
                request,
                response,
                optional: false,
                matching: Default::default(),
            },
        );
        return end == End::Complete && client_alive;
    }
    let data = match upstream.read_body(framing, &shared.stop) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("recorder: {} {}: body: {e}", head.method, head.target);
            return false;
        }
    };
    if !no_body {
        client_headers.push(("content-length".into(), data.len().to_string()));
    }
    let ok = http1::write_head(client.stream(), resp.status, &client_headers)
        .and_then(|_| client.stream().write_all(&data))
        .and_then(|_| client.stream().flush())
        .is_ok();
    let is_json = http1::header(&resp.headers, "content-type").is_some_and(|c| c.contains("json"));
    response.body = match (is_json, serde_json::from_slice::<serde_json::Value>(&data)) {
        (true, Ok(mut v)) if !data.is_empty() => {
            if opts.redact {
                redact::redact_value(&mut v, secrets);
            }
            ResponseBody::Json(v)
        }
        _ => match String::from_utf8(data) {
            Ok(text) => ResponseBody::Text(text),
            Err(e) => ResponseBody::Chunks(vec![Chunk {
                bytes: e.into_bytes(),
                delay_ms: 0,
            }]),
        },
    };
    shared.store(
        slot,
        Exchange {
            request,
            response,
            optional: false,
            matching: Default::default(),
        },
    );
    ok
}

fn finish_chunks(chunks: Vec<Chunk>, secrets: bool, redact: bool) -> Vec<Chunk> {
    if redact {
        redact::redact_chunks(chunks, secrets)
    } else {
        chunks
    }
}
