//! A client WebSocket connection after the handshake, without IO: bytes
//! from the server go in, messages come out; messages to send go in, masked
//! frames come out. It answers pings, echoes the server's close, and
//! ignores anything that arrives after a close.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::splitmix::SplitMix64;
use crate::stream::frame::{FrameDecoder, Incoming, Opcode, encode_frame, violation};

/// The largest message a session accepts by default: 16 MiB (the apiserver
/// sends exec output in messages of at most 32 KiB).
pub const DEFAULT_MAX_MESSAGE: usize = 16 << 20;

/// Masking keys from a seed the caller draws from a random source: the
/// core never reads one. SplitMix64, so that two connections given
/// different seeds never share keys.
///
/// ```
/// let mut masks = kubewire::stream::Masks::new(42);
/// assert_ne!(masks.next_mask(), masks.next_mask());
/// ```
#[derive(Clone, Debug)]
pub struct Masks(SplitMix64);

impl Masks {
    /// Masks derived from `seed`.
    pub fn new(seed: u64) -> Masks {
        Masks(SplitMix64::new(seed))
    }

    /// The next 4-byte masking key.
    pub fn next_mask(&mut self) -> [u8; 4] {
        ((self.0.next_u64() >> 32) as u32).to_le_bytes()
    }
}

/// Where the close handshake is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Closing {
    Open,
    /// We sent a close and wait for the server's.
    Sent,
    /// Both sides sent one (or the connection ended).
    Done,
}

/// A message or the end, as the connection hands them over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// A whole text or binary message.
    Message(Opcode, Bytes),
    /// The server closed the connection: its status code and reason
    /// (`None` when the close frame carried none).
    Closed(Option<(u16, String)>),
}

/// A client-side WebSocket connection, sans IO.
///
/// ```
/// use kubewire::stream::{Masks, Opcode, Received, WebSocket};
/// let mut ws = WebSocket::new(Masks::new(7), 1 << 20);
/// ws.handle_data(&[0x82, 0x02, 0x01, b'x', 0x88, 0x02, 0x03, 0xE8])?;
/// assert_eq!(ws.poll_received(), Some(Received::Message(Opcode::Binary, bytes::Bytes::from_static(b"\x01x"))));
/// assert_eq!(ws.poll_received(), Some(Received::Closed(Some((1000, String::new())))));
/// // The close is echoed, masked.
/// let echo = ws.poll_transmit().unwrap();
/// assert_eq!(&echo[..2], [0x88, 0x82]);
/// assert!(ws.is_closed());
/// # Ok::<(), kubewire::Error>(())
/// ```
#[derive(Debug)]
pub struct WebSocket {
    decoder: FrameDecoder,
    masks: Masks,
    closing: Closing,
    /// The server's close came (or the connection ended): nothing more is read.
    server_closed: bool,
    outgoing: VecDeque<Bytes>,
    received: VecDeque<Received>,
}

impl WebSocket {
    /// A connection whose messages may be up to `max_message` bytes.
    pub fn new(masks: Masks, max_message: usize) -> WebSocket {
        WebSocket {
            decoder: FrameDecoder::new(max_message),
            masks,
            closing: Closing::Open,
            server_closed: false,
            outgoing: VecDeque::new(),
            received: VecDeque::new(),
        }
    }

    /// Takes bytes read from the server.
    pub fn handle_data(&mut self, data: &[u8]) -> Result<()> {
        if self.server_closed {
            return Ok(()); // frames after a close are ignored (seen in real traffic)
        }
        let mut found = Vec::new();
        let fed = self.decoder.feed(data, &mut |m| found.push(m));
        for incoming in found {
            if self.server_closed {
                break;
            }
            match incoming {
                Incoming::Message(opcode, payload) => {
                    self.received.push_back(Received::Message(opcode, payload));
                }
                Incoming::Ping(payload) => {
                    if self.closing == Closing::Open {
                        self.queue(Opcode::Pong, &payload);
                    }
                }
                Incoming::Pong(_) => {}
                Incoming::Close(code) => {
                    if self.closing == Closing::Open {
                        // Echo the status code (RFC 6455 §5.5.1).
                        let echo = code.as_ref().map(|(c, _)| c.to_be_bytes().to_vec());
                        self.queue(Opcode::Close, echo.as_deref().unwrap_or_default());
                    }
                    self.closing = Closing::Done;
                    self.server_closed = true;
                    self.received.push_back(Received::Closed(code));
                }
            }
        }
        if let Err(e) = fed {
            self.fail();
            return Err(e);
        }
        Ok(())
    }

    /// The server ended the connection (EOF). An error when that came
    /// before its close frame.
    pub fn handle_eof(&mut self) -> Result<()> {
        let clean = self.server_closed;
        self.server_closed = true;
        self.closing = Closing::Done;
        if clean {
            Ok(())
        } else if self.decoder.buffered() > 0 {
            Err(violation("the connection ended in the middle of a frame"))
        } else {
            Err(Error::Protocol(
                "websocket: the server ended the connection without a close frame".into(),
            ))
        }
    }

