//! A validating JSON scanner: one pass over the bytes checks the grammar
//! and UTF-8 and says where values are, without building anything.
//!
//! It is the fast path of item, watch-event and list decoding. It accepts
//! only text `serde_json` parses into a `Value` (property tests hold it to
//! that: no number beyond an f64, no lone UTF-16 surrogate); where
//! it stops — text that is not JSON, nesting deeper than it follows, a
//! shape the fast paths do not handle — the caller hands the text to
//! `serde_json`, whose answer (and error message) stands.

use std::ops::Range;

/// The scan stopped: the caller falls back to `serde_json`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Stop;

/// A scan's result.
pub(crate) type Scan<T> = Result<T, Stop>;

/// Nesting the scanner follows; deeper text goes to `serde_json` (whose
/// limit is 128).
const MAX_DEPTH: usize = 100;

/// A string the scanner passed over: its contents (without the quotes)
/// and whether they hold an escape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Str {
    pub(crate) span: Range<usize>,
    pub(crate) escaped: bool,
}

/// A cursor over JSON text.
#[derive(Debug)]
pub(crate) struct Scanner<'a> {
    pub(crate) text: &'a [u8],
    pub(crate) at: usize,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

impl<'a> Scanner<'a> {
    /// A scanner at `at` in `text`.
    pub(crate) fn new(text: &'a [u8], at: usize) -> Scanner<'a> {
        Scanner { text, at }
    }

    /// Skips JSON whitespace.
    #[inline]
    pub(crate) fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.text.get(self.at) {
            self.at += 1;
        }
    }

