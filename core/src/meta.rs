//! Object metadata, decoded eagerly from every item.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::time::Timestamp;

/// `metadata` of an object: identity, version, labels and ownership.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ObjectMeta {
    /// `name` (empty for an object created with only `generateName`).
    #[serde(default)]
    pub name: String,
    /// `generateName`: the prefix the server completes.
    #[serde(default)]
    pub generate_name: String,
    /// `namespace` (empty for cluster-scoped objects).
    #[serde(default)]
    pub namespace: String,
    /// `uid`.
    #[serde(default)]
    pub uid: String,
    /// `resourceVersion`: an opaque version string.
    #[serde(default)]
    pub resource_version: String,
    /// `generation`: incremented on every spec change.
    #[serde(default)]
    pub generation: Option<i64>,
    /// `creationTimestamp`.
    #[serde(default)]
    pub creation_timestamp: Option<Timestamp>,
    /// `deletionTimestamp`: set while the object is being deleted.
    #[serde(default)]
    pub deletion_timestamp: Option<Timestamp>,
    /// `labels`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, String>,
    /// `annotations`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub annotations: BTreeMap<String, String>,
    /// `ownerReferences`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub owner_references: Vec<OwnerReference>,
    /// `finalizers`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub finalizers: Vec<String>,
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
