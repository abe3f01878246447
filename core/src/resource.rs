//! A dynamic resource descriptor: where a kind lives in the API.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::segment;

/// Group, version, kind, plural and scope of any resource — built-in or
/// custom. [`crate::Kind`] describes the seed's kinds; this describes
/// anything else.
///
/// ```
/// use kubewire::request::ApiResource;
/// let backups = ApiResource::new("ops.example.com", "v1", "Backup", "backups", true).unwrap();
/// assert_eq!(backups.api_path(), "apis/ops.example.com/v1");
/// assert_eq!(backups.api_version(), "ops.example.com/v1");
/// let pods = ApiResource::new("", "v1", "Pod", "pods", true).unwrap();
/// assert_eq!(pods.api_path(), "api/v1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApiResource {
    // Shared, not owned: views and endpoints clone their descriptor on
    // every request.
    group: Arc<str>,
    version: Arc<str>,
    kind: Arc<str>,
    plural: Arc<str>,
    namespaced: bool,
}

impl ApiResource {
    /// Describes a resource. `group` is `""` for the core group.
    ///
    /// Group, version and plural are validated as path words; `kind` must be
    /// a non-empty alphanumeric identifier.
    pub fn new(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        namespaced: bool,
    ) -> Result<ApiResource> {
        if !group.is_empty() {
            segment::check_resource_word(group, "API group")?;
        }
        segment::check_resource_word(version, "API version")?;
        segment::check_resource_word(plural, "resource")?;
        if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::InvalidInput(format!(
                "kind {kind:?} must be a non-empty alphanumeric identifier"
            )));
        }
        Ok(ApiResource {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced,
        })
    }

    /// Builds the descriptor from an `apiVersion` (`v1`, `apps/v1`).
    pub fn from_api_version(
        api_version: &str,
        kind: &str,
        plural: &str,
        namespaced: bool,
    ) -> Result<ApiResource> {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        ApiResource::new(group, version, kind, plural, namespaced)
    }

    /// The API group (`""` for core).
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The version, e.g. `v1`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The kind, e.g. `Deployment`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The plural resource name used in paths, e.g. `deployments`.
    pub fn plural(&self) -> &str {
        &self.plural
    }

    /// True when objects of this resource live in a namespace.
    pub fn is_namespaced(&self) -> bool {
        self.namespaced
    }

    /// `apiVersion` as written in manifests: `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The path of the group version without leading `/`: `api/v1` or
    /// `apis/<group>/<version>`.
    pub fn api_path(&self) -> String {
        let mut path = String::with_capacity(6 + self.group.len() + self.version.len());
        self.push_api_path(&mut path);
        path
    }

    /// Appends [`ApiResource::api_path`] to `out`.
    pub(crate) fn push_api_path(&self, out: &mut String) {
        if self.group.is_empty() {
            out.push_str("api/");
        } else {
            out.push_str("apis/");
            out.push_str(&self.group);
            out.push('/');
        }
        out.push_str(&self.version);
    }
}