    /// The byte at the cursor.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Consumes `byte`, or stops.
    #[inline]
    pub(crate) fn eat(&mut self, byte: u8) -> Scan<()> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(Stop)
        }
    }

    /// Whitespace then the end of the text, or stops.
    pub(crate) fn end(&mut self) -> Scan<()> {
        self.ws();
        if self.at == self.text.len() {
            Ok(())
        } else {
            Err(Stop)
        }
    }

    /// The string at the cursor (which must be its opening quote).
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Scan<Str> {
        self.eat(b'"')?;
        let text = self.text;
        let start = self.at;
        let mut j = start;
        let mut escaped = false;
        loop {
            // Eight bytes at a time while none is a quote, a backslash, a
            // control character or non-ASCII. The lowest flagged byte is
            // always a true one (borrows only run upwards from it).
            while let Some(word) = text.get(j..j + 8) {
                let v = u64::from_le_bytes(word.try_into().map_err(|_| Stop)?);
                let flagged = ((v ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES)
                    | (v ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES)
                    | v.wrapping_sub(ONES * 0x20)
                    | v)
                    & HIGH;
                if flagged != 0 {
                    j += (flagged.trailing_zeros() / 8) as usize;
                    break;
                }
                j += 8;
            }
            match *text.get(j).ok_or(Stop)? {
                b'"' => {
                    self.at = j + 1;
                    return Ok(Str {
                        span: start..j,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    j = escape_end(text, j)?;
                }
                0..=0x1f => return Err(Stop),
                0x80.. => j = utf8_end(text, j)?,
                _ => j += 1,
            }
        }
    }

    /// Passes over the value at the cursor, checking it: one loop with the
    /// open containers on a bit stack (no call per nested value).
    pub(crate) fn value(&mut self, depth: usize) -> Scan<()> {
        // Bit n set: the n-th open container is an object.
        let mut objects: u128 = 0;
        let mut open = 0usize;
        loop {
            // At a value.
            match self.peek().ok_or(Stop)? {
                b'"' => {
                    self.string()?;
                }
                open_byte @ (b'{' | b'[') => {
                    let object = open_byte == b'{';
                    if self.open(depth + open + 1, open_byte, closing(object))? {
                        objects = (objects << 1) | u128::from(object);
                        open += 1;
                        if object {
                            self.key()?;
                        }
                        continue;
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                }
                _ => return Err(Stop),
            }
            // After a value: close containers until the next one starts.
            loop {
                if open == 0 {
                    return Ok(());
                }
                let in_object = objects & 1 == 1;
                if self.separator(closing(in_object))? {
                    if in_object {
                        self.key()?;
                    }
                    break;
                }
                objects >>= 1;
                open -= 1;
            }
        }
    }

    /// A member's key and colon; the cursor ends on its value.
    #[inline(always)]
    pub(crate) fn key(&mut self) -> Scan<Str> {
        let key = self.string()?;
        // Compact text (what the apiserver sends): the colon, then the value.
        if self.peek() == Some(b':') {
            self.at += 1;
        } else {
            self.ws();
            self.eat(b':')?;
        }
        self.ws();
        Ok(key)
    }

    /// The value at the cursor, passed over; its span.
    pub(crate) fn span(&mut self, depth: usize) -> Scan<Range<usize>> {
        let start = self.at;
        self.value(depth)?;
        Ok(start..self.at)
    }

    /// `null` at the cursor, consumed; false (and nothing consumed) for
    /// anything else.
    pub(crate) fn null(&mut self) -> Scan<bool> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    fn literal(&mut self, word: &[u8]) -> Scan<()> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(Stop)
        }
    }

    /// The number at the cursor; its span.
    pub(crate) fn number(&mut self) -> Scan<Range<usize>> {
        let start = self.at;
        let digits = |s: &mut Scanner<'_>| {
            let from = s.at;
            while s.peek().is_some_and(|b| b.is_ascii_digit()) {
                s.at += 1;
            }
            if s.at == from { Err(Stop) } else { Ok(()) }
        };
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => digits(self)?,
            _ => return Err(Stop),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            digits(self)?;
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.peek() {
            exponent = true;
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            digits(self)?;
        }
        // Only a number with an exponent, or longer than 300 characters,
        // can lie beyond an f64 (about 1.8e308: 309 digits before the
        // point), which `serde_json` will not hold in a `Value`; those few
        // are checked by it.
        if (exponent || self.at - start > 300)
            && serde_json::from_slice::<f64>(&self.text[start..self.at]).is_err()
        {
            return Err(Stop);
        }
        Ok(start..self.at)
    }

    /// The object at the cursor: `member` is called at each value (the
    /// cursor on it) with its key, and must pass over it.
    pub(crate) fn object(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&mut Scanner<'a>, Str, usize) -> Scan<()>,
    ) -> Scan<()> {
        if !self.open(depth, b'{', b'}')? {
            return Ok(());
        }
        loop {
            let key = self.key()?;
            member(self, key, depth + 1)?;
            if !self.separator(b'}')? {
                return Ok(());
            }
        }
    }

    /// The array at the cursor: `element` is called at each element and
    /// must pass over it.
    pub(crate) fn array(
        &mut self,
        depth: usize,
        mut element: impl FnMut(&mut Scanner<'a>, usize) -> Scan<()>,
    ) -> Scan<()> {
        if !self.open(depth, b'[', b']')? {
            return Ok(());
        }
        loop {
            element(self, depth + 1)?;
            if !self.separator(b']')? {
                return Ok(());
            }
        }
    }

    /// Opens a container at `depth`: false when it is empty (and closed).
    #[inline(always)]
    pub(crate) fn open(&mut self, depth: usize, open: u8, close: u8) -> Scan<bool> {
        if depth >= MAX_DEPTH {
            return Err(Stop);
        }
        self.eat(open)?;
        self.ws();
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(false);
        }
        Ok(true)
    }

    /// After a member or element: `,` (true: another follows) or `close`
    /// (false: the container ends).
    #[inline(always)]
    pub(crate) fn separator(&mut self, close: u8) -> Scan<bool> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                self.ws();
                Ok(true)
            }
            Some(byte) if byte == close => {
                self.at += 1;
                Ok(false)
            }
            _ => Err(Stop),
        }
    }
}

/// The byte that closes an object (`true`) or an array.
fn closing(object: bool) -> u8 {
    if object { b'}' } else { b']' }
}

/// The end of the escape whose backslash is at `at`.
fn escape_end(text: &[u8], at: usize) -> Scan<usize> {
    match text.get(at + 1).ok_or(Stop)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(at + 2),
        b'u' => match hex4(text, at)? {
            // A UTF-16 surrogate pair is one character; a lone half is
            // none (`serde_json` refuses it in a string).
            0xD800..=0xDBFF if text.get(at + 6) == Some(&b'\\') => match text.get(at + 7) {
                Some(b'u') if (0xDC00..=0xDFFF).contains(&hex4(text, at + 6)?) => Ok(at + 12),
                _ => Err(Stop),
            },
            0xD800..=0xDFFF => Err(Stop),
            _ => Ok(at + 6),
        },
        _ => Err(Stop),
    }
}

