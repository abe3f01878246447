//! Typed items for the seed's kinds, with their status accessors.

pub(crate) mod any;
pub(crate) mod fields;
pub(crate) mod namespace;
pub(crate) mod node;
pub(crate) mod pod;
pub(crate) mod secret;
pub(crate) mod service;
pub(crate) mod typed;
pub(crate) mod workloads;
