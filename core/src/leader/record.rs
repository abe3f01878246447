//! What a Lease says about its holder, read from and written into the
//! whole object last seen.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// The leader-election fields of a Lease's `spec`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaseRecord {
    /// `holderIdentity`; empty when nobody holds it (released).
    pub holder: String,
    /// `leaseDurationSeconds`.
    pub duration_seconds: i64,
    /// `acquireTime`, as written (MicroTime).
    pub acquire_time: Option<String>,
    /// `renewTime`, as written (MicroTime).
    pub renew_time: Option<String>,
    /// `leaseTransitions`.
    pub transitions: i64,
}

impl LeaseRecord {
    /// The record of a Lease object.
    pub fn from_lease(lease: &Value) -> Result<LeaseRecord> {
        let spec = lease
            .get("spec")
            .and_then(Value::as_object)
            .ok_or_else(|| Error::decode("a Lease", "it has no spec"))?;
        let text = |k: &str| spec.get(k).and_then(Value::as_str).map(str::to_string);
        let number = |k: &str| spec.get(k).and_then(Value::as_i64).unwrap_or(0);
        Ok(LeaseRecord {
            holder: text("holderIdentity").unwrap_or_default(),
            duration_seconds: number("leaseDurationSeconds"),
            acquire_time: text("acquireTime"),
            renew_time: text("renewTime"),
            transitions: number("leaseTransitions"),
        })
    }

    /// Writes this record into `lease`'s spec, keeping every other field
    /// (and the metadata: its `resourceVersion` is the write's precondition).
    pub fn write_into(&self, lease: &mut Value) {
        if !lease.get("spec").is_some_and(Value::is_object) {
            lease["spec"] = Value::Object(Map::new());
        }
        let spec = &mut lease["spec"];
        spec["holderIdentity"] = json!(self.holder);
        spec["leaseDurationSeconds"] = json!(self.duration_seconds);
        spec["acquireTime"] = json!(self.acquire_time);
        spec["renewTime"] = json!(self.renew_time);
        spec["leaseTransitions"] = json!(self.transitions);
    }

    /// A new Lease `namespace/name` holding this record.
    pub fn new_lease(&self, namespace: &str, name: &str) -> Value {
        let mut lease = json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace},
        });
        self.write_into(&mut lease);
        lease
    }
}
