//! Object metadata, decoded eagerly from every item.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::time::Timestamp;

/// `metadata` of an object: identity, version, labels and ownership.
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
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

impl ObjectMeta {
    /// `metadata.name` (empty for an object created with only `generateName`
    /// and not yet answered by the server).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `metadata.generateName`: the prefix the server completes.
    pub fn generate_name(&self) -> &str {
        &self.generate_name
    }

    /// `metadata.namespace`; `None` for cluster-scoped objects.
    pub fn namespace(&self) -> Option<&str> {
        Some(self.namespace.as_str()).filter(|n| !n.is_empty())
    }

    /// `metadata.uid`.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// `metadata.resourceVersion`: an opaque version; compare items, not
    /// versions.
    pub fn version(&self) -> &str {
        &self.resource_version
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
        &self.labels
    }

    /// `metadata.annotations`.
    pub fn annotations(&self) -> &StringMap {
        &self.annotations
    }

    /// `metadata.ownerReferences`.
    pub fn owner_references(&self) -> &[OwnerReference] {
        &self.owner_references
    }

    /// `metadata.finalizers`.
    pub fn finalizers(&self) -> &[String] {
        &self.finalizers
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
