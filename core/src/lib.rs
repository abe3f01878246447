//! # kubewire
//!
//! A Kubernetes API client whose protocol core performs no IO. This crate
//! turns intent into [`http::Request`]s and response bytes into items,
//! lists and errors; transport crates (`kubewire-ureq`, `kubewire-isahc`)
//! move the bytes, and anyone can drive the core from their own runtime.
//!
//! ```
//! use std::sync::Arc;
//! use kubewire::{Config, Kind, request::{Endpoint, GetParams, Scope}};
//!
//! let config = Arc::new(Config::new("http://localhost:8001")?);
//! let rs = Endpoint::new(config, Kind::ReplicaSet.api_resource(0).unwrap(),
//!                        Scope::Namespace("demo".into()))?;
//! let request = rs.get("auth-v3", &GetParams::default())?;
//! assert_eq!(request.uri().path(), "/apis/apps/v1/namespaces/demo/replicasets/auth-v3");
//!
//! // ... send it with any HTTP client, then:
//! let body = bytes::Bytes::from_static(br#"{"kind":"Status","apiVersion":"v1","metadata":{},
//!   "status":"Failure","message":"replicasets.apps \"auth-v3\" not found","reason":"NotFound",
//!   "details":{"name":"auth-v3","group":"apps","kind":"replicasets"},"code":404}"#);
//! let err = kubewire::request::check_status(404, &Default::default(), &body).unwrap_err();
//! assert!(matches!(err, kubewire::Error::NotFound(_)));
//! # Ok::<(), kubewire::Error>(())
//! ```

pub mod cache;
pub mod client;
pub mod config;
pub mod discovery;
pub mod error;
pub mod exchange;
pub mod leader;
pub mod pager;
pub mod stream;
pub mod watch;

mod assemble;
#[cfg(test)]
mod damage;
mod endpoint;
mod item;
mod item_scan;
mod items;
mod json_ref;
mod json_scan;
mod kind;
mod kubeconfig;
mod list;
mod list_scan;
mod logs;
mod manifest;
mod meta;
#[cfg(feature = "k8s-openapi")]
mod openapi;
mod params;
mod patch;
mod proxy;
mod proxy_env;
mod quantity;
mod query;
mod rate_limit;
mod resource;
mod response;
mod retry;
mod scale;
mod segment;
mod selector;
mod sensitive;
mod splitmix;
mod status;
mod stream_params;
mod time;
mod token;
#[cfg(feature = "k8s-openapi")]
mod typed_view;
mod value_check;
mod view;
mod view_writes;
mod yaml;

/// The vocabulary: items (one resource at one resourceVersion), their typed
/// forms and accessors, lists, statuses, quantities, times, manifests.
pub mod model {
    pub use crate::item::Item;
    pub use crate::items::any::AnyItem;
    pub use crate::items::namespace::{Namespace, NamespacePhase};
    pub use crate::items::node::{AddressType, Capacity, ConditionStatus, Node, NodeCondition};
    pub use crate::items::pod::{Container, ContainerState, Pod, PodPhase};
    pub use crate::items::secret::{Secret, SecretType};
    pub use crate::items::service::{LoadBalancerIngress, Service};
    pub use crate::items::typed::TypedItem;
    pub use crate::items::workloads::{DaemonSet, Deployment, ReplicaSet, ReplicationController};
    pub use crate::json_ref::{Elements, JsonRef, Members};
    pub use crate::kind::Kind;
    pub use crate::list::{ItemList, SkippedItem};
    pub use crate::logs::LogLine;
    pub use crate::manifest::Manifest;
    pub use crate::meta::{Labels, ObjectMeta, OwnerReference, StringMap};
    pub use crate::quantity::{Quantity, QuantityFormat};
    pub use crate::scale::Scale;
    pub use crate::status::{Status, StatusCause, StatusDetails, StatusListMeta};
    pub use crate::time::Timestamp;
    #[cfg(feature = "k8s-openapi")]
    pub use crate::typed_view::Typed;
}

/// Requests and answers, sans IO: views and endpoints that build every
/// verb's request, their parameters, patches, selectors, and the decoders
/// of whole answers and log streams.
pub mod request {
    pub use crate::endpoint::{Endpoint, Scope};
    pub use crate::logs::LineDecoder;
    pub use crate::params::{
        DeleteParams, FieldValidation, GetParams, ListParams, LogParams, Preconditions,
        PropagationPolicy, ResourceVersionMatch, WatchParams, WriteParams,
    };
    pub use crate::patch::Patch;
    pub use crate::proxy::Proxy;
    pub use crate::resource::ApiResource;
    pub use crate::response::{
        check_status, decode_item, decode_list, decode_status, error_from_response,
        item_from_response, list_from_response,
    };
    pub use crate::selector::Selector;
    pub use crate::stream_params::{AttachParams, ExecParams};
    pub use crate::view::{View, ViewItem};
    pub use crate::view_writes::MetadataMap;
}

// What a first program needs; everything else is in the modules above.
pub use client::{
    Async, AsyncCluster, AsyncConnect, AsyncTransport, Bound, BoxFuture, Cluster, ClusterView,
    Connect, Driver, RequestKind, Transport, TransportOptions, Tunnel,
};
pub use config::Config;
pub use error::{Error, Result};
pub use model::{
    AnyItem, DaemonSet, Deployment, Item, Kind, Manifest, Namespace, Node, Pod, Quantity,
    ReplicaSet, ReplicationController, Secret, Service,
};
pub use request::{
    AttachParams, DeleteParams, ExecParams, ListParams, LogParams, Patch, Selector, WriteParams,
};
pub use watch::WatchEventType;

pub use bytes;
pub use http;
