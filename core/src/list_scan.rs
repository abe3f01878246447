//! One pass over a list body: where the `items` array and its objects
//! are, each item scanned (validated, its metadata found) as it is passed
//! over. The parser then reads the small envelope; a body laid out any
//! other way than `{..., "items": [{...}, ...], ...}` is left to the general
//! decoder.

use std::ops::Range;

use crate::item_scan::ItemScan;
use crate::json_scan::Scanner;

/// Where a list's items are.
#[derive(Debug)]
pub(crate) struct ListSpans {
    /// The `items` array, brackets included.
    pub(crate) array: Range<usize>,
    /// Each item object, braces included, with what its scan found (`None`
    /// when the item is left to the general item decoder).
    pub(crate) items: Vec<(Range<usize>, Option<ItemScan>)>,
}

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

/// The spans of `body`'s items, when it is an object whose `items` member
/// is an array of objects separated as JSON separates them; `None`
/// otherwise (no `items`, another layout, an escaped key before it).
pub(crate) fn scan(body: &[u8]) -> Option<ListSpans> {
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
            return items(body, i);
        }
        i = skip_ws(body, value_end(body, i)?);
        if body.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

/// The objects of the array at `i`.
fn items(body: &[u8], start: usize) -> Option<ListSpans> {
    if body.get(start) != Some(&b'[') {
        return None;
    }
    let mut spans = Vec::new();
    let mut i = skip_ws(body, start + 1);
    if body.get(i) == Some(&b']') {
        return Some(ListSpans {
            array: start..i + 1,
            items: spans,
        });
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
        spans.push((i..end, found));
        i = skip_ws(body, end);
        match body.get(i)? {
            b',' => i = skip_ws(body, i + 1),
            b']' => {
                return Some(ListSpans {
                    array: start..i + 1,
                    items: spans,
                });
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_items_whatever_comes_around_them() {
        let body = br#" {"kind":"PodList","metadata":{"resourceVersion":"5","x":[1,{"y":"}"}]},"items":[ {"a":"b\"}"} ,{"c":[{}]}],"z":null} "#;
        let spans = scan(body).unwrap();
        let texts: Vec<&[u8]> = spans.items.iter().map(|r| &body[r.0.clone()]).collect();
        assert_eq!(texts, [&br#"{"a":"b\"}"}"#[..], br#"{"c":[{}]}"#]);
        assert_eq!(&body[spans.array.clone()][..2], b"[ ");
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
            assert!(scan(body).is_none(), "{}", String::from_utf8_lossy(body));
        }
    }
}
