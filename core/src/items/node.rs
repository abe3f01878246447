//! Nodes: addresses, capacity, conditions.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::items::fields::Fields;
use crate::items::typed::typed_item;
use crate::quantity::Quantity;
use crate::time::Timestamp;

typed_item!(
    /// A Node at one resourceVersion.
    Node
);

/// The type of a node address. Types Kubernetes may add later are kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AddressType {
    /// `Hostname`.
    Hostname,
    /// `ExternalIP`.
    ExternalIp,
    /// `InternalIP`.
    InternalIp,
    /// `ExternalDNS`.
    ExternalDns,
    /// `InternalDNS`.
    InternalDns,
    /// Any other type, as the server named it.
    Other(String),
}

impl AddressType {
    fn parse(s: &str) -> AddressType {
        match s {
            "Hostname" => AddressType::Hostname,
            "ExternalIP" => AddressType::ExternalIp,
            "InternalIP" => AddressType::InternalIp,
            "ExternalDNS" => AddressType::ExternalDns,
            "InternalDNS" => AddressType::InternalDns,
            other => AddressType::Other(other.to_string()),
        }
    }
}

/// `status.capacity`: every resource, with CPU and memory at hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capacity {
    resources: BTreeMap<String, Quantity>,
}

impl Capacity {
    fn get(&self, name: &str) -> Result<Quantity> {
        self.resources
            .get(name)
            .copied()
            .ok_or_else(|| Error::StatusUnavailable {
                field: format!("status.capacity.{name}"),
            })
    }

    /// CPU as an exact quantity (`cpu().millis()` for millicores).
    pub fn cpu(&self) -> Result<Quantity> {
        self.get("cpu")
    }

    /// CPU in (fractional) cores.
    pub fn cores(&self) -> Result<f64> {
        self.cpu().map(|q| q.as_f64())
    }

    /// Memory in bytes.
    pub fn memory_bytes(&self) -> Result<i128> {
        self.get("memory").map(|q| q.whole())
    }

    /// Every resource (`cpu`, `memory`, `pods`, `ephemeral-storage`, ...).
    pub fn resources(&self) -> &BTreeMap<String, Quantity> {
        &self.resources
    }
}

/// `True`, `False` or `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionStatus {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Unknown`.
    Unknown,
}

impl ConditionStatus {
    pub(crate) fn parse(s: &str) -> Option<ConditionStatus> {
        Some(match s {
            "True" => ConditionStatus::True,
            "False" => ConditionStatus::False,
            "Unknown" => ConditionStatus::Unknown,
            _ => return None,
        })
    }
}

/// One of `status.conditions` of a Node.
#[derive(Clone, Debug)]
pub struct NodeCondition<'a> {
    value: &'a Value,
    at: String,
}

impl NodeCondition<'_> {
    fn fields(&self) -> Fields<'_> {
        Fields::new(self.value, &self.at)
    }

    /// `type`, e.g. `Ready`, `MemoryPressure`.
    pub fn condition_type(&self) -> Result<String> {
        self.fields().string("type")
    }

    /// `status`.
    pub fn status(&self) -> Result<ConditionStatus> {
        self.fields()
            .choice("status", ConditionStatus::parse, "True, False or Unknown")
    }

    /// `reason`.
    pub fn reason(&self) -> Result<String> {
        self.fields().string("reason")
    }

    /// `message`.
    pub fn message(&self) -> Result<String> {
        self.fields().string("message")
    }

    /// `lastHeartbeatTime`.
    pub fn last_heartbeat_time(&self) -> Result<Timestamp> {
        self.fields().time("lastHeartbeatTime")
    }

    /// `lastTransitionTime`.
    pub fn last_transition_time(&self) -> Result<Timestamp> {
        self.fields().time("lastTransitionTime")
    }
}

impl Node {
    /// `status.addresses` as (type, address) pairs; empty when absent (as
    /// the seed library has it). Unknown types are kept.
    pub fn addresses(&self) -> Result<Vec<(AddressType, String)>> {
        let f = self.fields();
        let Some(list) = f.get("status.addresses") else {
            return Ok(Vec::new());
        };
        let list = list.as_array().ok_or_else(|| Error::FieldValue {
            field: "status.addresses".into(),
            value: list.to_string(),
            expected: "a list".into(),
        })?;
        list.iter()
            .enumerate()
            .map(|(i, a)| {
                let at = format!("status.addresses[{i}]");
                let f = Fields::new(a, &at);
                Ok((AddressType::parse(&f.string("type")?), f.string("address")?))
            })
            .collect()
    }

    /// `status.capacity`, every quantity parsed exactly.
    pub fn capacity(&self) -> Result<Capacity> {
        let f = self.fields();
        let map = f.value("status.capacity")?;
        let map = map.as_object().ok_or_else(|| Error::FieldValue {
            field: "status.capacity".into(),
            value: map.to_string(),
            expected: "a map of quantities".into(),
        })?;
        let mut resources = BTreeMap::new();
        for (name, v) in map {
            let text = v.as_str().unwrap_or_default();
            let q = text.parse::<Quantity>().map_err(|_| Error::FieldValue {
                field: format!("status.capacity.{name}"),
                value: v.as_str().map_or_else(|| v.to_string(), str::to_string),
                expected: "a Kubernetes quantity".into(),
            })?;
            resources.insert(name.clone(), q);
        }
        Ok(Capacity { resources })
    }

    /// `status.conditions`.
    pub fn conditions(&self) -> Result<Vec<NodeCondition<'_>>> {
        let list = self.fields().array("status.conditions")?;
        Ok(list
            .iter()
            .enumerate()
            .map(|(i, value)| NodeCondition {
                value,
                at: format!("status.conditions[{i}]"),
            })
            .collect())
    }
}
