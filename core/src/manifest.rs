//! A manifest to create or replace: checked before any request is built.

use std::sync::Arc;

use bytes::Bytes;
use http::Request;

use crate::config::Config;
use crate::endpoint::{Endpoint, Scope};
use crate::error::{Error, Result};
use crate::kind::Kind;
use crate::params::WriteParams;
use crate::resource::ApiResource;

/// Which write a manifest is sent with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ManifestWrite {
    /// `POST` to the collection.
    Create,
    /// Server-side apply to the object's name.
    Apply,
}

/// A JSON manifest with the fields every write needs: `apiVersion`, `kind`
/// and `metadata.name` or `metadata.generateName`.
///
/// ```
/// use kubewire::{Kind, Manifest};
/// let m = Manifest::new(serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
///     "metadata": {"name": "web", "namespace": "demo"}})).unwrap();
/// assert_eq!(m.seed_kind(), Some(Kind::Deployment));
/// assert_eq!(m.namespace_for(None, "default", true).unwrap().as_deref(), Some("demo"));
/// assert!(m.namespace_for(Some("other"), "default", true).is_err());
/// assert!(Manifest::new(serde_json::json!({"kind": "Pod", "metadata": {"name": "x"}})).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    value: serde_json::Value,
    api_version: String,
    kind: String,
    namespace: Option<String>,
}

fn text<'a>(value: &'a serde_json::Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

