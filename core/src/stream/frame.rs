//! WebSocket frames (RFC 6455 §5): the client's masked encoder and an
//! incremental decoder of the server's frames, fed chunks of any size,
//! that reassembles fragmented messages and never holds more than one
//! message's worth of bytes.

use bytes::{Bytes, BytesMut};

use crate::error::{Error, Result};

/// A frame's opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    /// A fragment continuing the message before it.
    Continuation,
    /// A UTF-8 text message.
    Text,
    /// A binary message.
    Binary,
    /// The close handshake.
    Close,
    /// A ping; the other side answers with a pong.
    Ping,
    /// The answer to a ping.
    Pong,
}

impl Opcode {
    /// The opcode of a frame's low 4 bits, when one is defined.
    pub fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    /// The opcode's 4 bits.
    pub fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// Appends one frame to `out`: masked with `mask`, as a client must (RFC
/// 6455 §5.3), or unmasked as a server sends (`None`: for test servers).
///
/// ```
/// use kubewire::stream::{Opcode, encode_frame};
/// let mut out = Vec::new();
/// encode_frame(Opcode::Binary, true, b"\x00hi", Some([1, 2, 3, 4]), &mut out);
/// assert_eq!(out, [0x82, 0x83, 1, 2, 3, 4, 0x00 ^ 1, b'h' ^ 2, b'i' ^ 3]);
/// out.clear();
/// encode_frame(Opcode::Close, true, &1000u16.to_be_bytes(), None, &mut out);
/// assert_eq!(out, [0x88, 0x02, 0x03, 0xE8]);
/// ```
pub fn encode_frame(
    opcode: Opcode,
    fin: bool,
    payload: &[u8],
    mask: Option<[u8; 4]>,
    out: &mut Vec<u8>,
) {
    out.reserve(payload.len() + 14);
    out.push(u8::from(fin) << 7 | opcode.bits());
    let masked = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(masked | n as u8),
        n @ 126..=0xFFFF => {
            out.push(masked | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(masked | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let Some(mask) = mask else {
        out.extend_from_slice(payload);
        return;
    };
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], mask);
}

/// XORs `data` with the repeating 4-byte `mask`.
pub(crate) fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let mut chunks = data.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let v = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ word;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    for (b, m) in chunks.into_remainder().iter_mut().zip(mask) {
        *b ^= m;
    }
}

/// What the decoder found: a whole message or a control frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A whole data message (its fragments joined): `Text` or `Binary`.
    Message(Opcode, Bytes),
    /// A ping with its payload.
    Ping(Bytes),
    /// A pong with its payload.
    Pong(Bytes),
    /// A close frame: its status code and reason, when it carried any.
    Close(Option<(u16, String)>),
}

/// A frame's header, once read.
#[derive(Clone, Copy, Debug)]
struct Header {
    fin: bool,
    opcode: Opcode,
    len: usize,
}

/// The incremental decoder of the server's frames.
///
/// ```
/// use kubewire::stream::{FrameDecoder, Incoming, Opcode};
/// let mut decoder = FrameDecoder::new(1 << 20);
/// let mut found = Vec::new();
/// for byte in [0x82u8, 0x03, 0x01, b'o', b'k'] {
///     decoder.feed(&[byte], &mut |m| found.push(m))?;
/// }
/// assert_eq!(found, [Incoming::Message(Opcode::Binary, bytes::Bytes::from_static(b"\x01ok"))]);
/// # Ok::<(), kubewire::Error>(())
/// ```
#[derive(Debug)]
pub struct FrameDecoder {
    max_message: usize,
    head: [u8; 14],
    head_len: usize,
    frame: Option<Header>,
    payload: BytesMut,
    /// The opcode and the fragments so far of a fragmented message.
    fragments: Option<(Opcode, BytesMut)>,
    /// The close code the last refusal calls for.
    refusal: u16,
}

impl FrameDecoder {
    /// A decoder that refuses messages (and frames) over `max_message`
    /// bytes.
    pub fn new(max_message: usize) -> FrameDecoder {
        FrameDecoder {
            max_message,
            head: [0; 14],
            head_len: 0,
            frame: None,
            payload: BytesMut::new(),
            fragments: None,
            refusal: CLOSE_PROTOCOL_ERROR,
        }
    }

    /// The status code to close with after `feed` failed (RFC 6455
    /// §7.4.1): 1009 when a message was over the bound, 1007 when a text
    /// message or a close reason was not UTF-8, 1002 (protocol error) for
    /// any other violation.
    ///
    /// ```
    /// use kubewire::stream::FrameDecoder;
    /// let mut decoder = FrameDecoder::new(4);
    /// // A binary message of 5 bytes, over the 4-byte bound.
    /// assert!(decoder.feed(&[0x82, 0x05, 1, 2, 3, 4, 5], &mut |_| {}).is_err());
    /// assert_eq!(decoder.refusal_code(), 1009);
    /// ```
    pub fn refusal_code(&self) -> u16 {
        self.refusal
    }

