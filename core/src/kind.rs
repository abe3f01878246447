//! The kinds the seed library wraps, and their list kinds.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::resource::ApiResource;

/// A kind the seed library wraps, or its list kind.
///
/// ```
/// use kubewire::Kind;
/// let k: Kind = "Deployment".parse().unwrap();
/// assert_eq!(k.resource(), "deployments");
/// assert_eq!(k.api_paths(), ["apis/apps/v1", "apis/extensions/v1beta1"]);
/// assert_eq!(k.list_kind(), Kind::DeploymentList);
/// assert!("Gadget".parse::<Kind>().unwrap_err().to_string().contains("Pod"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// `v1` Node (cluster-scoped).
    Node,
    /// `v1` NodeList.
    NodeList,
    /// `v1` Namespace (cluster-scoped).
    Namespace,
    /// `v1` NamespaceList.
    NamespaceList,
    /// `v1` Pod.
    Pod,
    /// `v1` PodList.
    PodList,
    /// `apps/v1` ReplicaSet.
    ReplicaSet,
    /// `apps/v1` ReplicaSetList.
    ReplicaSetList,
    /// `v1` ReplicationController.
    ReplicationController,
    /// `v1` ReplicationControllerList.
    ReplicationControllerList,
    /// `apps/v1` DaemonSet.
    DaemonSet,
    /// `apps/v1` DaemonSetList.
    DaemonSetList,
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` DeploymentList.
    DeploymentList,
    /// `v1` Service.
    Service,
    /// `v1` ServiceList.
    ServiceList,
    /// `v1` Secret.
    Secret,
    /// `v1` SecretList.
    SecretList,
}

const CORE: &[&str] = &["api/v1"];
const APPS: &[&str] = &["apis/apps/v1", "apis/extensions/v1beta1"];

impl Kind {
    /// Every kind, item kinds and list kinds alternating.
    pub const ALL: [Kind; 18] = [
        Kind::Node,
        Kind::NodeList,
        Kind::Namespace,
        Kind::NamespaceList,
        Kind::Pod,
        Kind::PodList,
        Kind::ReplicaSet,
        Kind::ReplicaSetList,
        Kind::ReplicationController,
        Kind::ReplicationControllerList,
        Kind::DaemonSet,
        Kind::DaemonSetList,
        Kind::Deployment,
        Kind::DeploymentList,
        Kind::Service,
        Kind::ServiceList,
        Kind::Secret,
        Kind::SecretList,
    ];

    /// The kind's name as the API spells it, e.g. `ReplicaSetList`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Node => "Node",
            Kind::NodeList => "NodeList",
            Kind::Namespace => "Namespace",
            Kind::NamespaceList => "NamespaceList",
            Kind::Pod => "Pod",
            Kind::PodList => "PodList",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::ReplicaSetList => "ReplicaSetList",
            Kind::ReplicationController => "ReplicationController",
            Kind::ReplicationControllerList => "ReplicationControllerList",
            Kind::DaemonSet => "DaemonSet",
            Kind::DaemonSetList => "DaemonSetList",
            Kind::Deployment => "Deployment",
            Kind::DeploymentList => "DeploymentList",
            Kind::Service => "Service",
            Kind::ServiceList => "ServiceList",
            Kind::Secret => "Secret",
            Kind::SecretList => "SecretList",
        }
    }

    /// True for the `*List` kinds.
    pub fn is_list(self) -> bool {
        self.name().ends_with("List")
    }

    /// The item kind of a list kind (itself for an item kind).
    pub fn item_kind(self) -> Kind {
        let i = Kind::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Kind::ALL[i & !1]
    }

    /// The list kind of an item kind (itself for a list kind).
    pub fn list_kind(self) -> Kind {
        let i = Kind::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Kind::ALL[i | 1]
    }

    /// The plural resource name used in paths, e.g. `replicationcontrollers`.
    pub const fn resource(self) -> &'static str {
        match self {
            Kind::Node | Kind::NodeList => "nodes",
            Kind::Namespace | Kind::NamespaceList => "namespaces",
            Kind::Pod | Kind::PodList => "pods",
            Kind::ReplicaSet | Kind::ReplicaSetList => "replicasets",
            Kind::ReplicationController | Kind::ReplicationControllerList => {
                "replicationcontrollers"
            }
            Kind::DaemonSet | Kind::DaemonSetList => "daemonsets",
            Kind::Deployment | Kind::DeploymentList => "deployments",
            Kind::Service | Kind::ServiceList => "services",
            Kind::Secret | Kind::SecretList => "secrets",
        }
    }

    /// True when objects of this kind live in a namespace.
    pub fn is_namespaced(self) -> bool {
        !matches!(self.item_kind(), Kind::Node | Kind::Namespace)
    }

    /// The API paths that serve this kind, newest first (without leading `/`).
    pub fn api_paths(self) -> &'static [&'static str] {
        match self.item_kind() {
            Kind::ReplicaSet | Kind::DaemonSet | Kind::Deployment => APPS,
            _ => CORE,
        }
    }

    /// The seed kind named `kind` when `api_version` (`v1`, `apps/v1`) is
    /// one of its API paths, with that path's index in
    /// [`Kind::api_paths`]. Lists are not objects one writes: `None`.
    pub(crate) fn served_at(kind: &str, api_version: &str) -> Option<(Kind, usize)> {
        let kind = kind.parse::<Kind>().ok().filter(|k| !k.is_list())?;
        let index = kind.api_paths().iter().position(|path| {
            path.strip_prefix("apis/")
                .or_else(|| path.strip_prefix("api/"))
                == Some(api_version)
        })?;
        Some((kind, index))
    }

    /// The resource descriptor of the item kind at `api_paths()[index]`.
    /// `None` when `index` is out of range.
    pub fn api_resource(self, index: usize) -> Option<ApiResource> {
        let path = self.api_paths().get(index)?;
        let gv = path
            .strip_prefix("apis/")
            .or_else(|| path.strip_prefix("api/"))?;
        let kind = self.item_kind();
        ApiResource::from_api_version(gv, kind.name(), kind.resource(), kind.is_namespaced()).ok()
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = Error;

    /// Parses a kind name exactly as the API spells it (`Pod`, `PodList`).
    fn from_str(s: &str) -> Result<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                Error::InvalidInput(format!(
                    "unknown kind {s:?}; known kinds: {}",
                    known.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_scopes() {
        for k in Kind::ALL {
            assert_eq!(k.item_kind().list_kind(), k.list_kind());
            assert_eq!(
                k.list_kind().name(),
                format!("{}List", k.item_kind().name())
            );
            assert_eq!(k.name().parse::<Kind>().unwrap(), k);
            assert_eq!(k.api_resource(0).unwrap().api_path(), k.api_paths()[0]);
        }
        assert!(!Kind::Node.is_namespaced());
        assert!(!Kind::NamespaceList.is_namespaced());
        assert!(Kind::Secret.is_namespaced());
        assert_eq!(
            Kind::ReplicationControllerList.resource(),
            "replicationcontrollers"
        );
        let old = Kind::DaemonSet.api_resource(1).unwrap();
        assert_eq!((old.group(), old.version()), ("extensions", "v1beta1"));
        assert!(Kind::Pod.api_resource(1).is_none());
    }

    #[test]
    fn unknown_kind_lists_known_ones() {
        let err = "pod".parse::<Kind>().unwrap_err().to_string();
        assert!(
            err.contains("\"pod\"") && err.contains("ReplicationController"),
            "{err}"
        );
    }
}
