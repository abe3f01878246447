//! Incremental decoding of a watch stream: newline-delimited JSON events
//! arriving in chunks of any size.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::item::{Item, Names};
use crate::watch::event::{WatchEvent, WatchEventType};

/// Decodes a watch stream fed in chunks of any size.
///
/// Boundaries may fall anywhere: inside an event, inside a multi-byte UTF-8
/// character, between `\r` and `\n`. Blank lines are skipped. Memory held
/// is bounded by the largest single event (and by the configurable maximum
/// event size, beyond which a line is an error, never an allocation); each
/// byte is searched for a line end once.
///
/// ```
/// use kubewire::{WatchEventType, watch::WatchDecoder};
/// let mut decoder = WatchDecoder::new();
/// decoder.feed(br#"{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"5"}}}"#);
/// assert!(decoder.next_event().is_none()); // no line end yet
/// decoder.feed(b"\n{\"type\":\"BOOK");
/// let event = decoder.next_event().unwrap().unwrap();
/// assert_eq!((event.evtype, event.item.meta().name()), (WatchEventType::Added, "a"));
/// assert!(decoder.next_event().is_none());
/// ```
#[derive(Debug)]
pub struct WatchDecoder {
    /// The start of an incomplete line.
    partial: BytesMut,
    /// Stream offset of the first byte of `partial`.
    partial_offset: u64,
    /// Stream offset of the next byte fed.
    offset: u64,
    /// Complete lines (or oversized-line errors) not yet decoded.
    lines: VecDeque<Line>,
    max_event_size: usize,
    /// Dropping the rest of an oversized line until its newline.
    skipping: bool,
    /// Length of the last event that spanned chunks: the next one starts
    /// with that much room, so it is not regrown piece by piece.
    typical: usize,
    /// The stream's items share their apiVersion and kind strings.
    names: Names,
}

#[derive(Debug)]
enum Line {
    Complete { offset: u64, bytes: Bytes },
    Oversized { offset: u64 },
}

/// The size of the buffers `feed_bytes` assembles cut events in.
const SHARED_BUFFER: usize = 64 << 10;

impl Default for WatchDecoder {
    fn default() -> WatchDecoder {
        WatchDecoder::new()
    }
}

impl WatchDecoder {
    /// The default bound on one event: 64 MiB.
    pub const DEFAULT_MAX_EVENT_SIZE: usize = 64 << 20;

    /// A decoder with the default maximum event size.
    pub fn new() -> WatchDecoder {
        WatchDecoder::with_max_event_size(WatchDecoder::DEFAULT_MAX_EVENT_SIZE)
    }

    /// A decoder that rejects events longer than `max` bytes.
    pub fn with_max_event_size(max: usize) -> WatchDecoder {
        WatchDecoder {
            partial: BytesMut::new(),
            partial_offset: 0,
            offset: 0,
            lines: VecDeque::new(),
            max_event_size: max.max(1),
            skipping: false,
            typical: 0,
            names: Names::default(),
        }
    }

