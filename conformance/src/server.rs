//! The replay server: serves fixtures over HTTP/1.1 on loopback, strictly.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::chunking::Chunking;
use crate::fixture::{Chunk, End, Exchange, Fixture, ResponseBody, UpgradeEnd};
use crate::http1::{self, Framing, ReadError, Wire};
use crate::lease_server::LeaseServer;
use crate::listener::{Listener, lock};
use crate::matching::ActualRequest;
use crate::script::{Report, Script};
use crate::upgrade::{self, Conversation, Step};

/// How a replay server runs.
#[derive(Clone, Copy, Debug)]
pub struct ServeOptions {
    /// Where to listen; port 0 picks a free one. Loopback only.
    pub addr: SocketAddr,
    /// How response bodies are split on the wire.
    pub chunking: Chunking,
    /// Honour the fixtures' `delay_ms` (off makes replays fast).
    pub delays: bool,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            chunking: Chunking::Recorded,
            delays: true,
        }
    }
}

/// A fixture replayed over HTTP/1.1 on 127.0.0.1.
///
/// Exchanges are consumed in order of arrival, whatever connection a
/// request comes on; a mismatch is answered `599` with a JSON description of
/// the difference. [`ReplayServer::finish`] stops the server and fails when
/// anything did not match or a required exchange was never requested.
///
/// ```no_run
/// use kubewire_conformance::{Fixture, ReplayServer};
/// let fixture = Fixture::load("fixtures/recorded/pod-fetch-running.json").unwrap();
/// let server = ReplayServer::start(vec![fixture]).unwrap();
/// let base = server.base_url(); // e.g. http://127.0.0.1:41235/
/// // ... point the code under test at `base` ...
/// server.finish().unwrap(); // panics with the differences, if any
/// ```
#[derive(Debug)]
pub struct ReplayServer {
    listener: Listener,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    options: ServeOptions,
    stop: Arc<AtomicBool>,
    script: Mutex<Script>,
    /// Leases served from memory instead of the fixtures.
    leases: Option<LeaseServer>,
}

impl ReplayServer {
    /// Serves `fixtures` (their exchanges one after the other) on an
    /// ephemeral loopback port with the recorded chunking.
    pub fn start(fixtures: Vec<Fixture>) -> io::Result<ReplayServer> {
        ReplayServer::start_with(fixtures, ServeOptions::default())
    }

    /// Serves `fixtures` with `options`.
    pub fn start_with(fixtures: Vec<Fixture>, options: ServeOptions) -> io::Result<ReplayServer> {
        ReplayServer::serve(fixtures, options, None)
    }

    /// Serves `fixtures`, and `coordination.k8s.io` Leases from `leases`
    /// (stateful, as the apiserver keeps them): for leader election, whose
    /// writes carry the time they are made and so cannot be replayed.
    pub fn start_with_leases(
        fixtures: Vec<Fixture>,
        leases: LeaseServer,
    ) -> io::Result<ReplayServer> {
        ReplayServer::serve(fixtures, ServeOptions::default(), Some(leases))
    }

