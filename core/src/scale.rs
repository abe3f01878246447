//! The `scale` subresource: replicas of a Deployment, ReplicaSet,
//! ReplicationController or StatefulSet (autoscaling/v1 `Scale`).

use bytes::Bytes;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::response;

/// What `GET .../scale` answers: the desired and observed replicas.
///
/// ```
/// let answer = http::Response::new(bytes::Bytes::from_static(br#"{"kind":"Scale",
///   "apiVersion":"autoscaling/v1","metadata":{"name":"shop","namespace":"demo",
///   "resourceVersion":"7790"},"spec":{"replicas":3},
///   "status":{"replicas":2,"selector":"app=shop"}}"#));
/// let scale = kubewire::model::Scale::from_response(answer)?;
/// assert_eq!((scale.replicas(), scale.observed_replicas()), (3, 2));
/// assert_eq!(scale.selector(), Some("app=shop"));
/// # Ok::<(), kubewire::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scale {
    raw: serde_json::Value,
    name: String,
    namespace: Option<String>,
    version: String,
    replicas: i32,
    observed: i32,
    selector: Option<String>,
}

#[derive(Deserialize)]
struct Wire {
    kind: Option<String>,
    metadata: WireMeta,
    #[serde(default)]
    spec: WireSpec,
    #[serde(default)]
    status: WireStatus,
}

#[derive(Deserialize)]
struct WireMeta {
    name: String,
    namespace: Option<String>,
    #[serde(rename = "resourceVersion", default)]
    resource_version: String,
}

#[derive(Default, Deserialize)]
struct WireSpec {
    #[serde(default)]
    replicas: i32,
}

#[derive(Default, Deserialize)]
struct WireStatus {
    #[serde(default)]
    replicas: i32,
    selector: Option<String>,
}

impl Scale {
    /// Decodes a scale answer (a non-2xx one is its error).
    pub fn from_response(response: http::Response<Bytes>) -> Result<Scale> {
        let (parts, body) = response.into_parts();
        response::check_status(parts.status.as_u16(), &parts.headers, &body)?;
        let decode_error = |e: serde_json::Error| Error::Decode {
            expected: "a Scale",
            message: e.to_string(),
        };
        let raw: serde_json::Value = serde_json::from_slice(&body).map_err(decode_error)?;
        let wire = Wire::deserialize(&raw).map_err(decode_error)?;
        if wire.kind.as_deref().is_some_and(|k| k != "Scale") {
            return Err(Error::Decode {
                expected: "a Scale",
                message: format!("got kind {:?}", wire.kind.unwrap_or_default()),
            });
        }
        Ok(Scale {
            raw,
            name: wire.metadata.name,
            namespace: wire.metadata.namespace,
            version: wire.metadata.resource_version,
            replicas: wire.spec.replicas,
            observed: wire.status.replicas,
            selector: wire.status.selector,
        })
    }

    /// This scale with other desired replicas, for
    /// [`crate::request::View::replace_scale_request`] (its resourceVersion stays: a
    /// precondition).
    pub fn with_replicas(&self, replicas: i32) -> Scale {
        let mut next = self.clone();
        next.replicas = replicas;
        next.raw["spec"]["replicas"] = replicas.into();
        next
    }

    /// The whole `Scale` object as the server sent it (with any change made
    /// by [`Scale::with_replicas`]).
    pub fn to_value(&self) -> &serde_json::Value {
        &self.raw
    }

    /// The workload's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The workload's namespace.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The workload's resourceVersion at this answer.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The desired replicas (`spec.replicas`).
    pub fn replicas(&self) -> i32 {
        self.replicas
    }

    /// The replicas last observed (`status.replicas`).
    pub fn observed_replicas(&self) -> i32 {
        self.observed
    }

    /// The label selector of the pods counted, in string form.
    pub fn selector(&self) -> Option<&str> {
        self.selector.as_deref()
    }
}
