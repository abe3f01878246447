//! An item of any of the seed's kinds, typed by what the server answered.

use crate::error::Result;
use crate::item::Item;
use crate::items::namespace::Namespace;
use crate::items::node::Node;
use crate::items::pod::Pod;
use crate::items::secret::Secret;
use crate::items::service::Service;
use crate::items::typed::TypedItem;
use crate::items::workloads::{DaemonSet, Deployment, ReplicaSet, ReplicationController};

/// An item typed by its kind when it is one of the seed's, else the
/// generic [`Item`] (what `cluster.create` returns).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AnyItem {
    /// A Node.
    Node(Node),
    /// A Namespace.
    Namespace(Namespace),
    /// A Pod.
    Pod(Pod),
    /// A ReplicaSet.
    ReplicaSet(ReplicaSet),
    /// A ReplicationController.
    ReplicationController(ReplicationController),
    /// A DaemonSet.
    DaemonSet(DaemonSet),
    /// A Deployment.
    Deployment(Deployment),
    /// A Service.
    Service(Service),
    /// A Secret.
    Secret(Secret),
    /// Any other kind (custom resources included).
    Other(Item),
}

impl AnyItem {
    /// Types a generic item by its `kind` and `apiVersion`; a kind that is
    /// not the seed's (or is, at an API version the seed's kind does not
    /// use) stays generic: [`AnyItem::Other`].
    pub fn from_item(item: Item) -> Result<AnyItem> {
        use crate::kind::Kind;
        let seed = Kind::served_at(item.kind(), item.api_version()).map(|(kind, _)| kind);
        Ok(match seed {
            Some(Kind::Node) => AnyItem::Node(Node::from_item(item)?),
            Some(Kind::Namespace) => AnyItem::Namespace(Namespace::from_item(item)?),
            Some(Kind::Pod) => AnyItem::Pod(Pod::from_item(item)?),
            Some(Kind::ReplicaSet) => AnyItem::ReplicaSet(ReplicaSet::from_item(item)?),
            Some(Kind::ReplicationController) => {
                AnyItem::ReplicationController(ReplicationController::from_item(item)?)
            }
            Some(Kind::DaemonSet) => AnyItem::DaemonSet(DaemonSet::from_item(item)?),
            Some(Kind::Deployment) => AnyItem::Deployment(Deployment::from_item(item)?),
            Some(Kind::Service) => AnyItem::Service(Service::from_item(item)?),
            Some(Kind::Secret) => AnyItem::Secret(Secret::from_item(item)?),
            // Every kind beyond the seed's stays generic.
            _ => AnyItem::Other(item),
        })
    }

    /// The generic item underneath.
    pub fn item(&self) -> &Item {
        match self {
            AnyItem::Node(i) => i.item(),
            AnyItem::Namespace(i) => i.item(),
            AnyItem::Pod(i) => i.item(),
            AnyItem::ReplicaSet(i) => i.item(),
            AnyItem::ReplicationController(i) => i.item(),
            AnyItem::DaemonSet(i) => i.item(),
            AnyItem::Deployment(i) => i.item(),
            AnyItem::Service(i) => i.item(),
            AnyItem::Secret(i) => i.item(),
            AnyItem::Other(i) => i,
        }
    }
}
