//! A decoded list response: items plus the list's version and continue token.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::item::{Item, Names};
use crate::list_scan::Found;
use crate::meta::ListMeta;

/// One list response (one page, when paginated).
#[derive(Clone, Debug)]
pub struct ItemList {
    kind: String,
    api_version: String,
    items: Vec<Item>,
    meta: ListMeta,
    skipped: Vec<SkippedItem>,
}

/// An item of a page that did not decode, left out of a leniently decoded
/// page (see [`ItemList::skipped`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedItem {
    /// Its position in the page's `items`.
    pub index: usize,
    /// Why it did not decode.
    pub message: String,
    /// Where it is in the body.
    span: std::ops::Range<usize>,
}

impl SkippedItem {
    /// Its text in `body`.
    fn text<'a>(&self, body: &'a [u8]) -> &'a [u8] {
        &body[self.span.clone()]
    }

    /// The error to report for it.
    pub fn to_error(&self) -> Error {
        Error::Decode {
            expected: "a list item",
            message: format!("item {} of the page: {}", self.index, self.message),
        }
    }
}

const EXPECTED: &str = "a list (an object with \"items\")";

/// Refuses a Status or a non-list; the kind of the list's items.
fn check_envelope(raw: &RawList<'_>) -> Result<String> {
    if raw.kind == "Status" {
        return Err(Error::Decode {
            expected: EXPECTED,
            message: "got a Status".to_string(),
        });
    }
    if !raw.kind.is_empty() && !raw.kind.ends_with("List") {
        return Err(Error::Decode {
            expected: EXPECTED,
            message: format!("got a {}", raw.kind),
        });
    }
    Ok(item_kind(&raw.kind).to_string())
}

/// The kind of a list's items: `Pod` for `PodList`.
fn item_kind(list_kind: &str) -> &str {
    list_kind.strip_suffix("List").unwrap_or_default()
}

/// A list's items as they are decoded, and those left out.
#[derive(Default)]
struct Collected {
    items: Vec<Item>,
    skipped: Vec<SkippedItem>,
}

impl Collected {
    /// Decodes one item (from what its scan found, when it did); one that
    /// does not decode is left out and noted.
    fn push(&mut self, body: &Bytes, (span, found): Found, names: &mut Names) {
        let scanned =
            found.and_then(|found| Item::from_scan(body, span.clone(), found, names).ok());
        let item = match scanned {
            Some(item) => Ok(item),
            None => Item::decode_with(body.slice(span.clone()), names),
        };
        match item {
            Ok(item) => self.items.push(item),
            Err(e) => self.skipped.push(SkippedItem {
                // The items passed so far, decoded or not.
                index: self.items.len() + self.skipped.len(),
                message: e.to_string(),
                span,
            }),
        }
    }

