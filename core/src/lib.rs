//! # kubewire
//!
//! A Kubernetes API client whose protocol core performs no IO. This crate
//! turns intent into [`http::Request`]s and response bytes into items,
//! lists and errors; transport crates (`kubewire-ureq`, `kubewire-isahc`)
//! move the bytes, and anyone can drive the core from their own runtime.
//!
//! ```
//! use std::sync::Arc;
//! use kubewire::{Config, Endpoint, GetParams, Kind, Scope};
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
//! let err = kubewire::check_status(404, &Default::default(), &body).unwrap_err();
//! assert!(matches!(err, kubewire::Error::NotFound(_)));
//! # Ok::<(), kubewire::Error>(())
//! ```

mod client;
mod config;
mod discovery;
mod endpoint;
mod error;
mod exchange;
mod item;
mod items;
mod kind;
mod kubeconfig;
mod list;
mod logs;
mod manifest;
mod meta;
#[cfg(feature = "k8s-openapi")]
mod openapi;
mod pager;
mod params;
mod patch;
mod proxy;
mod quantity;
mod query;
mod rate_limit;
mod request;
mod resource;
mod response;
mod retry;
mod scale;
mod segment;
mod selector;
mod sensitive;
mod status;
mod time;
mod token;
mod view;
mod view_writes;
mod watch;
mod yaml;

pub use client::blocking::{BlockingBody, PipeReader};
pub use client::bound::Bound;
pub use client::cluster::{AsyncCluster, Cluster};
pub use client::driver::{BoxFuture, Driver};
pub use client::lifecycle::Lifecycle;
pub use client::nonblocking::Async;
pub use client::pages::Pages;
pub use client::proxy::ClusterProxy;
pub use client::streams::{LogLines, ProxyWatch};
pub use client::timer::{ThreadTimer, Timer};
pub use client::transport::{
    AsyncConnect, AsyncTransport, Connect, ConnectDriver, RequestKind, Transport, TransportOptions,
};
pub use client::view::ClusterView;
pub use client::watch::{StopHandle, ViewEvent, WatchIter};
pub use client::writes::BoundMap;
pub use config::{
    Auth, ClientCertificate, Config, Credentials, DEFAULT_BASE_URL, DEFAULT_USER_AGENT,
    Impersonation, SERVICE_ACCOUNT_DIR, redacted_url,
};
pub use discovery::catalog::{Discovery, Root, RootDocument};
pub use discovery::lookup::{AGGREGATED_ACCEPT, Lookup, LookupStep};
pub use discovery::resource::DiscoveredResource;
pub use endpoint::{Endpoint, Scope};
pub use error::{ApiError, Error, ErrorBody, Result, TransportErrorKind, WaitFailure};
pub use exchange::{Answer, Exchange};
pub use item::Item;
pub use items::any::AnyItem;
pub use items::namespace::{Namespace, NamespacePhase};
pub use items::node::{AddressType, Capacity, ConditionStatus, Node, NodeCondition};
pub use items::pod::{Container, ContainerState, Pod, PodPhase};
pub use items::secret::{Secret, SecretType};
pub use items::service::{LoadBalancerIngress, Service};
pub use items::typed::TypedItem;
pub use items::workloads::{DaemonSet, Deployment, ReplicaSet, ReplicationController};
pub use kind::Kind;
pub use list::{ItemList, SkippedItem};
pub use logs::{LineDecoder, LogLine};
pub use manifest::Manifest;
pub use meta::{Labels, ObjectMeta, OwnerReference};
pub use pager::{MAX_PAGES, MAX_RESTARTS, PageOutcome, Pager};
pub use params::{
    DeleteParams, FieldValidation, GetParams, ListParams, LogParams, Preconditions,
    PropagationPolicy, ResourceVersionMatch, WatchParams, WriteParams,
};
pub use patch::Patch;
pub use proxy::Proxy;
pub use quantity::{Quantity, QuantityFormat};
pub use rate_limit::{RateLimit, RateLimiter};
pub use resource::ApiResource;
pub use response::{
    check_status, decode_item, decode_list, decode_status, error_from_response, item_from_response,
    list_from_response,
};
pub use retry::RetryPolicy;
pub use scale::Scale;
pub use selector::Selector;
pub use sensitive::Sensitive;
pub use status::{Status, StatusCause, StatusDetails, StatusListMeta};
pub use time::Timestamp;
pub use token::DynamicToken;
pub use view::{View, ViewItem};
pub use view_writes::MetadataMap;
pub use watch::backoff::Backoff;
pub use watch::decoder::WatchDecoder;
pub use watch::event::{INITIAL_EVENTS_END, WatchEvent, WatchEventType};
pub use watch::watcher::{OnError, WatchStart, Watcher, WatcherEvent, WatcherOptions};

pub use bytes;
pub use http;
