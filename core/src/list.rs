//! A decoded list response: items plus the list's version and continue token.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::item::Item;
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
}

impl SkippedItem {
    /// The error to report for it.
    pub fn to_error(&self) -> Error {
        Error::Decode {
            expected: "a list item",
            message: format!("item {} of the page: {}", self.index, self.message),
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
    pub(crate) fn decode_lenient(body: Bytes) -> Result<ItemList> {
        const EXPECTED: &str = "a list (an object with \"items\")";
        let raw: RawList<'_> =
            serde_json::from_slice(&body).map_err(|e| Error::decode(EXPECTED, e))?;
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
        let item_kind = raw.kind.strip_suffix("List").unwrap_or_default();
        let base = body.as_ptr() as usize;
        let raw_items = raw.items.unwrap_or_default();
        let mut items = Vec::with_capacity(raw_items.len());
        let mut skipped = Vec::new();
        for (index, value) in raw_items.into_iter().enumerate() {
            let text = value.get().as_bytes();
            let start = text.as_ptr() as usize - base;
            match Item::decode(
                body.slice(start..start + text.len()),
                &raw.api_version,
                item_kind,
            ) {
                Ok(item) => items.push(item),
                Err(e) => skipped.push(SkippedItem {
                    index,
                    message: e.to_string(),
                }),
            }
        }
        Ok(ItemList {
            kind: raw.kind,
            api_version: raw.api_version,
            items,
            meta: raw.metadata,
            skipped,
        })
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
