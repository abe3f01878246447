//! The facade, written once over a [`driver::Driver`]: `Cluster`, views,
//! bound items, watches, streams. The two drivers — [`blocking`] (every
//! [`crate::Transport`]) and [`nonblocking`] ([`crate::Async`] over an
//! [`crate::AsyncTransport`]) — are the only places that wait; every
//! protocol decision is a sans-IO machine ([`crate::Exchange`], the
//! watcher, the pager, discovery).

pub(crate) mod api_paths;
pub(crate) mod blocking;
pub(crate) mod bound;
pub(crate) mod cluster;
pub(crate) mod driver;
pub(crate) mod lifecycle;
pub(crate) mod nonblocking;
pub(crate) mod pages;
pub(crate) mod proxy;
pub(crate) mod seed_views;
pub(crate) mod streams;
pub(crate) mod timer;
pub(crate) mod transport;
pub(crate) mod view;
pub(crate) mod watch;
pub(crate) mod writes;