impl Manifest {
    /// Checks `value` and wraps it.
    pub fn new(value: serde_json::Value) -> Result<Manifest> {
        if !value.is_object() {
            return Err(Error::InvalidInput(
                "a manifest must be a JSON object".to_string(),
            ));
        }
        let missing = |what: &str| Error::InvalidInput(format!("the manifest has no {what}"));
        let api_version = text(&value, "/apiVersion").ok_or_else(|| missing("apiVersion"))?;
        let kind = text(&value, "/kind").ok_or_else(|| missing("kind"))?;
        match (
            text(&value, "/metadata/name"),
            text(&value, "/metadata/generateName"),
        ) {
            (None, None) => return Err(missing("metadata.name or metadata.generateName")),
            (Some(name), _) => crate::segment::check_name(name)?,
            (None, Some(_)) => {}
        }
        let namespace = text(&value, "/metadata/namespace").map(str::to_string);
        if let Some(ns) = &namespace {
            crate::segment::check_namespace(ns)?;
        }
        Ok(Manifest {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            namespace,
            value,
        })
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// `metadata.name`, when set.
    pub fn name(&self) -> Option<&str> {
        text(&self.value, "/metadata/name")
    }

    /// The manifest's JSON.
    pub fn value(&self) -> &serde_json::Value {
        &self.value
    }

    /// Its `metadata.namespace`, if set.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The seed kind this manifest describes, when it is one of them and its
    /// `apiVersion` is one the kind is served at.
    pub fn seed_kind(&self) -> Option<Kind> {
        Kind::served_at(&self.kind, &self.api_version).map(|(kind, _)| kind)
    }

    /// The seed kind's resource at this manifest's API path, when it is
    /// one of the seed's kinds.
    pub fn seed_api_resource(&self) -> Option<ApiResource> {
        let (kind, index) = Kind::served_at(&self.kind, &self.api_version)?;
        kind.api_resource(index)
    }

    /// The namespace the object goes to, by lightkube's precedence: the
    /// explicit argument, then `metadata.namespace`, then `default`.
    /// An argument that contradicts the manifest, or any namespace for a
    /// cluster-scoped kind, is [`Error::Namespace`].
    pub fn namespace_for(
        &self,
        explicit: Option<&str>,
        default: &str,
        namespaced: bool,
    ) -> Result<Option<String>> {
        if !namespaced {
            return match explicit.or(self.namespace.as_deref()) {
                Some(ns) => Err(Error::Namespace(format!(
                    "{} is cluster-scoped but namespace {ns:?} was given",
                    self.kind
                ))),
                None => Ok(None),
            };
        }
        match (explicit, self.namespace.as_deref()) {
            (Some(arg), Some(own)) if arg != own => Err(Error::Namespace(format!(
                "namespace {arg:?} contradicts the manifest's metadata.namespace {own:?}"
            ))),
            (Some(ns), _) | (None, Some(ns)) => Ok(Some(ns.to_string())),
            (None, None) => Ok(Some(default.to_string())),
        }
    }

    /// Every manifest of a YAML text of one or more documents (`---`
    /// separated). Empty documents are skipped and a `v1` `List` stands for
    /// its items. Every document is checked before any is returned: an
    /// error names the document (counted from 1).
    ///
    /// ```
    /// let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\
    ///             apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n";
    /// let docs = kubewire::Manifest::from_yaml(yaml)?;
    /// let kinds: Vec<&str> = docs.iter().map(|m| m.kind()).collect();
    /// assert_eq!(kinds, ["ConfigMap", "Deployment"]);
    /// assert!(kubewire::Manifest::from_yaml("kind: [unclosed").is_err());
    /// # Ok::<(), kubewire::Error>(())
    /// ```
    pub fn from_yaml(text: &str) -> Result<Vec<Manifest>> {
        let documents: Vec<serde_json::Value> = crate::yaml::from_multiple(text)
            .map_err(|e| Error::InvalidInput(format!("YAML manifest: {e}")))?;
        let mut manifests = Vec::new();
        for (n, document) in documents.into_iter().enumerate() {
            let at = |e: Error| Error::InvalidInput(format!("YAML document {}: {e}", n + 1));
            match document {
                serde_json::Value::Null => {}
                serde_json::Value::Object(ref map)
                    if map.get("kind").and_then(|k| k.as_str()) == Some("List")
                        && map.get("apiVersion").and_then(|v| v.as_str()) == Some("v1") =>
                {
                    let items = map.get("items").and_then(|i| i.as_array());
                    for item in items.into_iter().flatten() {
                        manifests.push(Manifest::new(item.clone()).map_err(at)?);
                    }
                }
                document => manifests.push(Manifest::new(document).map_err(at)?),
            }
        }
        Ok(manifests)
    }

    /// The endpoint this manifest goes to as `resource` (see
    /// [`Manifest::namespace_for`]); a different kind is an error.
    pub(crate) fn endpoint_for(
        &self,
        config: Arc<Config>,
        resource: ApiResource,
        namespace: Option<&str>,
    ) -> Result<Endpoint> {
        if resource.kind() != self.kind || resource.api_version() != self.api_version {
            return Err(Error::InvalidInput(format!(
                "the manifest is a {} {} but the resource is a {} {}",
                self.api_version,
                self.kind,
                resource.api_version(),
                resource.kind()
            )));
        }
        let ns = self.namespace_for(
            namespace,
            &config.default_namespace,
            resource.is_namespaced(),
        )?;
        let scope = ns.map_or(Scope::Cluster, Scope::Namespace);
        Endpoint::new(config, resource, scope)
    }

    /// The `POST` creating this manifest as `resource` (whose kind must match).
    pub fn create_request(
        &self,
        config: Arc<Config>,
        resource: ApiResource,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        self.endpoint_for(config, resource, namespace)?
            .create(&self.value, params)
    }

    /// The request of `write` for this manifest as `resource`.
    pub(crate) fn write_request(
        &self,
        write: ManifestWrite,
        config: Arc<Config>,
        resource: ApiResource,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        match write {
            ManifestWrite::Create => self.create_request(config, resource, namespace, params),
            ManifestWrite::Apply => self.apply_request(config, resource, namespace, params),
        }
    }

    /// The server-side apply `PATCH` of this manifest as `resource` (a
    /// field manager is needed: in `params`, else the configuration's).
    pub fn apply_request(
        &self,
        config: Arc<Config>,
        resource: ApiResource,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        let name = self.name().ok_or_else(|| {
            Error::InvalidInput("server-side apply needs metadata.name".to_string())
        })?;
        self.endpoint_for(config, resource, namespace)?.patch(
            name,
            &crate::patch::Patch::Apply(self.value.clone()),
            params,
        )
    }
}