    /// The bytes held for frames and messages not yet complete.
    pub fn buffered(&self) -> usize {
        self.head_len + self.payload.len() + self.fragments.as_ref().map_or(0, |(_, f)| f.len())
    }

    /// Decodes `data`, calling `found` for every complete message or
    /// control frame. An error (a protocol violation or a message over the
    /// bound) leaves the decoder unusable: the connection must be closed.
    pub fn feed(&mut self, mut data: &[u8], found: &mut dyn FnMut(Incoming)) -> Result<()> {
        while !data.is_empty() {
            let Some(frame) = self.frame else {
                let taken = self.read_head(data)?;
                data = &data[taken..];
                if self.frame.is_some_and(|f| f.len == 0) {
                    self.finish(found)?;
                }
                continue;
            };
            let want = frame.len - self.payload.len();
            let take = want.min(data.len());
            self.payload.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.payload.len() == frame.len {
                self.finish(found)?;
            }
        }
        Ok(())
    }

    /// Reads header bytes from `data`; returns how many it took.
    fn read_head(&mut self, data: &[u8]) -> Result<usize> {
        let mut taken = 0;
        loop {
            let need = head_len(&self.head[..self.head_len]);
            if self.head_len == need {
                break;
            }
            let Some(&byte) = data.get(taken) else {
                return Ok(taken);
            };
            self.head[self.head_len] = byte;
            self.head_len += 1;
            taken += 1;
        }
        let head = &self.head[..self.head_len];
        if head[0] & 0x70 != 0 {
            return Err(violation(
                "a frame sets reserved bits (no extension was negotiated)",
            ));
        }
        if head[1] & 0x80 != 0 {
            return Err(violation("the server masked a frame (RFC 6455 §5.1)"));
        }
        let opcode = Opcode::from_bits(head[0] & 0x0F)
            .ok_or_else(|| violation(&format!("unknown opcode {:#x}", head[0] & 0x0F)))?;
        let fin = head[0] & 0x80 != 0;
        let len = match head[1] & 0x7F {
            126 => u64::from(u16::from_be_bytes([head[2], head[3]])),
            127 => u64::from_be_bytes(head[2..10].try_into().expect("8 bytes")),
            n => u64::from(n),
        };
        if opcode.is_control() && (len > 125 || !fin) {
            return Err(violation(
                "a control frame is fragmented or longer than 125 bytes",
            ));
        }
        let held = self.fragments.as_ref().map_or(0, |(_, f)| f.len() as u64);
        if len.saturating_add(held) > self.max_message as u64 {
            self.refusal = CLOSE_MESSAGE_TOO_BIG;
            return Err(violation(&format!(
                "a message of more than {} bytes (the bound is {})",
                len.saturating_add(held),
                self.max_message
            )));
        }
        self.frame = Some(Header {
            fin,
            opcode,
            len: len as usize,
        });
        self.payload = BytesMut::with_capacity(len as usize);
        Ok(taken)
    }

    /// A frame is complete: hand over what it finishes.
    fn finish(&mut self, found: &mut dyn FnMut(Incoming)) -> Result<()> {
        let frame = self.frame.take().expect("a frame is being read");
        self.head_len = 0;
        let payload = std::mem::take(&mut self.payload).freeze();
        match frame.opcode {
            Opcode::Ping => found(Incoming::Ping(payload)),
            Opcode::Pong => found(Incoming::Pong(payload)),
            Opcode::Close => found(Incoming::Close(self.refuse(close_payload(&payload))?)),
            Opcode::Continuation => {
                let Some((opcode, mut parts)) = self.fragments.take() else {
                    return Err(violation(
                        "a continuation frame with no message to continue",
                    ));
                };
                parts.extend_from_slice(&payload);
                if frame.fin {
                    found(self.refuse(message(opcode, parts.freeze()))?);
                } else {
                    self.fragments = Some((opcode, parts));
                }
            }
            opcode => {
                if self.fragments.is_some() {
                    return Err(violation("a new message began before the last one ended"));
                }
                if frame.fin {
                    found(self.refuse(message(opcode, payload))?);
                } else {
                    self.fragments = Some((opcode, BytesMut::from(&payload[..])));
                }
            }
        }
        Ok(())
    }

    /// Notes the close code a refusal calls for.
    fn refuse<T>(&mut self, outcome: std::result::Result<T, Refused>) -> Result<T> {
        outcome.map_err(|(code, e)| {
            self.refusal = code;
            e
        })
    }
}

/// How long the header that starts with `head` is (2 until its length
/// byte is read).
fn head_len(head: &[u8]) -> usize {
    match head.get(1).map(|b| b & 0x7F) {
        None => 2,
        Some(126) => 4,
        Some(127) => 10,
        Some(_) => 2,
    }
}

