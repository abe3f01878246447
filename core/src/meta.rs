//! Object metadata, read from every item as it is decoded (labels,
//! annotations and owner references on first use).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use bytes::Bytes;

use serde::Deserialize;

use crate::time::Timestamp;

/// `metadata` of an object: identity, version, labels and ownership.
///
/// Labels and annotations are decoded on first use (an item's scan only
/// checks them), then kept.
///
/// ```
/// let item = kubewire::request::decode_item(bytes::Bytes::from_static(br#"{"kind":"Pod","apiVersion":"v1",
///   "metadata":{"name":"web-0","namespace":"demo","uid":"u1","resourceVersion":"42",
///   "creationTimestamp":"2026-11-21T05:42:50Z","labels":{"app":"web"}}}"#)).unwrap();
/// let meta = item.meta();
/// assert_eq!((meta.name(), meta.namespace(), meta.version()), ("web-0", Some("demo"), "42"));
/// assert_eq!(meta.labels().get("app"), Some("web"));
/// assert_eq!(meta.created().unwrap().to_string(), "2026-11-21T05:42:50Z");
/// ```
#[derive(Clone, Default)]
pub struct ObjectMeta {
    /// The object's JSON, which the strings' spans index (empty for
    /// metadata decoded on its own).
    source: Bytes,
    /// name, generateName, namespace, uid and resourceVersion.
    strings: [Text; 5],
    generation: Option<i64>,
    creation_timestamp: Option<Timestamp>,
    deletion_timestamp: Option<Timestamp>,
    labels: Lazy<StringMap>,
    annotations: Lazy<StringMap>,
    owner_references: Lazy<Vec<OwnerReference>>,
    finalizers: Vec<String>,
}

/// A metadata string: where it is in the source (it holds no escape), or
/// its decoded text.
#[derive(Clone, Debug)]
enum Text {
    Span(u32, u32),
    Owned(Box<str>),
}

impl Default for Text {
    fn default() -> Text {
        Text::Span(0, 0)
    }
}

/// A value kept as its JSON (checked already) until first read.
#[derive(Clone, Default)]
struct Lazy<T> {
    source: Bytes,
    value: OnceLock<T>,
}

impl<T: serde::de::DeserializeOwned + Default> Lazy<T> {
    fn decoded(value: T) -> Lazy<T> {
        Lazy {
            source: Bytes::new(),
            value: OnceLock::from(value),
        }
    }

    fn get(&self) -> &T {
        self.value
            .get_or_init(|| crate::item_scan::decode_checked(&self.source))
    }
}

/// The metadata fields as serde reads them (the general decoding path).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetaFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    generate_name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    uid: String,
    #[serde(default)]
    resource_version: String,
    #[serde(default)]
    generation: Option<i64>,
    #[serde(default)]
    creation_timestamp: Option<Timestamp>,
    #[serde(default)]
    deletion_timestamp: Option<Timestamp>,
    #[serde(default, deserialize_with = "null_as_default")]
    labels: StringMap,
    #[serde(default, deserialize_with = "null_as_default")]
    annotations: StringMap,
    #[serde(default, deserialize_with = "null_as_default")]
    owner_references: Vec<OwnerReference>,
    #[serde(default, deserialize_with = "null_as_default")]
    finalizers: Vec<String>,
}

impl<'de> Deserialize<'de> for ObjectMeta {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
        let f = MetaFields::deserialize(d)?;
        let owned = |s: String| {
            if s.is_empty() {
                Text::default()
            } else {
                Text::Owned(s.into_boxed_str())
            }
        };
        Ok(ObjectMeta {
            source: Bytes::new(),
            strings: [
                owned(f.name),
                owned(f.generate_name),
                owned(f.namespace),
                owned(f.uid),
                owned(f.resource_version),
            ],
            generation: f.generation,
            creation_timestamp: f.creation_timestamp,
            deletion_timestamp: f.deletion_timestamp,
            labels: Lazy::decoded(f.labels),
            annotations: Lazy::decoded(f.annotations),
            owner_references: Lazy::decoded(f.owner_references),
            finalizers: f.finalizers,
        })
    }
}

impl ObjectMeta {
    /// Builds the metadata an item's scan found in `source` (the text the
    /// scan's spans index).
    pub(crate) fn from_scan(
        source: &Bytes,
        scan: crate::item_scan::MetaScan,
    ) -> crate::json_scan::Scan<ObjectMeta> {
        let mut strings: [Text; 5] = Default::default();
        for (slot, found) in strings.iter_mut().zip(&scan.strings) {
            if let Some(found) = found {
                *slot = if found.escaped {
                    Text::Owned(crate::item_scan::unescape(source, found)?.into_boxed_str())
                } else {
                    let at = |i: usize| u32::try_from(i).map_err(|_| crate::json_scan::Stop);
                    Text::Span(at(found.span.start)?, at(found.span.end)?)
                };
            }
        }
        fn lazy<T>(source: &Bytes, span: Option<std::ops::Range<usize>>) -> Lazy<T> {
            Lazy {
                source: span.map_or_else(Bytes::new, |span| source.slice(span)),
                value: OnceLock::new(),
            }
        }
        Ok(ObjectMeta {
            source: source.clone(),
            strings,
            generation: scan.generation,
            creation_timestamp: scan.created,
            deletion_timestamp: scan.deleted,
            labels: lazy(source, scan.labels),
            annotations: lazy(source, scan.annotations),
            owner_references: lazy(source, scan.owner_references),
            finalizers: scan.finalizers,
        })
    }

    fn string(&self, i: usize) -> &str {
        match &self.strings[i] {
            // The scan checked the span is UTF-8 text without escapes.
            Text::Span(from, to) => {
                std::str::from_utf8(&self.source[*from as usize..*to as usize]).unwrap_or_default()
            }
            Text::Owned(text) => text,
        }
    }

