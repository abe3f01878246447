//! One resource as discovery describes it.

use crate::error::Result;
use crate::resource::ApiResource;

/// A resource the server serves: where it lives, its scope, what can be
/// done with it and which subresources it has.
///
/// ```
/// # use kubewire::discovery::Discovery;
/// let mut discovery = Discovery::default();
/// discovery.absorb_group_version(br#"{"kind":"APIResourceList","groupVersion":"apps/v1",
///   "resources":[{"name":"deployments","singularName":"deployment","namespaced":true,
///   "kind":"Deployment","verbs":["get","list"],"shortNames":["deploy"]},
///   {"name":"deployments/scale","singularName":"","namespaced":true,"kind":"Scale",
///   "verbs":["get","patch","update"]}]}"#)?;
/// let deployments = discovery.find("apps/v1", "Deployment").unwrap();
/// assert_eq!(deployments.plural(), "deployments");
/// assert!(deployments.is_namespaced());
/// assert_eq!(deployments.subresources(), ["scale"]);
/// assert!(deployments.supports("list"));
/// # Ok::<(), kubewire::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveredResource {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
    pub(crate) plural: String,
    pub(crate) singular: String,
    pub(crate) namespaced: bool,
    pub(crate) verbs: Vec<String>,
    pub(crate) short_names: Vec<String>,
    pub(crate) subresources: Vec<String>,
}

impl DiscoveredResource {
    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The version within the group.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The `apiVersion` of its objects (`v1`, `apps/v1`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The kind (`Deployment`).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The plural resource name used in paths (`deployments`).
    pub fn plural(&self) -> &str {
        &self.plural
    }

    /// The singular name (`deployment`; may be empty on old servers).
    pub fn singular(&self) -> &str {
        &self.singular
    }

    /// Whether objects live in namespaces.
    pub fn is_namespaced(&self) -> bool {
        self.namespaced
    }

    /// The verbs the server allows (`get`, `list`, `watch`, `create`, ...).
    pub fn verbs(&self) -> &[String] {
        &self.verbs
    }

    /// Whether the server allows `verb`.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// Short names (`deploy`).
    pub fn short_names(&self) -> &[String] {
        &self.short_names
    }

    /// Subresources (`status`, `scale`, `log`, ...).
    pub fn subresources(&self) -> &[String] {
        &self.subresources
    }

    /// The descriptor requests are built from.
    pub fn api_resource(&self) -> Result<ApiResource> {
        ApiResource::new(
            &self.group,
            &self.version,
            &self.kind,
            &self.plural,
            self.namespaced,
        )
    }

    /// Whether `name` names this resource the way kubectl accepts it:
    /// the kind, plural, singular or a short name, ignoring case.
    pub(crate) fn answers_to(&self, name: &str) -> bool {
        self.kind.eq_ignore_ascii_case(name)
            || self.plural.eq_ignore_ascii_case(name)
            || (!self.singular.is_empty() && self.singular.eq_ignore_ascii_case(name))
            || self
                .short_names
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name))
    }
}