/// The four hex digits of the `\u` escape whose backslash is at `at`.
fn hex4(text: &[u8], at: usize) -> Scan<u32> {
    let hex = text.get(at + 2..at + 6).ok_or(Stop)?;
    hex.iter().try_fold(0, |code, &digit| {
        let value = char::from(digit).to_digit(16).ok_or(Stop)?;
        Ok(code << 4 | value)
    })
}

/// The end of the UTF-8 sequence whose lead byte is at `at`, if valid.
fn utf8_end(text: &[u8], at: usize) -> Scan<usize> {
    let width = match text[at] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return Err(Stop),
    };
    let sequence = text.get(at..at + width).ok_or(Stop)?;
    std::str::from_utf8(sequence).map_err(|_| Stop)?;
    Ok(at + width)
}

/// Checks that `text` is one JSON value (whitespace around it allowed).
#[cfg(test)]
fn validate(text: &[u8]) -> Scan<()> {
    let mut s = Scanner::new(text, 0);
    s.ws();
    s.value(0)?;
    s.end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What serde_json and std accept: UTF-8 text that is one JSON value
    /// a `serde_json::Value` holds.
    fn serde_accepts(bytes: &[u8]) -> bool {
        std::str::from_utf8(bytes).is_ok()
            && serde_json::from_slice::<serde_json::Value>(bytes).is_ok()
    }

    fn json() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::to_string(&f).unwrap()),
            any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
            Just(r#""\u00e9\ud834\uDD1E \"q\" \\ \/ \b\f\n\r\t""#.to_string()),
            Just(r#""\ud800 lone""#.to_string()),
            Just("1e400".to_string()),
            Just("-2.5E-400".to_string()),
        ];
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((any::<String>(), inner, "[ \n]{0,2}"), 0..6).prop_map(|m| {
                    let members: Vec<String> = m
                        .into_iter()
                        .map(|(k, v, ws)| {
                            format!("{}{ws}:{ws}{v}", serde_json::to_string(&k).unwrap())
                        })
                        .collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whatever the scanner accepts, serde_json accepts too (and the
        /// text is UTF-8): arbitrary bytes.
        #[test]
        fn accepts_nothing_serde_refuses(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            if validate(&bytes).is_ok() {
                prop_assert!(serde_accepts(&bytes));
            }
        }

        /// On JSON and on JSON with one byte changed, removed or inserted,
        /// the scanner and serde_json agree exactly.
        #[test]
        fn agrees_with_serde_on_json_and_damaged_json(
            bytes in crate::damage::damaged(
                json().prop_map(String::into_bytes),
                b"{}[]\",:\\ \t\nx0-.e\x01\x7f\x80\xc3\xff",
            ),
        ) {
            prop_assert_eq!(validate(&bytes).is_ok(), serde_accepts(&bytes));
        }
    }

    fn accepts(text: &str) -> bool {
        validate(text.as_bytes()).is_ok()
    }

    #[test]
    fn accepts_json() {
        for text in [
            r#"{}"#,
            r#" {"a":[1,-2.5e+3,0,true,false,null,"x\"y\\u00e9\n"],"b":{"c":{}}} "#,
            r#""héllo wörld — ☃ 𝄞 and more text past eight bytes""#,
            r#"[[],[[]],{"":""}]"#,
            "-0.0E-0",
        ] {
            assert!(accepts(text), "{text}");
            serde_json::from_str::<serde::de::IgnoredAny>(text).unwrap();
        }
    }

    #[test]
    fn stops_at_what_is_not_json() {
        for text in [
            "",
            "{",
            "{]",
            r#"{"a"}"#,
            r#"{"a":1,}"#,
            "[1,]",
            "01",
            "1.",
            "1e",
            "-",
            "+1",
            "tru",
            "nul",
            r#""\x""#,
            r#""\u12g4""#,
            "\"a\tb\"",
            "\"abcdefgh\u{1}\"",
            "{} x",
            r#"{"a":1 "b":2}"#,
            "\"unterminated",
        ] {
            assert!(!accepts(text), "{text:?}");
        }
        for bytes in [
            &b"\"\xff\""[..],
            b"\"abcdefghij\xc3\"",
            b"\"\xed\xa0\x80\"",
            b"\xc3\xa9",
        ] {
            assert_eq!(validate(bytes), Err(Stop));
        }
    }

    /// Each tricky sequence (valid and invalid UTF-8 of every length,
    /// overlong forms, surrogates, past U+10FFFF, truncations, controls,
    /// quotes, escapes) at every offset of the eight-byte window and with
    /// text after it: the scanner and serde_json agree on every string.
    #[test]
    fn strings_agree_with_serde_at_every_offset_of_the_word() {
        let sequences: &[&[u8]] = &[
            b"\xc3\xa9",
            b"\xe2\x98\x83",
            b"\xf0\x9d\x84\x9e",
            b"\xf4\x8f\xbf\xbf",
            b"\xef\xbf\xbf",
            b"\xc0\x80",
            b"\xc1\xbf",
            b"\xe0\x80\x80",
            b"\xe0\x9f\xbf",
            b"\xf0\x80\x80\x80",
            b"\xf0\x8f\xbf\xbf",
            b"\xed\x9f\xbf",
            b"\xed\xa0\x80",
            b"\xed\xbf\xbf",
            b"\xf4\x90\x80\x80",
            b"\xf5\x80\x80\x80",
            b"\xff",
            b"\x80",
            b"\xc3",
            b"\xe2\x98",
            b"\xf0\x9d\x84",
            b"\xc3\xc3",
            b"\xe2\x28\xa1",
            b"\x00",
            b"\x1f",
            b"\x7f",
            b"\\\"",
            b"\\u00e9",
            b"\\ud834\\udd1e",
            b"\\ud800",
            b"\\uDBFF\\uDFFF",
            b"\\ud800\\u0041",
            b"\\ud800\\n",
            b"\\ud800\\",
            b"\\udc00",
            b"\\udc00\\ud800",
            b"\\u12",
            b"\\",
            b"\"",
        ];
        for sequence in sequences {
            for before in 0..17 {
                for after in [0, 1, 7, 8, 9] {
                    let mut text = b"\"".to_vec();
                    text.extend(std::iter::repeat_n(b'a', before));
                    text.extend_from_slice(sequence);
                    text.extend(std::iter::repeat_n(b'b', after));
                    text.push(b'"');
                    assert_eq!(
                        validate(&text).is_ok(),
                        serde_accepts(&text),
                        "{:?}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
        }
    }

    /// `serde_json` holds a number in a `Value` only within an f64's
    /// range: beyond it the scan stops, as `serde_json` does.
    #[test]
    fn numbers_beyond_an_f64_are_refused_as_serde_refuses_them() {
        let digits = |n: usize| "9".repeat(n);
        for text in [
            "1e400".to_string(),
            "-1E+309".to_string(),
            "1.7976931348623159e308".to_string(),
            digits(309),
            format!("-{}.5", digits(310)),
            "[1,{\"a\":[2e999]}]".to_string(),
        ] {
            assert!(!accepts(&text), "{text}");
            assert!(!serde_accepts(text.as_bytes()), "{text}");
        }
        for text in [
            "1e-400".to_string(),
            "1.7976931348623157e308".to_string(),
            "-0e0".to_string(),
            digits(308),
            format!("0.{}", digits(400)),
            format!("{}e-400", digits(301)),
        ] {
            assert!(accepts(&text), "{text}");
            assert!(serde_accepts(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_left_to_serde() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(!accepts(&deep));
        let fine = "[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1);
        assert!(accepts(&fine));
    }

    #[test]
    fn strings_report_their_contents_and_escapes() {
        let text = br#""plain text here" "a\nb""#;
        let mut s = Scanner::new(text, 0);
        let first = s.string().unwrap();
        assert_eq!(
            (&text[first.span], first.escaped),
            (&b"plain text here"[..], false)
        );
        s.ws();
        let second = s.string().unwrap();
        assert_eq!((&text[second.span], second.escaped), (&br"a\nb"[..], true));
    }
}
