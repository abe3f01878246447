//! An item of any of the seed's kinds, typed by what the server answered.

use crate::error::{Error, Result};
use crate::item::Item;
use crate::items::namespace::Namespace;
use crate::items::node::Node;
use crate::items::pod::Pod;
use crate::items::secret::Secret;
use crate::items::service::Service;
use crate::items::typed::TypedItem;
use crate::items::workloads::{DaemonSet, Deployment, ReplicaSet, ReplicationController};

/// An item of one of the seed's kinds (what `cluster.create` returns).
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
}

impl AnyItem {
    /// Types a generic item by its `kind`; other kinds are an error.
    pub fn from_item(item: Item) -> Result<AnyItem> {
        Ok(match item.kind() {
            "Node" => AnyItem::Node(Node::from_item(item)?),
            "Namespace" => AnyItem::Namespace(Namespace::from_item(item)?),
            "Pod" => AnyItem::Pod(Pod::from_item(item)?),
            "ReplicaSet" => AnyItem::ReplicaSet(ReplicaSet::from_item(item)?),
            "ReplicationController" => {
                AnyItem::ReplicationController(ReplicationController::from_item(item)?)
            }
            "DaemonSet" => AnyItem::DaemonSet(DaemonSet::from_item(item)?),
            "Deployment" => AnyItem::Deployment(Deployment::from_item(item)?),
            "Service" => AnyItem::Service(Service::from_item(item)?),
            "Secret" => AnyItem::Secret(Secret::from_item(item)?),
            other => {
                return Err(Error::Decode {
                    expected: "one of the seed's kinds",
                    message: format!("got a {other:?}"),
                });
            }
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
        }
    }
}
