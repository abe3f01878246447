//! The server's side of an upgraded connection, without IO: the `101`
//! head, the recorded server frames, and the client's masked frames
//! compared with the recorded ones by opcode and payload
//! (`fixtures/FORMAT-upgrade.md`). The replay server and the sans-IO
//! tunnel both run it.

use std::collections::VecDeque;

use base64::Engine as _;

use kubewire::stream::Opcode;

use crate::fixture::{Exchange, Side, Upgrade, UpgradeEnd, WsMessage, opcode_name};

/// The close code a mismatch ends the conversation with (private range).
pub const MISMATCH_CLOSE: u16 = 4599;

/// What the server does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Write these bytes after a pause of `delay_ms`.
    Send {
        /// Milliseconds to wait first.
        delay_ms: u64,
        /// The bytes: one frame, or part of one for a cut.
        bytes: Vec<u8>,
    },
    /// The next entry is the client's: read more of its bytes.
    WaitClient,
    /// The conversation is over: end the connection this way.
    End(UpgradeEnd),
}

/// The `101` head for `exchange`, answering the client's
/// `sec-websocket-key` unless the fixture records its own (wrong) accept.
pub fn switching_head(exchange: &Exchange, key: Option<&str>) -> Vec<u8> {
    let mut head = String::from("HTTP/1.1 101 Switching Protocols\r\n");
    let mut has_accept = false;
    for (name, value) in &exchange.response.headers {
        has_accept |= name == "sec-websocket-accept";
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !has_accept {
        head.push_str(&format!(
            "sec-websocket-accept: {}\r\n",
            kubewire::stream::accept_for(key.unwrap_or_default())
        ));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// An unmasked server frame.
pub fn server_frame(opcode: Opcode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    kubewire::stream::encode_frame(opcode, fin, payload, None, &mut out);
    out
}

/// A frame the client sent, unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ClientFrame {
    opcode: Opcode,
    payload: Vec<u8>,
}

/// One upgraded conversation, sans IO.
#[derive(Debug)]
pub struct Conversation {
    messages: Vec<WsMessage>,
    next: usize,
    end: UpgradeEnd,
    inbox: Vec<u8>,
    frames: VecDeque<ClientFrame>,
    replies: VecDeque<Vec<u8>>,
    client_eof: bool,
    client_closed: bool,
    failure: Option<String>,
    failed_sent: bool,
}

impl Conversation {
    /// The conversation `upgrade` records.
    pub fn new(upgrade: &Upgrade) -> Conversation {
        Conversation {
            messages: upgrade.messages.clone(),
            next: 0,
            end: upgrade.end,
            inbox: Vec::new(),
            frames: VecDeque::new(),
            replies: VecDeque::new(),
            client_eof: false,
            client_closed: false,
            failure: None,
            failed_sent: false,
        }
    }

    /// What went wrong, when the client did not say what was recorded.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// Takes bytes the client wrote.
    pub fn handle_client(&mut self, data: &[u8]) {
        if self.client_closed {
            return; // what follows a client's close is not compared
        }
        self.inbox.extend_from_slice(data);
        while let Some((frame, used)) = self.parse_frame() {
            self.inbox.drain(..used);
            match frame {
                Ok(frame) => self.receive(frame),
                Err(why) => {
                    self.fail(why);
                    return;
                }
            }
            if self.client_closed {
                self.inbox.clear();
                return;
            }
        }
    }

    /// The client ended its side.
    pub fn handle_client_eof(&mut self) {
        self.client_eof = true;
    }

    fn receive(&mut self, frame: ClientFrame) {
        let expected = self.messages.get(self.next..).unwrap_or_default();
        let first_client = expected.iter().find(|m| m.from == Side::Client);
        let heartbeat = matches!(frame.opcode, Opcode::Ping | Opcode::Pong)
            && first_client.is_none_or(|m| m.opcode != frame.opcode);
        if heartbeat {
            if frame.opcode == Opcode::Ping {
                self.replies
                    .push_back(server_frame(Opcode::Pong, true, &frame.payload));
            }
            return;
        }
        self.client_closed = frame.opcode == Opcode::Close;
        self.frames.push_back(frame);
    }

    /// The next thing to do.
    pub fn step(&mut self) -> Step {
        if let Some(reply) = self.replies.pop_front() {
            return Step::Send {
                delay_ms: 0,
                bytes: reply,
            };
        }
        if let Some(why) = &self.failure {
            if !std::mem::replace(&mut self.failed_sent, true) {
                let mut payload = MISMATCH_CLOSE.to_be_bytes().to_vec();
                payload.extend(why.bytes().take(120));
                return Step::Send {
                    delay_ms: 0,
                    bytes: server_frame(Opcode::Close, true, &payload),
                };
            }
            return Step::End(UpgradeEnd::Eof);
        }
        loop {
            let Some(entry) = self.messages.get(self.next).cloned() else {
                let unread = self.frames.iter().find(|f| f.opcode != Opcode::Close);
                if let Some(frame) = unread {
                    let why = format!(
                        "the client sent a {} frame the fixture does not have: {:?}",
                        opcode_name(frame.opcode),
                        printable(&frame.payload)
                    );
                    self.fail(why);
                    return self.step();
                }
                return Step::End(self.end);
            };
            if entry.from == Side::Server {
                self.next += 1;
                let mut bytes = server_frame(entry.opcode, entry.fin, &entry.payload);
                if let Some(cut) = entry.cut_after {
                    bytes.truncate(cut);
                    self.next = self.messages.len();
                    self.end = UpgradeEnd::Eof;
                }
                return Step::Send {
                    delay_ms: entry.delay_ms,
                    bytes,
                };
            }
            let Some(frame) = self.frames.pop_front() else {
                if !self.client_eof {
                    return Step::WaitClient;
                }
                let answers_close = entry.opcode == Opcode::Close
                    && self.messages[..self.next]
                        .iter()
                        .any(|m| m.from == Side::Server && m.opcode == Opcode::Close);
                if answers_close {
                    self.next += 1;
                    continue;
                }
                self.fail(format!(
                    "the client ended the connection instead of sending {}",
                    describe(entry.opcode, &entry.payload)
                ));
                return self.step();
            };
            if frame.opcode != entry.opcode || frame.payload != entry.payload {
                self.fail(format!(
                    "message {}: expected {}, got {}",
                    self.next,
                    describe(entry.opcode, &entry.payload),
                    describe(frame.opcode, &frame.payload)
                ));
                return self.step();
            }
            self.next += 1;
        }
    }

    fn fail(&mut self, why: String) {
        if self.failure.is_none() {
            self.failure = Some(why);
        }
    }

    /// A whole client frame at the start of the inbox, and its length.
    fn parse_frame(&self) -> Option<(Result<ClientFrame, String>, usize)> {
        let b = &self.inbox;
        if b.len() < 2 {
            return None;
        }
        let Some(opcode) = Opcode::from_bits(b[0] & 0x0F) else {
            return Some((
                Err(format!("the client sent opcode {:#x}", b[0] & 0x0F)),
                b.len(),
            ));
        };
        if b[1] & 0x80 == 0 {
            return Some((
                Err("the client sent an unmasked frame (RFC 6455 §5.1)".into()),
                b.len(),
            ));
        }
        let (len, at) = match b[1] & 0x7F {
            126 if b.len() >= 4 => (u64::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().ok()?), 10),
            126 | 127 => return None,
            n => (u64::from(n), 2),
        };
        let len = usize::try_from(len).ok()?;
        let total = at + 4 + len;
        if b.len() < total {
            return None;
        }
        let mask = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        let payload = b[at + 4..total]
            .iter()
            .enumerate()
            .map(|(i, x)| x ^ mask[i % 4])
            .collect();
        Some((Ok(ClientFrame { opcode, payload }), total))
    }
}

fn printable(payload: &[u8]) -> String {
    match std::str::from_utf8(payload) {
        Ok(text) => text.escape_debug().take(120).collect(),
        Err(_) => format!(
            "base64 {}",
            base64::engine::general_purpose::STANDARD.encode(&payload[..payload.len().min(60)])
        ),
    }
}

fn describe(opcode: Opcode, payload: &[u8]) -> String {
    format!("{} \"{}\"", opcode_name(opcode), printable(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(opcode: Opcode, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        kubewire::stream::encode_frame(opcode, true, payload, Some([9, 8, 7, 6]), &mut out);
        out
    }

    fn message(from: Side, opcode: Opcode, payload: &[u8]) -> WsMessage {
        WsMessage {
            from,
            opcode,
            payload: payload.to_vec(),
            fin: true,
            delay_ms: 0,
            cut_after: None,
        }
    }

    #[test]
    fn compares_client_frames_and_answers_pings() {
        let upgrade = Upgrade {
            protocol: "v4.channel.k8s.io".into(),
            messages: vec![
                message(Side::Client, Opcode::Binary, b"\x00ping"),
                message(Side::Server, Opcode::Binary, b"\x00pong"),
            ],
            end: UpgradeEnd::Closed,
        };
        let mut c = Conversation::new(&upgrade);
        assert_eq!(c.step(), Step::WaitClient);
        c.handle_client(&masked(Opcode::Ping, b"hb"));
        assert!(matches!(c.step(), Step::Send { bytes, .. } if bytes[0] == 0x8A));
        c.handle_client(&masked(Opcode::Binary, b"\x00ping"));
        assert!(matches!(c.step(), Step::Send { bytes, .. } if bytes.ends_with(b"pong")));
        assert_eq!(c.step(), Step::End(UpgradeEnd::Closed));

        let mut c = Conversation::new(&upgrade);
        c.handle_client(&masked(Opcode::Binary, b"\x00pang"));
        assert!(matches!(c.step(), Step::Send { bytes, .. } if bytes[0] == 0x88));
        assert!(c.failure().unwrap().contains("pang"));
        assert_eq!(c.step(), Step::End(UpgradeEnd::Eof));
    }
}