    /// Bytes held for an incomplete event.
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// Feeds the next bytes of the stream. Decoding happens in
    /// [`WatchDecoder::next_event`]. Each event's bytes are copied out of
    /// `chunk` into a buffer of their own, so a kept item holds exactly
    /// its object.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.feed_with(chunk, false, |range| Bytes::copy_from_slice(&chunk[range]));
    }

    /// Feeds the next bytes of the stream without copying them: events
    /// that lie whole in `chunk` are slices of it, and events cut by a
    /// chunk boundary are assembled one after another in shared 64 KiB
    /// buffers. An item keeps the whole buffer it lies in alive; items kept
    /// for long (a cache) are better fed with [`WatchDecoder::feed`].
    ///
    /// ```
    /// use kubewire::watch::WatchDecoder;
    /// let chunk = bytes::Bytes::from_static(
    ///     b"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}}}\n");
    /// let mut decoder = WatchDecoder::new();
    /// decoder.feed_bytes(chunk.clone());
    /// let event = decoder.next_event().unwrap().unwrap();
    /// // The object is a slice of the chunk, not a copy.
    /// assert!(chunk.as_ptr_range().contains(&event.item.raw().as_ptr()));
    /// ```
    pub fn feed_bytes(&mut self, chunk: Bytes) {
        self.feed_with(&chunk, true, |range| chunk.slice(range));
    }

    /// Splits `chunk` into lines; `line` makes the bytes of a line that
    /// lies whole in it. `share`: assembled lines share their buffers.
    fn feed_with(
        &mut self,
        chunk: &[u8],
        share: bool,
        line: impl Fn(std::ops::Range<usize>) -> Bytes,
    ) {
        let mut at = 0;
        while at < chunk.len() {
            let newline = memchr::memchr(b'\n', &chunk[at..]);
            let take = newline.map_or(chunk.len() - at, |i| i + 1);
            let piece = at..at + take;
            at += take;
            if self.skipping {
                self.offset += take as u64;
                self.skipping = newline.is_none();
                continue;
            }
            if self.partial.is_empty() {
                self.partial_offset = self.offset;
            }
            let content = if newline.is_some() { take - 1 } else { take };
            if self.partial.len() + content > self.max_event_size {
                self.lines.push_back(Line::Oversized {
                    offset: self.partial_offset,
                });
                self.partial = BytesMut::new();
                self.skipping = newline.is_none();
                self.offset += take as u64;
                continue;
            }
            self.offset += take as u64;
            if newline.is_none() {
                if self.partial.is_empty() {
                    let room = self.typical.clamp(take, self.max_event_size);
                    // Shared buffers hold several events; a reserve within
                    // the room left allocates nothing.
                    let shared = SHARED_BUFFER.min(self.max_event_size);
                    self.partial
                        .reserve(if share { room.max(shared) } else { room });
                }
                self.partial.extend_from_slice(&chunk[piece]);
                continue;
            }
            let bytes = if self.partial.is_empty() {
                line(piece.start..piece.start + content)
            } else {
                self.partial
                    .extend_from_slice(&chunk[piece.start..piece.start + content]);
                self.typical = self.partial.len() + self.partial.len() / 8;
                if share {
                    self.partial.split().freeze()
                } else {
                    std::mem::take(&mut self.partial).freeze()
                }
            };
            self.lines.push_back(Line::Complete {
                offset: self.partial_offset,
                bytes,
            });
        }
    }

    /// The next complete event, or an error for one bad line (the decoder
    /// stays usable); `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<Result<WatchEvent>> {
        while let Some(line) = self.lines.pop_front() {
            match line {
                Line::Oversized { offset } => {
                    return Some(Err(Error::WatchLine {
                        offset,
                        message: format!(
                            "event larger than the maximum of {} bytes; skipped",
                            self.max_event_size
                        ),
                    }));
                }
                Line::Complete { offset, bytes } => {
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Some(decode_line(bytes, offset, &mut self.names));
                }
            }
        }
        None
    }

    /// Ends the stream: a last event without its newline is decoded; an
    /// incomplete one is an error naming its offset.
    pub fn finish(&mut self) -> Option<Result<WatchEvent>> {
        if self.skipping {
            self.skipping = false;
            return None;
        }
        let rest = std::mem::take(&mut self.partial).freeze();
        if rest.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        match decode_line(rest, self.partial_offset, &mut self.names) {
            Ok(event) => Some(Ok(event)),
            Err(Error::WatchLine { offset, message }) => Some(Err(Error::WatchLine {
                offset,
                message: format!("the stream ended inside an event: {message}"),
            })),
            Err(other) => Some(Err(other)),
        }
    }
}

/// The generic shape, for lines the fast path does not recognise.
#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(rename = "type")]
    evtype: &'a str,
    #[serde(borrow)]
    object: &'a RawValue,
}

/// Decodes one line (without its newline; a trailing `\r` is allowed).
fn decode_line(line: Bytes, offset: u64, names: &mut Names) -> Result<WatchEvent> {
    let err = |message: String| Error::WatchLine { offset, message };
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let start = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let text = &line[start..end];
    // Fast path: the apiserver writes `{"type":"T","object":{...}}`; any
    // other layout (or a fast-path object that does not decode) goes the
    // generic way, so both accept exactly the same lines.
    if let Some((evtype, from, to)) = fast_split(text)
        && let Ok(event) =
            decode_object(evtype, line.slice(start + from..start + to), offset, names)
    {
        return Ok(event);
    }
    let raw: RawEvent<'_> =
        serde_json::from_slice(text).map_err(|e| err(format!("not a watch event: {e}")))?;
    let evtype = WatchEventType::parse(raw.evtype.as_bytes())
        .ok_or_else(|| err(format!("unknown event type {:?}", raw.evtype)))?;
    let inner = raw.object.get().as_bytes();
    let from = inner.as_ptr() as usize - line.as_ptr() as usize;
    decode_object(evtype, line.slice(from..from + inner.len()), offset, names)
}

fn decode_object(
    evtype: WatchEventType,
    object: Bytes,
    offset: u64,
    names: &mut Names,
) -> Result<WatchEvent> {
    let err = |message: String| Error::WatchLine { offset, message };
    // Item decoding validates the whole object (JSON and UTF-8): no
    // unvalidated byte is handed out.
    let item = if evtype == WatchEventType::Error {
        Item::decode_status_object(object)
    } else {
        Item::decode_with(object, names)
    };
    let item = item.map_err(|e| err(format!("{evtype} event: {e}")))?;
    Ok(WatchEvent { evtype, item })
}

/// Splits `{"type":"T","object":OBJ}` without parsing OBJ; `None` for any
/// other layout. OBJ is validated by decoding it afterwards.
fn fast_split(text: &[u8]) -> Option<(WatchEventType, usize, usize)> {
    const PREFIX: &[u8] = b"{\"type\":\"";
    const MIDDLE: &[u8] = b"\",\"object\":";
    let rest = text.strip_prefix(PREFIX)?;
    let quote = memchr::memchr(b'"', rest)?;
    let evtype = WatchEventType::parse(&rest[..quote])?;
    let after = rest[quote..].strip_prefix(MIDDLE)?;
    if text.last() != Some(&b'}') || after.first() != Some(&b'{') {
        return None;
    }
    let from = text.len() - after.len();
    Some((evtype, from, text.len() - 1))
}
