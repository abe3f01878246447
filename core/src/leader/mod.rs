//! Leader election on `coordination.k8s.io/v1` Leases, sans IO: the
//! [`LeaderElector`] state machine takes the time and hands out requests;
//! the client drives it on every transport (`Cluster::lead`).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Instant, SystemTime};
//! use kubewire::leader::{LeaderElector, LeaseParams, lease_endpoint};
//! let endpoint = lease_endpoint(Arc::new(kubewire::Config::default()), "demo").unwrap();
//! let mut elector =
//!     LeaderElector::new(endpoint, "my-controller", "pod-a", LeaseParams::default(), 7).unwrap();
//! let request = elector.poll_transmit(Instant::now(), SystemTime::now()).unwrap();
//! assert_eq!(request.uri().path(), "/apis/coordination.k8s.io/v1/namespaces/demo/leases/my-controller");
//! ```

mod elector;
mod params;
mod record;

use std::sync::Arc;

pub use elector::{LeaderElector, LeaderEvent};
pub use params::LeaseParams;
pub use record::LeaseRecord;

use crate::config::Config;
use crate::endpoint::{Endpoint, Scope};
use crate::error::Result;
use crate::resource::ApiResource;

/// The `coordination.k8s.io/v1` leases of `namespace`.
pub fn lease_endpoint(config: Arc<Config>, namespace: &str) -> Result<Endpoint> {
    let resource = ApiResource::new("coordination.k8s.io", "v1", "Lease", "leases", true)?;
    Endpoint::new(config, resource, Scope::Namespace(namespace.to_string()))
}
