//! The blocking facade over any [`Transport`]: `Cluster`, views, bound
//! items, watches. All protocol behaviour is here; transports only move
//! bytes.

pub(crate) mod api_paths;
pub(crate) mod async_cluster;
pub(crate) mod async_transport;
pub(crate) mod async_writes;
pub(crate) mod bound;
pub(crate) mod cluster;
pub(crate) mod delay;
pub(crate) mod pacing;
pub(crate) mod proxy;
pub(crate) mod seed_views;
pub(crate) mod transport;
pub(crate) mod view;
pub(crate) mod watch;
pub(crate) mod writes;