    /// Queues a text or binary message.
    pub fn send(&mut self, opcode: Opcode, payload: &[u8]) -> Result<()> {
        if self.closing != Closing::Open {
            return Err(Error::Protocol(
                "websocket: cannot send after the connection closed".into(),
            ));
        }
        self.queue(opcode, payload);
        Ok(())
    }

    /// Starts the close handshake with `code` (1000: normal closure).
    pub fn close(&mut self, code: u16) {
        if self.closing == Closing::Open {
            self.queue(Opcode::Close, &code.to_be_bytes());
            self.closing = if self.server_closed {
                Closing::Done
            } else {
                Closing::Sent
            };
        }
    }

    /// The next frame to write to the server, masked.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.outgoing.pop_front()
    }

    /// The next message, or the server's close.
    pub fn poll_received(&mut self) -> Option<Received> {
        self.received.pop_front()
    }

    /// True once the server closed (or ended) the connection.
    pub fn is_closed(&self) -> bool {
        self.server_closed
    }

    fn fail(&mut self) {
        if self.closing == Closing::Open {
            let code = self.decoder.refusal_code();
            self.queue(Opcode::Close, &code.to_be_bytes());
        }
        self.closing = Closing::Done;
        self.server_closed = true;
    }

    fn queue(&mut self, opcode: Opcode, payload: &[u8]) {
        let mut frame = Vec::with_capacity(payload.len() + 14);
        encode_frame(
            opcode,
            true,
            payload,
            Some(self.masks.next_mask()),
            &mut frame,
        );
        self.outgoing.push_back(frame.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_are_answered_and_frames_after_close_ignored() {
        let mut ws = WebSocket::new(Masks::new(1), 1024);
        ws.handle_data(&[0x89, 0x01, b'p']).unwrap();
        let pong = ws.poll_transmit().unwrap();
        assert_eq!(pong[0], 0x8A);
        ws.handle_data(&[0x88, 0x02, 0x03, 0xE8, 0x88, 0x00, 0x82, 0x01, 1])
            .unwrap();
        assert_eq!(
            ws.poll_received(),
            Some(Received::Closed(Some((1000, String::new()))))
        );
        assert_eq!(
            ws.poll_received(),
            None,
            "a second close and a late message are ignored"
        );
        assert!(ws.poll_transmit().is_some(), "the close echo");
        assert!(ws.poll_transmit().is_none());
        assert!(ws.send(Opcode::Binary, b"x").is_err());
        assert!(ws.handle_eof().is_ok());
    }

    #[test]
    fn eof_before_close_is_an_error_that_says_where() {
        let mut ws = WebSocket::new(Masks::new(1), 1024);
        ws.handle_data(&[0x82, 0x05, 1]).unwrap();
        assert!(
            ws.handle_eof()
                .unwrap_err()
                .to_string()
                .contains("middle of a frame")
        );
        let mut ws = WebSocket::new(Masks::new(1), 1024);
        assert!(
            ws.handle_eof()
                .unwrap_err()
                .to_string()
                .contains("without a close frame")
        );
    }

    /// The close frame's status code `ws` sent after refusing `data`.
    fn refusal_close(data: &[u8], max_message: usize) -> u16 {
        let mut ws = WebSocket::new(Masks::new(1), max_message);
        assert!(ws.handle_data(data).is_err());
        let frame = ws.poll_transmit().unwrap();
        let mut payload = frame[6..].to_vec();
        crate::stream::frame::apply_mask(&mut payload, frame[2..6].try_into().unwrap());
        assert!(ws.poll_transmit().is_none(), "one close frame");
        u16::from_be_bytes(payload.try_into().unwrap())
    }

    #[test]
    fn a_refusal_closes_with_the_code_that_names_it() {
        assert_eq!(refusal_close(&[0x83, 0x00], 1024), 1002, "opcode 3");
        // A 5-byte binary message over a 4-byte bound: message too big.
        assert_eq!(refusal_close(&[0x82, 0x05, 1, 2, 3, 4, 5], 4), 1009);
        // The bound counts a fragmented message's parts together.
        assert_eq!(
            refusal_close(&[0x02, 0x03, 1, 2, 3, 0x80, 0x02, 4, 5], 4),
            1009
        );
        // A text message that is not UTF-8: invalid payload data.
        assert_eq!(refusal_close(&[0x81, 0x01, 0xFF], 1024), 1007);
        // A close reason that is not UTF-8.
        assert_eq!(refusal_close(&[0x88, 0x03, 0x03, 0xE8, 0xFF], 1024), 1007);
        assert_eq!(
            refusal_close(&[0x88, 0x01, 0x03], 1024),
            1002,
            "1-byte close"
        );
    }
}