    fn into_list(self, kind: String, api_version: String, meta: ListMeta) -> ItemList {
        ItemList {
            kind,
            api_version,
            items: self.items,
            meta,
            skipped: self.skipped,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawList<'a> {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    metadata: ListMeta,
    #[serde(borrow)]
    items: Option<Vec<&'a RawValue>>,
}

impl ItemList {
    /// Decodes a list body; each item shares `body`'s buffer. An item that
    /// does not decode fails the whole list.
    pub(crate) fn decode(body: Bytes) -> Result<ItemList> {
        let list = ItemList::decode_lenient(body)?;
        match list.skipped.first() {
            Some(skipped) => Err(skipped.to_error()),
            None => Ok(list),
        }
    }

    /// Decodes a list body, leaving out the items that do not decode (see
    /// [`ItemList::skipped`]): one bad object does not hide the others.
    ///
    /// One pass: a scan finds the items and scans (validates, reads the
    /// metadata of) each as it passes; then the small envelope is parsed. A
    /// body laid out otherwise, or with an item that is not even JSON, goes
    /// the general way, so both accept and refuse exactly the same bodies.
    ///
    /// When the envelope's `kind` and `apiVersion` come before `items` (as
    /// the apiserver writes them), each item is decoded as the scan passes
    /// it, so no record of the items is kept beside them; otherwise the
    /// scan's findings wait for the envelope.
    pub(crate) fn decode_lenient(body: Bytes) -> Result<ItemList> {
        let mut built = Collected::default();
        let mut names: Option<Names> = None;
        let mut waiting = Vec::new();
        let scanned = crate::list_scan::scan(&body, |head, found| {
            // At the first item: decoded as they come when the head is whole.
            let first = names.is_none() && waiting.is_empty();
            if first && let (Some(kind), Some(api_version)) = (head.kind, head.api_version) {
                names = Some(Names::new(api_version, item_kind(kind)));
            }
            match &mut names {
                Some(names) => built.push(&body, found, names),
                None => waiting.push(found),
            }
        });
        let Some(array) = scanned else {
            return ItemList::decode_general(body);
        };
        let mut envelope = Vec::with_capacity(body.len() - array.len() + 2);
        envelope.extend_from_slice(&body[..array.start]);
        envelope.extend_from_slice(b"[]");
        envelope.extend_from_slice(&body[array.end..]);
        let raw: RawList<'_> =
            serde_json::from_slice(&envelope).map_err(|e| Error::decode(EXPECTED, e))?;
        let item_kind = check_envelope(&raw)?;
        if names.is_none() {
            let mut names = Names::new(&raw.api_version, &item_kind);
            built.items.reserve_exact(waiting.len());
            for found in waiting {
                built.push(&body, found, &mut names);
            }
        }
        let list = built.into_list(raw.kind, raw.api_version, raw.metadata);
        // An item that is not JSON (or not UTF-8) makes the body not
        // JSON: refused whole, as the general decoder refuses it.
        let not_json = list.skipped.iter().any(|s| {
            std::str::from_utf8(s.text(&body)).map_or(true, |text| {
                serde_json::from_str::<serde::de::IgnoredAny>(text).is_err()
            })
        });
        if not_json {
            return ItemList::decode_general(body);
        }
        Ok(list)
    }

    /// Decodes a list body in two passes: the list with each item's raw
    /// text, then each item.
    pub(crate) fn decode_general(body: Bytes) -> Result<ItemList> {
        let raw: RawList<'_> =
            serde_json::from_slice(&body).map_err(|e| Error::decode(EXPECTED, e))?;
        let item_kind = check_envelope(&raw)?;
        let base = body.as_ptr() as usize;
        let spans: Vec<std::ops::Range<usize>> = raw
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|value| {
                let text = value.get().as_bytes();
                let start = text.as_ptr() as usize - base;
                start..start + text.len()
            })
            .collect();
        Ok(ItemList::collect(
            &body,
            spans.into_iter(),
            raw.kind,
            raw.api_version,
            raw.metadata,
            item_kind,
        ))
    }

    /// Decodes the items at `spans` of `body`.
    fn collect(
        body: &Bytes,
        spans: impl Iterator<Item = std::ops::Range<usize>>,
        kind: String,
        api_version: String,
        meta: ListMeta,
        item_kind: String,
    ) -> ItemList {
        let mut built = Collected::default();
        let mut names = Names::new(&api_version, &item_kind);
        for span in spans {
            built.push(body, (span, None), &mut names);
        }
        built.into_list(kind, api_version, meta)
    }

    /// The items of a leniently decoded page that did not decode (a
    /// [`crate::pager::Pager`] page): report them; the others are in `items`.
    pub fn skipped(&self) -> &[SkippedItem] {
        &self.skipped
    }

    /// The list's kind, e.g. `PodList`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The list's `apiVersion`.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The items of this page.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Takes the items out.
    pub fn into_items(self) -> Vec<Item> {
        self.items
    }

    /// `metadata.resourceVersion`: the version to watch from after listing.
    pub fn resource_version(&self) -> &str {
        &self.meta.resource_version
    }

    /// `metadata.continue`: the token of the next page, `None` on the last.
    pub fn continue_token(&self) -> Option<&str> {
        Some(self.meta.continue_token.as_str()).filter(|c| !c.is_empty())
    }

    /// `metadata.remainingItemCount`: an estimate of the items still to come.
    pub fn remaining_item_count(&self) -> Option<i64> {
        self.meta.remaining_item_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One item, comparable: its text, `apiVersion` and kind.
    type Seen = (Bytes, String, String);

    /// The two decoders' outcome, comparable: the items (with the
    /// `apiVersion` and kind the envelope gave them), the skipped indices,
    /// the envelope, or that the body was refused.
    fn outcome(list: Result<ItemList>) -> Option<(Vec<Seen>, Vec<usize>, String, String)> {
        list.ok().map(|l| {
            (
                l.items
                    .iter()
                    .map(|i| {
                        (
                            i.raw().clone(),
                            i.api_version().to_string(),
                            i.kind().to_string(),
                        )
                    })
                    .collect(),
                l.skipped.iter().map(|s| s.index).collect(),
                l.kind.clone(),
                l.meta.resource_version.clone(),
            )
        })
    }

    fn item() -> impl Strategy<Value = String> {
        (
            "[a-z0-9-]{1,8}",
            "[0-9]{1,4}",
            prop::sample::select(vec![
                r#""spec":{"containers":[{"name":"c","image":"i:1"}]}"#,
                r#""status":{"phase":"Running","x":[1,2.5e3,true,null,"}]\"\\"]}"#,
                r#""data":{"k":"v\u00e9"}"#,
                "",
            ]),
            prop::sample::select(vec!["", " ", "\n  "]),
        )
            .prop_map(|(name, rv, rest, ws)| {
                let comma = if rest.is_empty() { "" } else { "," };
                format!(
                    r#"{ws}{{"metadata":{{"name":"{name}","resourceVersion":"{rv}"}}{comma}{rest}}}{ws}"#
                )
            })
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        // What comes before and after `items`: the envelope's kind and
        // apiVersion before them (as the apiserver writes them), after
        // them, escaped, partial or absent.
        let around = prop::sample::select(vec![
            (
                r#""kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"#,
                "",
            ),
            (
                r#""metadata":{"continue":"c\"x","resourceVersion":"3"},"kind":"ConfigMapList","#,
                r#","trailer":{"a":[1]}"#,
            ),
            (r#""apiVersion":"apps/v1","#, ""),
            (r#""apiVersion":"v1","kind":"Pod\u004cist","#, ""),
            ("", ""),
            ("", r#","trailer":{"a":[1]}"#),
            (
                r#""metadata":{"resourceVersion":"4"},"#,
                r#","kind":"SecretList","apiVersion":"v1""#,
            ),
            (r#""apiVersion":"v1","#, r#","kind":"SecretList""#),
        ]);
        (prop::collection::vec(item(), 0..6), around).prop_map(|(items, (head, tail))| {
            format!("{{{head}\"items\":[{}]{tail}}}", items.join(",")).into_bytes()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Valid lists: the one-pass decoder gives what the general one does.
        #[test]
        fn one_pass_equals_two_passes_on_lists(body in body()) {
            let body = Bytes::from(body);
            let one = outcome(ItemList::decode_lenient(body.clone()));
            prop_assert!(one.is_some());
            prop_assert_eq!(one, outcome(ItemList::decode_general(body)));
        }

        /// Damaged lists (a byte changed, removed or inserted anywhere):
        /// both accept and refuse the same bodies, with the same items.
        #[test]
        fn one_pass_equals_two_passes_on_damaged_lists(
            body in crate::damage::damaged(body(), b"{}[]\",:\\ x0\xff"),
        ) {
            let body = Bytes::from(body);
            prop_assert_eq!(
                outcome(ItemList::decode_lenient(body.clone())),
                outcome(ItemList::decode_general(body))
            );
        }
    }
}
