//! The fast path of item decoding: one validating pass over an object that
//! finds its `apiVersion`, `kind` and `spec` and reads its metadata, with
//! no allocation beyond the metadata's own strings.
//!
//! It handles the layout the apiserver writes. Anything else — a duplicate
//! field, a `null` where a string belongs, a Status, a list, text that is
//! not JSON — stops it, and `serde_json` decodes the object instead (and
//! words the error): both paths give the same item.

use std::ops::Range;

use bytes::Bytes;

use crate::json_scan::{Scan, Scanner, Stop, Str};
use crate::time::Timestamp;

/// What the scan found, as spans of the scanned text.
#[derive(Debug, Default)]
pub(crate) struct ItemScan {
    pub(crate) api_version: Option<Str>,
    pub(crate) kind: Option<Str>,
    pub(crate) meta: MetaScan,
    /// The `spec` member's value.
    pub(crate) spec: Option<Range<usize>>,
}

/// The metadata's fields.
#[derive(Debug, Default)]
pub(crate) struct MetaScan {
    /// name, generateName, namespace, uid, resourceVersion.
    pub(crate) strings: [Option<Str>; 5],
    pub(crate) generation: Option<i64>,
    pub(crate) created: Option<Timestamp>,
    pub(crate) deleted: Option<Timestamp>,
    /// The `labels` and `annotations` objects (absent when null).
    pub(crate) labels: Option<Range<usize>>,
    pub(crate) annotations: Option<Range<usize>>,
    /// The `ownerReferences` array (absent when null).
    pub(crate) owner_references: Option<Range<usize>>,
    pub(crate) finalizers: Vec<String>,
}

/// The metadata fields the scan reads, in [`MetaScan::strings`] order.
pub(crate) const META_STRINGS: [&[u8]; 5] = [
    b"name",
    b"generateName",
    b"namespace",
    b"uid",
    b"resourceVersion",
];

/// Scans the object at the scanner's cursor (which must be on its `{`).
pub(crate) fn scan_object(s: &mut Scanner<'_>) -> Scan<ItemScan> {
    let text = s.text;
    let mut found = ItemScan::default();
    let mut seen_meta = false;
    s.object(0, |s, key, depth| match plain_key(text, key)? {
        b"apiVersion" => once_string(s, &mut found.api_version),
        b"kind" => once_string(s, &mut found.kind),
        b"metadata" => {
            if std::mem::replace(&mut seen_meta, true) {
                return Err(Stop);
            }
            found.meta = scan_meta(s, depth)?;
            Ok(())
        }
        b"spec" => {
            if found.spec.is_some() {
                return Err(Stop);
            }
            found.spec = Some(s.span(depth)?);
            Ok(())
        }
        _ => s.value(depth),
    })?;
    if !seen_meta {
        return Err(Stop);
    }
    Ok(found)
}

/// A key's text; an escaped key stops the scan (serde matches field names
/// after unescaping them).
fn plain_key(text: &[u8], key: Str) -> Scan<&[u8]> {
    if key.escaped {
        return Err(Stop);
    }
    Ok(&text[key.span])
}

/// Marks a field seen; one given twice stops the scan (serde refuses a
/// duplicate field).
fn first_time(seen: &mut u16, bit: usize) -> Scan<()> {
    if *seen & (1 << bit) != 0 {
        return Err(Stop);
    }
    *seen |= 1 << bit;
    Ok(())
}

/// A container that opens with `open`, passed over by `check`, its span
/// into `slot`; `null` leaves `slot` empty.
fn checked<'a>(
    s: &mut Scanner<'a>,
    open: u8,
    slot: &mut Option<Range<usize>>,
    check: impl FnOnce(&mut Scanner<'a>) -> Scan<()>,
) -> Scan<()> {
    if s.null()? {
        return Ok(());
    }
    if s.peek() != Some(open) {
        return Err(Stop);
    }
    let start = s.at;
    check(s)?;
    *slot = Some(start..s.at);
    Ok(())
}

/// A string value whose escapes, if any, decode.
fn checked_string(s: &mut Scanner<'_>) -> Scan<Str> {
    if s.peek() != Some(b'"') {
        return Err(Stop);
    }
    let value = s.string()?;
    if value.escaped {
        unescape(s.text, &value)?;
    }
    Ok(value)
}

/// A string member given once.
fn once_string(s: &mut Scanner<'_>, slot: &mut Option<Str>) -> Scan<()> {
    if slot.is_some() || s.peek() != Some(b'"') {
        return Err(Stop);
    }
    *slot = Some(s.string()?);
    Ok(())
}