/// Close codes (RFC 6455 §7.4.1) a refusal calls for.
const CLOSE_PROTOCOL_ERROR: u16 = 1002;
const CLOSE_INVALID_PAYLOAD: u16 = 1007;
const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;

/// A refusal and the close code it calls for.
type Refused = (u16, Error);

fn message(opcode: Opcode, payload: Bytes) -> std::result::Result<Incoming, Refused> {
    if opcode == Opcode::Text && std::str::from_utf8(&payload).is_err() {
        return Err((
            CLOSE_INVALID_PAYLOAD,
            violation("a text message is not UTF-8"),
        ));
    }
    Ok(Incoming::Message(opcode, payload))
}

fn close_payload(payload: &[u8]) -> std::result::Result<Option<(u16, String)>, Refused> {
    match payload {
        [] => Ok(None),
        [_] => Err((
            CLOSE_PROTOCOL_ERROR,
            violation("a close frame with a 1-byte payload"),
        )),
        [hi, lo, reason @ ..] => {
            let reason = std::str::from_utf8(reason).map_err(|_| {
                (
                    CLOSE_INVALID_PAYLOAD,
                    violation("a close reason is not UTF-8"),
                )
            })?;
            Ok(Some((u16::from_be_bytes([*hi, *lo]), reason.to_string())))
        }
    }
}

pub(crate) fn violation(what: &str) -> Error {
    Error::Protocol(format!("websocket: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let opcode = Opcode::from_bits(opcode).expect("a defined opcode");
        encode_frame(opcode, fin, payload, None, &mut out);
        out
    }

    fn decode_all(bytes: &[u8], max: usize) -> Result<Vec<Incoming>> {
        let mut decoder = FrameDecoder::new(max);
        let mut found = Vec::new();
        decoder.feed(bytes, &mut |m| found.push(m))?;
        Ok(found)
    }

    #[test]
    fn lengths_of_every_width_decode() {
        for len in [0, 1, 125, 126, 65535, 65536, 200_000] {
            let payload = vec![7u8; len];
            let found = decode_all(&server_frame(2, true, &payload), 1 << 20).unwrap();
            assert_eq!(found, [Incoming::Message(Opcode::Binary, payload.into())]);
        }
    }

    #[test]
    fn fragments_join_and_controls_interleave() {
        let mut bytes = server_frame(2, false, b"ab");
        bytes.extend(server_frame(9, true, b"p"));
        bytes.extend(server_frame(0, false, b"cd"));
        bytes.extend(server_frame(0, true, b"e"));
        let found = decode_all(&bytes, 64).unwrap();
        assert_eq!(
            found,
            [
                Incoming::Ping(Bytes::from_static(b"p")),
                Incoming::Message(Opcode::Binary, Bytes::from_static(b"abcde")),
            ]
        );
    }

    #[test]
    fn violations_are_errors() {
        let masked = [0x82, 0x81, 0, 0, 0, 0, 1];
        assert!(decode_all(&masked, 64).is_err());
        assert!(decode_all(&[0xC2, 0x00], 64).is_err(), "reserved bit");
        assert!(decode_all(&[0x83, 0x00], 64).is_err(), "opcode 3");
        assert!(
            decode_all(&server_frame(0, true, b"x"), 64).is_err(),
            "lone continuation"
        );
        assert!(
            decode_all(&server_frame(9, false, b""), 64).is_err(),
            "fragmented ping"
        );
        assert!(
            decode_all(&server_frame(1, true, &[0xFF]), 64).is_err(),
            "bad UTF-8"
        );
        assert!(
            decode_all(&server_frame(8, true, &[3]), 64).is_err(),
            "1-byte close"
        );
    }

    #[test]
    fn the_bound_counts_fragments_and_refuses_before_reading() {
        let err = decode_all(&server_frame(2, true, &[0; 65]), 64).unwrap_err();
        assert!(err.to_string().contains("the bound is 64"), "{err}");
        let mut bytes = server_frame(2, false, &[0; 40]);
        bytes.extend(server_frame(0, true, &[0; 40]));
        assert!(decode_all(&bytes, 64).is_err());
        // A header announcing 2^63 bytes is refused without allocating.
        let mut huge = vec![0x82, 127];
        huge.extend_from_slice(&(1u64 << 63).to_be_bytes());
        assert!(decode_all(&huge, 1 << 20).is_err());
    }

    #[test]
    fn masking_round_trips() {
        let mut out = Vec::new();
        encode_frame(
            Opcode::Binary,
            true,
            &[9u8; 300],
            Some([0xA, 0xB, 0xC, 0xD]),
            &mut out,
        );
        assert_eq!(&out[..4], [0x82, 0x80 | 126, 1, 44]);
        let mut payload = out[8..].to_vec();
        apply_mask(&mut payload, [0xA, 0xB, 0xC, 0xD]);
        assert_eq!(payload, vec![9u8; 300]);
    }
}
