//! Pod logs: a sans-IO line decoder for log streams (followed or not).

use crate::time::Timestamp;

/// One log line. With `timestamps=true` the apiserver prefixes each line
/// with an RFC 3339 time, split off into `timestamp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// The time the kubelet recorded, when asked for.
    pub timestamp: Option<Timestamp>,
    /// The line, without its newline (invalid UTF-8 replaced).
    pub text: String,
}

/// Splits a log stream fed in chunks of any size into lines. Boundaries may
/// fall anywhere, inside a multi-byte character included; a last line
/// without a newline comes out of [`LineDecoder::finish`].
///
/// ```
/// use kubewire::request::LineDecoder;
/// let mut d = LineDecoder::new(true);
/// let mut lines = d.feed(b"2026-11-21T05:00:00.5Z hello\n2026-11-21T05:00:01Z wor");
/// lines.extend(d.feed(b"ld\r\n"));
/// assert_eq!(lines.len(), 2);
/// assert_eq!(lines[1].text, "world");
/// assert_eq!(lines[0].timestamp.unwrap().to_string(), "2026-11-21T05:00:00.5Z");
/// assert!(d.finish().is_none());
/// ```
///
/// Memory is bounded: a line longer than the limit (1 MiB by default) is
/// delivered in pieces of at most that size, cut between characters, at the
/// same places whatever the chunking; only the first piece carries the
/// timestamp.
#[derive(Debug)]
pub struct LineDecoder {
    partial: Vec<u8>,
    timestamps: bool,
    max_line: usize,
    /// The bytes in `partial` continue a line already partly delivered.
    continued: bool,
}

impl Default for LineDecoder {
    fn default() -> LineDecoder {
        LineDecoder::new(false)
    }
}

impl LineDecoder {
    /// The default longest piece of a line, in bytes.
    pub const DEFAULT_MAX_LINE: usize = 1 << 20;

    /// A decoder; `timestamps` when the request asked for them.
    pub fn new(timestamps: bool) -> LineDecoder {
        LineDecoder::with_max_line(timestamps, LineDecoder::DEFAULT_MAX_LINE)
    }

    /// A decoder delivering lines longer than `max` bytes in pieces.
    pub fn with_max_line(timestamps: bool, max: usize) -> LineDecoder {
        LineDecoder {
            partial: Vec::new(),
            timestamps,
            max_line: max.max(4),
            continued: false,
        }
    }

    /// Delivers leading pieces of `partial` while it is longer than the
    /// limit, each cut before a character that does not fit.
    fn spill(&mut self, out: &mut Vec<LogLine>) {
        while self.partial.len() > self.max_line {
            let mut cut = self.max_line;
            // Never inside a UTF-8 sequence (continuation bytes are 10xxxxxx).
            while cut > self.max_line - 3 && self.partial[cut] & 0xC0 == 0x80 {
                cut -= 1;
            }
            let rest = self.partial.split_off(cut);
            let piece = std::mem::replace(&mut self.partial, rest);
            let line = self.line(&piece, false);
            out.push(line);
            self.continued = true;
        }
    }

    fn line(&self, raw: &[u8], last: bool) -> LogLine {
        let raw = if last {
            raw.strip_suffix(b"\r").unwrap_or(raw)
        } else {
            raw
        };
        if self.continued {
            return LogLine {
                timestamp: None,
                text: String::from_utf8_lossy(raw).into_owned(),
            };
        }
        let text = String::from_utf8_lossy(raw);
        if self.timestamps
            && let Some((stamp, rest)) = text.split_once(' ')
            && let Ok(t) = stamp.parse::<Timestamp>()
        {
            return LogLine {
                timestamp: Some(t),
                text: rest.to_string(),
            };
        }
        LogLine {
            timestamp: None,
            text: text.into_owned(),
        }
    }

    /// Feeds the next bytes; returns the lines they completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<LogLine> {
        let mut out = Vec::new();
        let mut rest = chunk;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            self.partial.extend_from_slice(&rest[..i]);
            self.spill(&mut out);
            let whole = std::mem::take(&mut self.partial);
            out.push(self.line(&whole, true));
            self.continued = false;
            rest = &rest[i + 1..];
        }
        self.partial.extend_from_slice(rest);
        self.spill(&mut out);
        out
    }

    /// Ends the stream: the last line when it had no newline.
    pub fn finish(&mut self) -> Option<LogLine> {
        if self.partial.is_empty() {
            return None;
        }
        let whole = std::mem::take(&mut self.partial);
        let line = self.line(&whole, true);
        self.continued = false;
        Some(line)
    }
}