    /// `metadata.name` (empty for an object created with only `generateName`
    /// and not yet answered by the server).
    pub fn name(&self) -> &str {
        self.string(0)
    }

    /// `metadata.generateName`: the prefix the server completes.
    pub fn generate_name(&self) -> &str {
        self.string(1)
    }

    /// `metadata.namespace`; `None` for cluster-scoped objects.
    pub fn namespace(&self) -> Option<&str> {
        Some(self.string(2)).filter(|n| !n.is_empty())
    }

    /// `metadata.uid`.
    pub fn uid(&self) -> &str {
        self.string(3)
    }

    /// `metadata.resourceVersion`: an opaque version; compare items, not
    /// versions.
    pub fn version(&self) -> &str {
        self.string(4)
    }

    /// `metadata.generation`: incremented on every spec change.
    pub fn generation(&self) -> Option<i64> {
        self.generation
    }

    /// `metadata.creationTimestamp`.
    pub fn created(&self) -> Option<Timestamp> {
        self.creation_timestamp
    }

    /// `metadata.deletionTimestamp`: set while the object is being deleted.
    pub fn deletion_timestamp(&self) -> Option<Timestamp> {
        self.deletion_timestamp
    }

    /// `metadata.labels`, as an immutable map.
    pub fn labels(&self) -> &Labels {
        self.labels.get()
    }

    /// `metadata.annotations`.
    pub fn annotations(&self) -> &StringMap {
        self.annotations.get()
    }

    /// `metadata.ownerReferences`.
    pub fn owner_references(&self) -> &[OwnerReference] {
        self.owner_references.get()
    }

    /// `metadata.finalizers`.
    pub fn finalizers(&self) -> &[String] {
        &self.finalizers
    }
}

/// Annotations in `Debug` output: their keys, not their values.
struct AnnotationKeys<'a>(&'a StringMap);

impl std::fmt::Debug for AnnotationKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, _)| (k, format_args!("…"))))
            .finish()
    }
}

impl PartialEq for ObjectMeta {
    fn eq(&self, other: &ObjectMeta) -> bool {
        (0..5).all(|i| self.string(i) == other.string(i))
            && self.generation == other.generation
            && self.creation_timestamp == other.creation_timestamp
            && self.deletion_timestamp == other.deletion_timestamp
            && self.labels() == other.labels()
            && self.annotations() == other.annotations()
            && self.owner_references() == other.owner_references()
            && self.finalizers == other.finalizers
    }
}

impl Eq for ObjectMeta {}

impl std::fmt::Debug for ObjectMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectMeta")
            .field("name", &self.name())
            .field("generate_name", &self.generate_name())
            .field("namespace", &self.string(2))
            .field("uid", &self.uid())
            .field("resource_version", &self.version())
            .field("generation", &self.generation)
            .field("creation_timestamp", &self.creation_timestamp)
            .field("deletion_timestamp", &self.deletion_timestamp)
            .field("labels", self.labels())
            // Keys only: an annotation may copy a Secret's data (kubectl's
            // last-applied-configuration does).
            .field("annotations", &AnnotationKeys(self.annotations()))
            .field("owner_references", &self.owner_references())
            .field("finalizers", &self.finalizers)
            .finish()
    }
}

/// An immutable map of strings: an object's labels or annotations. Kept
/// as one sorted array (a tree map's nodes would cost several hundred
/// bytes per object in a cache). Changing labels is a request to the
/// server (see [`crate::request::View::label_request`] and
/// [`crate::client::BoundMap`]); its answer is the new revision.
///
/// ```
/// let meta: kubewire::model::ObjectMeta =
///     serde_json::from_str(r#"{"labels":{"tier":"web","app":"shop"}}"#).unwrap();
/// let labels = meta.labels();
/// assert_eq!(labels.get("app"), Some("shop"));
/// assert_eq!(labels.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["app", "tier"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StringMap(Box<[(String, String)]>);

/// An object's labels.
pub type Labels = StringMap;

impl StringMap {
    fn find(&self, key: &str) -> Option<usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.find(key).map(|i| self.0[i].1.as_str())
    }

    /// True when `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The entries as a plain map (a copy).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.0.iter().cloned().collect()
    }
}

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StringMap, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = StringMap;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of strings")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<StringMap, A::Error> {
                let mut entries: Vec<(String, String)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, String>()? {
                    entries.push(entry);
                }
                // Sorted by key; of a key given twice, the last value wins
                // (as a map would keep it).
                entries.reverse();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                entries.dedup_by(|later, kept| later.0 == kept.0);
                Ok(StringMap(entries.into_boxed_slice()))
            }
        }
        d.deserialize_map(Entries)
    }
}

/// One entry of `metadata.ownerReferences`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OwnerReference {
    /// `apiVersion` of the owner.
    #[serde(default)]
    pub api_version: String,
    /// `kind` of the owner.
    #[serde(default)]
    pub kind: String,
    /// `name` of the owner.
    #[serde(default)]
    pub name: String,
    /// `uid` of the owner.
    #[serde(default)]
    pub uid: String,
    /// `controller`: true for the managing controller.
    #[serde(default)]
    pub controller: Option<bool>,
    /// `blockOwnerDeletion`.
    #[serde(default)]
    pub block_owner_deletion: Option<bool>,
}

/// `metadata` of a list: its version and the continue token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListMeta {
    #[serde(default)]
    pub(crate) resource_version: String,
    #[serde(default, rename = "continue")]
    pub(crate) continue_token: String,
    #[serde(default)]
    pub(crate) remaining_item_count: Option<i64>,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