fn scan_meta(s: &mut Scanner<'_>, depth: usize) -> Scan<MetaScan> {
    if s.peek() != Some(b'{') {
        return Err(Stop);
    }
    let text = s.text;
    let mut meta = MetaScan::default();
    // Fields met so far: serde refuses a duplicate, so the scan stops.
    let mut seen = 0u16;
    s.object(depth, |s, key, depth| {
        let key = plain_key(text, key)?;
        let (bit, field) = match META_STRINGS.iter().position(|k| *k == key) {
            Some(i) => (i, Field::String(i)),
            None => match key {
                b"generation" => (5, Field::Generation),
                b"creationTimestamp" => (6, Field::Created),
                b"deletionTimestamp" => (7, Field::Deleted),
                b"labels" => (8, Field::Labels),
                b"annotations" => (9, Field::Annotations),
                b"ownerReferences" => (10, Field::Owners),
                b"finalizers" => (11, Field::Finalizers),
                _ => return s.value(depth),
            },
        };
        first_time(&mut seen, bit)?;
        match field {
            Field::String(i) => once_string(s, &mut meta.strings[i]),
            Field::Generation => {
                if !s.null()? {
                    meta.generation = Some(integer(s)?);
                }
                Ok(())
            }
            Field::Created => timestamp(s, &mut meta.created),
            Field::Deleted => timestamp(s, &mut meta.deleted),
            Field::Labels => string_map(s, depth, &mut meta.labels),
            Field::Annotations => string_map(s, depth, &mut meta.annotations),
            Field::Owners => owner_references(s, depth, &mut meta.owner_references),
            Field::Finalizers => decoded(s, depth, &mut meta.finalizers),
        }
    })?;
    Ok(meta)
}

enum Field {
    String(usize),
    Generation,
    Created,
    Deleted,
    Labels,
    Annotations,
    Owners,
    Finalizers,
}

/// An `i64` as serde reads one: digits only, in range.
fn integer(s: &mut Scanner<'_>) -> Scan<i64> {
    let span = s.number()?;
    let digits = &s.text[span];
    if digits.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        return Err(Stop);
    }
    std::str::from_utf8(digits)
        .map_err(|_| Stop)?
        .parse()
        .map_err(|_| Stop)
}

fn timestamp(s: &mut Scanner<'_>, slot: &mut Option<Timestamp>) -> Scan<()> {
    if s.null()? {
        return Ok(());
    }
    if s.peek() != Some(b'"') {
        return Err(Stop);
    }
    let value = s.string()?;
    if value.escaped {
        return Err(Stop);
    }
    let text = std::str::from_utf8(&s.text[value.span]).map_err(|_| Stop)?;
    *slot = Some(text.parse().map_err(|_| Stop)?);
    Ok(())
}

/// An object of strings (or null), checked so that decoding it later
/// cannot fail.
fn string_map(s: &mut Scanner<'_>, depth: usize, slot: &mut Option<Range<usize>>) -> Scan<()> {
    let text = s.text;
    checked(s, b'{', slot, |s| {
        s.object(depth, |s, key, _| {
            if key.escaped {
                unescape(text, &key)?;
            }
            checked_string(s).map(drop)
        })
    })
}

/// An array of owner references (or null), checked so that decoding it
/// later cannot fail: objects whose `apiVersion`, `kind`, `name` and `uid`
/// are strings and whose `controller` and `blockOwnerDeletion` are
/// booleans or null, each given at most once.
fn owner_references(
    s: &mut Scanner<'_>,
    depth: usize,
    slot: &mut Option<Range<usize>>,
) -> Scan<()> {
    const STRINGS: [&[u8]; 4] = [b"apiVersion", b"kind", b"name", b"uid"];
    const FLAGS: [&[u8]; 2] = [b"controller", b"blockOwnerDeletion"];
    let text = s.text;
    checked(s, b'[', slot, |s| {
        s.array(depth, |s, depth| {
            if s.peek() != Some(b'{') {
                return Err(Stop);
            }
            let mut seen = 0u16;
            s.object(depth, |s, key, depth| {
                let key = plain_key(text, key)?;
                if let Some(i) = STRINGS.iter().position(|k| *k == key) {
                    first_time(&mut seen, i)?;
                    return checked_string(s).map(drop);
                }
                if let Some(i) = FLAGS.iter().position(|k| *k == key) {
                    first_time(&mut seen, STRINGS.len() + i)?;
                    return match s.peek() {
                        Some(b't' | b'f' | b'n') => s.value(depth),
                        _ => Err(Stop),
                    };
                }
                s.value(depth)
            })
        })
    })
}

/// A member decoded by serde now (finalizers: short, and rare); `null`
/// leaves the default.
fn decoded<T: serde::de::DeserializeOwned>(
    s: &mut Scanner<'_>,
    depth: usize,
    slot: &mut T,
) -> Scan<()> {
    if s.null()? {
        return Ok(());
    }
    let span = s.span(depth)?;
    *slot = serde_json::from_slice(&s.text[span]).map_err(|_| Stop)?;
    Ok(())
}

/// The text of a string the scanner passed over (which may hold escapes).
pub(crate) fn unescape(text: &[u8], string: &Str) -> Scan<String> {
    let quoted = &text[string.span.start - 1..string.span.end + 1];
    serde_json::from_slice(quoted).map_err(|_| Stop)
}

/// A string's text, borrowed when it holds no escape.
pub(crate) fn text_of<'t>(text: &'t [u8], string: &Str) -> Scan<std::borrow::Cow<'t, str>> {
    if string.escaped {
        return unescape(text, string).map(std::borrow::Cow::Owned);
    }
    std::str::from_utf8(&text[string.span.clone()])
        .map(std::borrow::Cow::Borrowed)
        .map_err(|_| Stop)
}

/// A label or annotation map, or the owner references, the scan checked
/// (so that this cannot fail), decoded on first use; empty when absent.
pub(crate) fn decode_checked<T: serde::de::DeserializeOwned + Default>(source: &Bytes) -> T {
    if source.is_empty() {
        return T::default();
    }
    serde_json::from_slice(source).unwrap_or_default()
}
