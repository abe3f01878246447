//! One pass over a list body: where the `items` array and its objects
//! are, each item scanned (validated, its metadata found) as it is passed
//! over and handed to the caller at once, so that no record of the items
//! is kept beside them. The parser then reads the small envelope; a body
//! laid out any other way than `{..., "items": [{...}, ...], ...}` is left
//! to the general decoder.

use std::ops::Range;

use crate::item_scan::ItemScan;
use crate::json_scan::Scanner;

/// The envelope's `kind` and `apiVersion`, when they come before `items`
/// as plain strings (the apiserver writes them first).
#[derive(Debug, Default)]
pub(crate) struct Head<'a> {
    pub(crate) kind: Option<&'a str>,
    pub(crate) api_version: Option<&'a str>,
}

/// One item the scan passed: its object (braces included) and what its
/// scan found (`None` when the item is left to the general item decoder).
pub(crate) type Found = (Range<usize>, Option<ItemScan>);

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(body: &[u8], mut i: usize) -> usize {
    while body.get(i).copied().is_some_and(is_ws) {
        i += 1;
    }
    i
}

/// The end (exclusive) of the string whose opening quote is at `i`.
fn string_end(body: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', body.get(j..)?)?;
        if body[k] == b'\\' {
            j = k + 2;
        } else {
            return Some(k + 1);
        }
    }
}

/// The end (exclusive) of the value at `i`: strings and nesting followed,
/// scalars up to the next delimiter. Not validated: the parser does that.
fn value_end(body: &[u8], i: usize) -> Option<usize> {
    match body.get(i)? {
        b'"' => string_end(body, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < body.len() {
                match body[j] {
                    b'"' => {
                        j = string_end(body, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let len = body[i..]
                .iter()
                .position(|&b| matches!(b, b',' | b'}' | b']') || is_ws(b))
                .unwrap_or(body.len() - i);
            Some(i + len)
        }
    }
}

/// Scans `body`, handing each item to `each` with the envelope's head as
/// far as it came before `items`; the `items` array's span (brackets
/// included). `None` when `body` is not an object whose `items` member is
/// an array of objects separated as JSON separates them (no `items`,
/// another layout, an escaped key before it): items already handed over
/// are then to be dropped.
pub(crate) fn scan<'a>(
    body: &'a [u8],
    mut each: impl FnMut(&Head<'a>, Found),
) -> Option<Range<usize>> {
    let mut head = Head::default();
    let mut i = skip_ws(body, 0);
    if body.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(body, i);
        if body.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(body, i)?;
        let key = &body[i + 1..key_end - 1];
        if key.contains(&b'\\') {
            return None;
        }
        i = skip_ws(body, key_end);
        if body.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(body, i + 1);
        if key == b"items" {
            return items(body, i, &head, &mut each);
        }
        let end = value_end(body, i)?;
        match key {
            b"kind" => head.kind = plain_string(&body[i..end]),
            b"apiVersion" => head.api_version = plain_string(&body[i..end]),
            _ => {}
        }
        i = skip_ws(body, end);
        if body.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

/// The contents of a JSON string without escapes; `None` for anything
/// else (the envelope's parse has the last word on those).
fn plain_string(value: &[u8]) -> Option<&str> {
    let inner = value.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if inner.contains(&b'\\') {
        return None;
    }
    std::str::from_utf8(inner).ok()
}

/// The objects of the array at `start`, each handed to `each`.
fn items<'a>(
    body: &'a [u8],
    start: usize,
    head: &Head<'a>,
    each: &mut impl FnMut(&Head<'a>, Found),
) -> Option<Range<usize>> {
    if body.get(start) != Some(&b'[') {
        return None;
    }
    let mut i = skip_ws(body, start + 1);
    if body.get(i) == Some(&b']') {
        return Some(start..i + 1);
    }
    loop {
        if body.get(i) != Some(&b'{') {
            return None;
        }
        let mut scanner = Scanner::new(body, i);
        let (end, found) = match crate::item_scan::scan_object(&mut scanner) {
            Ok(found) => (scanner.at, Some(found)),
            Err(_) => (value_end(body, i)?, None),
        };
        each(head, (i..end, found));
        i = skip_ws(body, end);
        match body.get(i)? {
            b',' => i = skip_ws(body, i + 1),
            b']' => return Some(start..i + 1),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a scan of a body handed over.
    struct Scanned<'a> {
        texts: Vec<&'a [u8]>,
        array: Range<usize>,
        kind: Option<String>,
        api_version: Option<String>,
    }

    fn scanned(body: &[u8]) -> Option<Scanned<'_>> {
        let mut spans = Vec::new();
        let (mut kind, mut api_version) = (None, None);
        let array = scan(body, |head, (span, _)| {
            spans.push(span);
            kind = head.kind.map(String::from);
            api_version = head.api_version.map(String::from);
        })?;
        let texts = spans.into_iter().map(|r| &body[r]).collect();
        Some(Scanned {
            texts,
            array,
            kind,
            api_version,
        })
    }

    #[test]
    fn finds_the_items_whatever_comes_around_them() {
        let body = br#" {"kind":"PodList","metadata":{"resourceVersion":"5","x":[1,{"y":"}"}]},"items":[ {"a":"b\"}"} ,{"c":[{}]}],"z":null} "#;
        let found = scanned(body).unwrap();
        assert_eq!(found.texts, [&br#"{"a":"b\"}"}"#[..], br#"{"c":[{}]}"#]);
        assert_eq!(&body[found.array][..2], b"[ ");
        assert_eq!(found.kind.as_deref(), Some("PodList"));
        assert_eq!(found.api_version, None);
    }

    #[test]
    fn the_head_is_what_came_before_the_items_as_plain_strings() {
        let body = br#"{"apiVersion":"v1","kind":"Pod\u004cist","items":[{}],"kind":"X"}"#;
        let found = scanned(body).unwrap();
        assert_eq!(found.texts, [&b"{}"[..]]);
        assert_eq!(found.kind, None);
        assert_eq!(found.api_version.as_deref(), Some("v1"));
    }

    #[test]
    fn leaves_other_layouts_to_the_general_decoder() {
        for body in [
            &br#"{"items":null}"#[..],
            br#"{"items":[1,2]}"#,
            br#"{"items":[{},,{}]}"#,
            br#"{"items":[{} {}]}"#,
            br#"{"it\u0065ms":[{}]}"#,
            br#"{"kind":"PodList"}"#,
            br#"["items"]"#,
            br#"{"items":[{"a":"#,
        ] {
            assert!(scanned(body).is_none(), "{}", String::from_utf8_lossy(body));
        }
    }
}
