//! The client: `Cluster`, views, bound items, watches and streams, written
//! once over a [`Driver`]. There are two drivers, the only places that
//! wait: every blocking [`Transport`] is one (its calls return their
//! results), and [`Async`] over an [`AsyncTransport`] is the other (its
//! calls return futures). Every protocol decision is a sans-IO machine:
//! [`crate::exchange::Exchange`], the [`crate::watch::Watcher`], the
//! [`crate::pager::Pager`], [`crate::discovery::Lookup`].

pub(crate) mod api_paths;
pub(crate) mod blocking;
pub(crate) mod bound;
pub(crate) mod cache;
pub(crate) mod cluster;
pub(crate) mod driver;
pub(crate) mod exec;
pub(crate) mod lead;
pub(crate) mod lifecycle;
pub(crate) mod link;
pub(crate) mod local_forward;
pub(crate) mod lock;
pub(crate) mod nonblocking;
pub(crate) mod pages;
pub(crate) mod pipe;
pub(crate) mod polled;
pub(crate) mod port_forward;
pub(crate) mod proxy;
pub(crate) mod seed_views;
pub(crate) mod streams;
pub(crate) mod timer;
pub(crate) mod transport;
pub(crate) mod view;
pub(crate) mod watch;
pub(crate) mod writes;

pub use blocking::{BlockingBody, PipeReader};
pub use bound::Bound;
pub use cache::{Cache, CacheChange, CacheChanges, CacheTask};
pub use cluster::{AsyncCluster, Cluster};
pub use driver::{BoxFuture, Driver};
pub use exec::{Attached, ExecOutput};
pub use lead::{LeadTask, Leadership};
pub use lifecycle::Lifecycle;
pub use local_forward::LocalForward;
pub use nonblocking::Async;
pub use pages::Pages;
pub use port_forward::PortStream;
pub use proxy::ClusterProxy;
pub use streams::{LogLines, ProxyWatch};
pub use timer::{ThreadTimer, Timer};
pub use transport::{
    AsyncConnect, AsyncTransport, Connect, ConnectDriver, RequestKind, Transport, TransportOptions,
    Tunnel, sends_body,
};
pub use view::ClusterView;
pub use watch::{StopHandle, ViewEvent, WatchIter};
pub use writes::BoundMap;