    fn serve(
        fixtures: Vec<Fixture>,
        options: ServeOptions,
        leases: Option<LeaseServer>,
    ) -> io::Result<ReplayServer> {
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            options,
            stop: stop.clone(),
            script: Mutex::new(Script::new(fixtures)),
            leases,
        });
        let conn_shared = shared.clone();
        let listener = Listener::start(options.addr, "replay", stop, move |stream| {
            serve_connection(stream, &conn_shared)
        })?;
        Ok(ReplayServer { listener, shared })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.listener.addr())
    }

    /// What the server saw so far.
    pub fn report(&self) -> Report {
        lock(&self.shared.script).report()
    }

    /// Waits up to `limit` for requests still on their way (sent by a
    /// client that did not wait for the answer) to consume the remaining
    /// required exchanges.
    pub fn settle(&self, limit: std::time::Duration) {
        let deadline = std::time::Instant::now() + limit;
        while !self.report().unconsumed.is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(http1::POLL / 5);
        }
    }

    /// Stops the server (closing open connections, hanging ones included)
    /// and returns its report.
    pub fn stop(mut self) -> Report {
        self.listener.shutdown();
        self.report()
    }

    /// Stops the server; `Err` with a readable description when a request
    /// did not match or a required exchange was never requested.
    pub fn finish(self) -> Result<Report, String> {
        let report = self.stop();
        if report.is_clean() {
            Ok(report)
        } else {
            Err(report.to_string())
        }
    }

    /// Blocks until every connection ended (the CLI's "serve until stopped").
    pub fn wait(mut self) {
        self.listener.wait();
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.listener.shutdown();
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    // A client that never reads must not hold a connection thread forever.
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let Ok(mut wire) = Wire::new(stream) else {
        return;
    };
    loop {
        let head = match wire.read_request_head(&shared.stop) {
            Ok(h) => h,
            Err(ReadError::Malformed(m)) => {
                bad_request(&mut wire, &m);
                return;
            }
            Err(_) => return,
        };
        if http1::header(&head.headers, "expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
            && wire
                .stream()
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .is_err()
        {
            return;
        }
        let body = match http1::framing(&head.headers, Framing::Length(0)) {
            Some(Framing::Close) | None => {
                bad_request(&mut wire, "bad content-length or transfer-encoding");
                return;
            }
            Some(framing) => match wire.read_body(framing, &shared.stop) {
                Ok(b) => b,
                Err(ReadError::Malformed(m)) => {
                    bad_request(&mut wire, &m);
                    return;
                }
                Err(_) => return,
            },
        };
        let close = http1::header(&head.headers, "connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let is_head = head.method == "HEAD";
        let key = http1::header(&head.headers, "sec-websocket-key").map(str::to_string);
        let wants_upgrade = http1::header(&head.headers, "upgrade")
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        if let Some(leases) = &shared.leases
            && head.target.starts_with("/apis/coordination.k8s.io/")
        {
            if !send_lease_answer(&mut wire, leases, &head.method, &head.target, body) || close {
                let _ = wire.stream().shutdown(Shutdown::Both);
                return;
            }
            continue;
        }
        let actual = ActualRequest::from_target(&head.method, &head.target, head.headers, body);
        let taken = lock(&shared.script).take_with_id(&actual);
        let keep_open = match taken {
            Ok((id, exchange)) if wants_upgrade && exchange.response.upgrade.is_some() => {
                serve_upgrade(&mut wire, shared, &exchange, key.as_deref(), &id);
                return;
            }
            Ok((_, exchange)) => send_response(&mut wire, shared, &exchange, is_head),
            Err(mismatch) => send_mismatch(&mut wire, &mismatch).is_ok(),
        };
        if !keep_open || close {
            let _ = wire.stream().shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Answers `101` and runs the recorded WebSocket conversation.
fn serve_upgrade(
    wire: &mut Wire,
    shared: &Shared,
    exchange: &Exchange,
    key: Option<&str>,
    id: &str,
) {
    let Some(upgrade) = &exchange.response.upgrade else {
        return;
    };
    let head = upgrade::switching_head(exchange, key);
    if wire.stream().write_all(&head).is_err() {
        return;
    }
    let mut conversation = Conversation::new(upgrade);
    let end = loop {
        match conversation.step() {
            Step::Send { delay_ms, bytes } => {
                if !pause(delay_ms, shared) {
                    break UpgradeEnd::Eof;
                }
                let s = wire.stream();
                if s.write_all(&bytes).and_then(|()| s.flush()).is_err() {
                    break UpgradeEnd::Eof;
                }
            }
            Step::WaitClient => match wire.read_some(&shared.stop) {
                Ok(bytes) if !bytes.is_empty() => conversation.handle_client(&bytes),
                Ok(_) | Err(ReadError::Closed) => conversation.handle_client_eof(),
                Err(_) => break UpgradeEnd::Eof,
            },
            Step::End(end) => break end,
        }
    };
    if let Some(why) = conversation.failure() {
        lock(&shared.script).fail(id, why);
    }
    if end == UpgradeEnd::Hang {
        wire.wait_closed(&shared.stop);
    }
    let _ = wire.stream().shutdown(Shutdown::Both);
}

/// Answers a Lease request from memory; false when the connection broke.
fn send_lease_answer(
    wire: &mut Wire,
    leases: &LeaseServer,
    method: &str,
    target: &str,
    body: Vec<u8>,
) -> bool {
    let request = http::Request::builder()
        .method(method)
        .uri(target)
        .body(bytes::Bytes::from(body));
    let answer = match request {
        Ok(request) => leases.handle(&request),
        Err(_) => return false,
    };
    let headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        (
            "content-length".to_string(),
            answer.body().len().to_string(),
        ),
    ];
    let s = wire.stream();
    http1::write_head(s, answer.status().as_u16(), &headers)
        .and_then(|_| s.write_all(answer.body()))
        .is_ok()
}

fn bad_request(wire: &mut Wire, message: &str) {
    let body = serde_json::json!({"error": "malformed request", "message": message}).to_string();
    let headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("content-length".to_string(), body.len().to_string()),
        ("connection".to_string(), "close".to_string()),
    ];
    let s = wire.stream();
    let _ = http1::write_head(s, 400, &headers).and_then(|_| s.write_all(body.as_bytes()));
    let _ = s.shutdown(Shutdown::Both);
}

fn send_mismatch(wire: &mut Wire, body: &Value) -> io::Result<()> {
    let text = serde_json::to_vec_pretty(body).unwrap_or_default();
    let headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("content-length".to_string(), text.len().to_string()),
    ];
    let s = wire.stream();
    http1::write_head(s, 599, &headers)?;
    s.write_all(&text)?;
    s.flush()
}

/// Sleeps `ms`, waking early when the server stops; false when stopped.
fn pause(ms: u64, shared: &Shared) -> bool {
    if !shared.options.delays {
        return !shared.stop.load(Ordering::Relaxed);
    }
    let mut left = Duration::from_millis(ms);
    while !left.is_zero() {
        if shared.stop.load(Ordering::Relaxed) {
            return false;
        }
        let step = left.min(http1::POLL);
        std::thread::sleep(step);
        left -= step;
    }
    !shared.stop.load(Ordering::Relaxed)
}

/// Sends one recorded response; false when the connection must close.
fn send_response(wire: &mut Wire, shared: &Shared, exchange: &Exchange, is_head: bool) -> bool {
    let resp = &exchange.response;
    let mut headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .filter(|(k, _)| k != "content-length" && k != "transfer-encoding")
        .cloned()
        .collect();
    let no_body = is_head || resp.status == 204 || resp.status == 304 || resp.status < 200;
    let (chunked, recorded) = match &resp.body {
        ResponseBody::Chunks(c) => (true, c.clone()),
        other => (
            false,
            vec![Chunk {
                bytes: other.bytes(),
                delay_ms: 0,
            }],
        ),
    };
    let pieces = shared.options.chunking.split(&recorded);
    if no_body {
        if !chunked && resp.status != 204 && resp.status >= 200 {
            headers.push(("content-length".into(), recorded[0].bytes.len().to_string()));
        }
    } else if chunked {
        headers.push(("transfer-encoding".into(), "chunked".into()));
    } else {
        headers.push(("content-length".into(), recorded[0].bytes.len().to_string()));
    }
    let s = wire.stream();
    if http1::write_head(s, resp.status, &headers)
        .and_then(|_| s.flush())
        .is_err()
    {
        return false;
    }
    if !no_body {
        for piece in &pieces {
            if !pause(piece.delay_ms, shared) {
                return false;
            }
            let s = wire.stream();
            let written = if chunked {
                http1::write_chunk(s, &piece.bytes)
            } else {
                s.write_all(&piece.bytes).and_then(|_| s.flush())
            };
            if written.is_err() {
                return false;
            }
        }
    }
    match resp.end {
        End::Complete => !chunked || no_body || http1::write_last_chunk(wire.stream()).is_ok(),
        End::Cut => false,
        End::Hang => {
            wire.wait_closed(&shared.stop);
            false
        }
    }
}
