//! An upgraded connection without a socket: the client's bytes go to the
//! fixture's script, the server's come back re-chunked. The sans-IO
//! runner and [`crate::SansIoTransport`] open these where a transport would
//! open a TCP (and TLS) connection.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::chunking::Chunking;
use crate::fixture::{Chunk, Exchange, UpgradeEnd};
use crate::http1;
use crate::listener::lock;
use crate::matching::ActualRequest;
use crate::script::Script;
use crate::upgrade::{Conversation, Step, switching_head};

/// How long a read waits for the client to write what the fixture expects
/// next before failing (a single-threaded client that reads instead of
/// writing would otherwise wait forever).
const CLIENT_WAIT: Duration = Duration::from_secs(10);

enum Phase {
    /// Reading the request head.
    Request(Vec<u8>),
    /// Upgraded: the conversation runs.
    Upgraded {
        conversation: Box<Conversation>,
        id: String,
        reported: bool,
    },
    /// An ordinary answer was queued; the connection ends after it.
    Answered,
}

struct State {
    phase: Phase,
    out: VecDeque<Vec<u8>>,
    eof: bool,
    shut: bool,
}

/// The in-memory server end of one connection.
pub struct SansIoTunnel {
    script: Arc<Mutex<Script>>,
    chunking: Chunking,
    state: Mutex<State>,
    wake: Condvar,
}

impl std::fmt::Debug for SansIoTunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SansIoTunnel")
    }
}

impl SansIoTunnel {
    /// A connection answered from `script`, server bytes split by `chunking`.
    pub fn new(script: Arc<Mutex<Script>>, chunking: Chunking) -> SansIoTunnel {
        SansIoTunnel {
            script,
            chunking,
            state: Mutex::new(State {
                phase: Phase::Request(Vec::new()),
                out: VecDeque::new(),
                eof: false,
                shut: false,
            }),
            wake: Condvar::new(),
        }
    }

    fn queue(&self, state: &mut State, frames: Vec<Vec<u8>>) {
        let chunks: Vec<Chunk> = frames
            .into_iter()
            .map(|bytes| Chunk { bytes, delay_ms: 0 })
            .collect();
        state.out.extend(
            self.chunking
                .split(&chunks)
                .into_iter()
                .map(|c| c.bytes)
                .filter(|b| !b.is_empty()),
        );
    }

    /// The request head is in: answer it.
    fn answer(&self, state: &mut State, raw: &[u8], rest: &[u8]) {
        let head = match http1::parse_request_head(raw) {
            Ok(head) => head,
            Err(e) => {
                let body = format!("malformed request: {e}");
                self.queue(state, vec![plain_answer(400, &[], body.as_bytes())]);
                state.phase = Phase::Answered;
                return;
            }
        };
        let key = http1::header(&head.headers, "sec-websocket-key").map(str::to_string);
        let wants_upgrade = http1::header(&head.headers, "upgrade")
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        let actual =
            ActualRequest::from_target(&head.method, &head.target, head.headers, Vec::new());
        let taken = lock(&self.script).take_with_id(&actual);
        match taken {
            Ok((id, exchange)) => match &exchange.response.upgrade {
                Some(upgrade) if wants_upgrade => {
                    self.queue(state, vec![switching_head(&exchange, key.as_deref())]);
                    let mut conversation = Box::new(Conversation::new(upgrade));
                    conversation.handle_client(rest);
                    state.phase = Phase::Upgraded {
                        conversation,
                        id,
                        reported: false,
                    };
                }
                _ => {
                    self.queue(state, vec![recorded_answer(&exchange)]);
                    state.phase = Phase::Answered;
                }
            },
            Err(mismatch) => {
                let body = serde_json::to_vec_pretty(&mismatch).unwrap_or_default();
                let headers = [("content-type".to_string(), "application/json".to_string())];
                self.queue(state, vec![plain_answer(599, &headers, &body)]);
                state.phase = Phase::Answered;
            }
        }
    }
}

/// An ordinary (non-upgrade) answer as bytes, its body whole.
fn recorded_answer(exchange: &Exchange) -> Vec<u8> {
    let headers: Vec<(String, String)> = exchange
        .response
        .headers
        .iter()
        .filter(|(k, _)| k != "content-length" && k != "transfer-encoding")
        .cloned()
        .collect();
    plain_answer(
        exchange.response.status,
        &headers,
        &exchange.response.body_bytes(),
    )
}

fn plain_answer(status: u16, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut headers = headers.to_vec();
    headers.push(("content-length".into(), body.len().to_string()));
    http1::write_head(&mut out, status, &headers).expect("writing to memory");
    out.extend_from_slice(body);
    out
}

impl kubewire::Tunnel for SansIoTunnel {
    fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut state = lock(&self.state);
        let mut waited_since: Option<Instant> = None;
        loop {
            if let Some(piece) = state.out.front_mut() {
                let n = piece.len().min(buf.len());
                buf[..n].copy_from_slice(&piece[..n]);
                piece.drain(..n);
                if piece.is_empty() {
                    state.out.pop_front();
                }
                return Ok(n);
            }
            if state.shut {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "the tunnel was shut down",
                ));
            }
            if state.eof {
                return Ok(0);
            }
            let mut frames = Vec::new();
            let (mut wait, mut ended, mut hang) = (false, false, false);
            match &mut state.phase {
                Phase::Request(_) => wait = true,
                Phase::Answered => ended = true,
                Phase::Upgraded {
                    conversation,
                    id,
                    reported,
                } => {
                    loop {
                        match conversation.step() {
                            Step::Send { bytes, .. } => frames.push(bytes),
                            Step::WaitClient => {
                                wait = frames.is_empty();
                                break;
                            }
                            Step::End(end) => {
                                if frames.is_empty() {
                                    match end {
                                        UpgradeEnd::Closed | UpgradeEnd::Eof => ended = true,
                                        UpgradeEnd::Hang => hang = true,
                                    }
                                }
                                break;
                            }
                        }
                    }
                    if let Some(why) = conversation.failure()
                        && !std::mem::replace(reported, true)
                    {
                        lock(&self.script).fail(id, why);
                    }
                }
            }
            state.eof |= ended;
            if !frames.is_empty() {
                self.queue(&mut state, frames);
                continue;
            }
            if wait || hang {
                let since = *waited_since.get_or_insert_with(Instant::now);
                if !hang && since.elapsed() >= CLIENT_WAIT {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the fixture waits for the client to write; nothing came",
                    ));
                }
                state = self
                    .wake
                    .wait_timeout(state, Duration::from_millis(50))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
    }

    fn write_all(&self, data: &[u8]) -> std::io::Result<()> {
        let mut state = lock(&self.state);
        if state.shut {
            return Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the tunnel was shut down",
            ));
        }
        let mut answer = None;
        match &mut state.phase {
            Phase::Request(head) => {
                head.extend_from_slice(data);
                if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                    let rest = head.split_off(at + 4);
                    answer = Some((std::mem::take(head), rest));
                }
            }
            Phase::Upgraded { conversation, .. } => conversation.handle_client(data),
            Phase::Answered => {}
        }
        if let Some((raw, rest)) = answer {
            self.answer(&mut state, &raw, &rest);
        }
        self.wake.notify_all();
        Ok(())
    }

    fn shutdown(&self) {
        let mut state = lock(&self.state);
        state.shut = true;
        if let Phase::Upgraded { conversation, .. } = &mut state.phase {
            conversation.handle_client_eof();
        }
        self.wake.notify_all();
    }
}
