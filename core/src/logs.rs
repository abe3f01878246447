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
/// use kubewire::LineDecoder;
/// let mut d = LineDecoder::new(true);
/// let mut lines = d.feed(b"2026-11-21T05:00:00.5Z hello\n2026-11-21T05:00:01Z wor");
/// lines.extend(d.feed(b"ld\r\n"));
/// assert_eq!(lines.len(), 2);
/// assert_eq!(lines[1].text, "world");
/// assert_eq!(lines[0].timestamp.unwrap().to_string(), "2026-11-21T05:00:00.5Z");
/// assert!(d.finish().is_none());
/// ```
#[derive(Debug, Default)]
pub struct LineDecoder {
    partial: Vec<u8>,
    timestamps: bool,
}

impl LineDecoder {
    /// A decoder; `timestamps` when the request asked for them.
    pub fn new(timestamps: bool) -> LineDecoder {
        LineDecoder {
            partial: Vec::new(),
            timestamps,
        }
    }

    fn line(&self, raw: &[u8]) -> LogLine {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
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
            if self.partial.is_empty() {
                out.push(self.line(&rest[..i]));
            } else {
                self.partial.extend_from_slice(&rest[..i]);
                let whole = std::mem::take(&mut self.partial);
                out.push(self.line(&whole));
            }
            rest = &rest[i + 1..];
        }
        self.partial.extend_from_slice(rest);
        out
    }

    /// Ends the stream: the last line when it had no newline.
    pub fn finish(&mut self) -> Option<LogLine> {
        if self.partial.is_empty() {
            return None;
        }
        let whole = std::mem::take(&mut self.partial);
        Some(self.line(&whole))
    }
}
