//! The discovery documents an apiserver serves, as far as a client needs
//! them: `/api` (APIVersions), `/apis` (APIGroupList), a group version's
//! APIResourceList, and aggregated discovery (`apidiscovery.k8s.io/v2`
//! APIGroupDiscoveryList).

use serde::Deserialize;

/// `GET /api`: the core group's versions.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiVersions {
    #[serde(default)]
    pub versions: Vec<String>,
}

/// `GET /apis`: the named groups and their versions.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiGroupList {
    #[serde(default)]
    pub groups: Vec<ApiGroup>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApiGroup {
    pub name: String,
    #[serde(default)]
    pub versions: Vec<GroupVersionForDiscovery>,
    #[serde(rename = "preferredVersion")]
    pub preferred_version: Option<GroupVersionForDiscovery>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GroupVersionForDiscovery {
    pub version: String,
}

/// `GET /api/v1`, `GET /apis/{group}/{version}`: the resources of one
/// group version. Subresources appear as `deployments/scale`.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiResourceList {
    #[serde(rename = "groupVersion")]
    pub group_version: String,
    #[serde(default)]
    pub resources: Vec<ApiResourceEntry>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApiResourceEntry {
    pub name: String,
    #[serde(rename = "singularName", default)]
    pub singular_name: String,
    #[serde(default)]
    pub namespaced: bool,
    pub kind: String,
    #[serde(default)]
    pub verbs: Vec<String>,
    #[serde(rename = "shortNames", default)]
    pub short_names: Vec<String>,
}

/// Aggregated discovery: every group (or the core group), every version,
/// every resource in one document.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiGroupDiscoveryList {
    #[serde(default)]
    pub items: Vec<ApiGroupDiscovery>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApiGroupDiscovery {
    #[serde(default)]
    pub metadata: DiscoveryMeta,
    #[serde(default)]
    pub versions: Vec<ApiVersionDiscovery>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DiscoveryMeta {
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApiVersionDiscovery {
    pub version: String,
    #[serde(default)]
    pub resources: Vec<ApiResourceDiscovery>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApiResourceDiscovery {
    pub resource: String,
    #[serde(rename = "responseKind")]
    pub response_kind: Option<ResponseKind>,
    #[serde(default)]
    pub scope: String,
    #[serde(rename = "singularResource", default)]
    pub singular_resource: String,
    #[serde(default)]
    pub verbs: Vec<String>,
    #[serde(rename = "shortNames", default)]
    pub short_names: Vec<String>,
    #[serde(default)]
    pub subresources: Vec<SubresourceDiscovery>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ResponseKind {
    #[serde(default)]
    pub kind: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SubresourceDiscovery {
    pub subresource: String,
}
