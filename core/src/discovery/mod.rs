//! Discovery: which resources the server serves, cached per cluster, and
//! the lookup from `(apiVersion, kind)` to a resource.

pub(crate) mod catalog;
pub(crate) mod documents;
pub(crate) mod lookup;
pub(crate) mod resource;

pub use catalog::{Discovery, Root, RootDocument};
pub use lookup::{AGGREGATED_ACCEPT, Lookup, LookupStep};
pub use resource::DiscoveredResource;
