//! Services.

use std::net::IpAddr;

use crate::error::Result;
use crate::items::fields::Fields;
use crate::items::typed::typed_item;

typed_item!(
    /// A Service at one resourceVersion.
    Service
);

/// One load-balancer ingress point.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LoadBalancerIngress {
    /// An IP address (v4 or v6).
    Ip(IpAddr),
    /// A DNS name.
    Hostname(String),
}

impl Service {
    /// `status.loadBalancer.ingress`: IP addresses and hostnames, in order
    /// (an entry with both gives both).
    pub fn loadbalancer_ingress(&self) -> Result<Vec<LoadBalancerIngress>> {
        let list = self.fields().array("status.loadBalancer.ingress")?;
        let mut out = Vec::with_capacity(list.len());
        for (i, entry) in list.iter().enumerate() {
            let at = format!("status.loadBalancer.ingress[{i}]");
            let f = Fields::new(entry, &at);
            if f.get("ip").is_some() {
                out.push(LoadBalancerIngress::Ip(f.ip("ip")?));
            }
            if f.get("hostname").is_some() {
                out.push(LoadBalancerIngress::Hostname(f.string("hostname")?));
            }
        }
        Ok(out)
    }
}
