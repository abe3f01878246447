//! The write requests of a [`View`]: replace, patch, server-side apply,
//! status and scale subresources, annotations, delete-collection.

use bytes::Bytes;
use http::Request;
use serde_json::{Value, json};

use crate::endpoint::{Endpoint, Scope};
use crate::error::{Error, Result};
use crate::item::Item;
use crate::manifest::Manifest;
use crate::params::{DeleteParams, GetParams, WriteParams};
use crate::patch::Patch;
use crate::scale::Scale;
use crate::selector::Selector;
use crate::view::{View, ViewItem};

/// Which metadata map a key/value write targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataMap {
    /// `metadata.labels` (keys and values checked as label syntax).
    Labels,
    /// `metadata.annotations` (keys checked; values are free text).
    Annotations,
}

impl<T: ViewItem> View<T> {
    /// The endpoint a manifest of this view's kind goes to: its namespace
    /// by lightkube's precedence (the view's, then `metadata.namespace`,
    /// then the default; contradictions are errors), and its name.
    fn manifest_target(&self, manifest: &Manifest) -> Result<(Endpoint, String)> {
        let name = manifest
            .name()
            .ok_or_else(|| Error::InvalidInput("the manifest has no metadata.name".into()))?
            .to_string();
        let endpoint = manifest.endpoint_for(
            self.config().clone(),
            self.api_resource().clone(),
            self.bound_namespace(),
        )?;
        Ok((endpoint, name))
    }

    /// `PUT` a whole object. Its `metadata.resourceVersion`, when present,
    /// is a precondition: a stale one is answered `409 Conflict`.
    pub fn replace_request(&self, manifest: Value, params: &WriteParams) -> Result<Request<Bytes>> {
        let manifest = Manifest::new(manifest)?;
        let (endpoint, name) = self.manifest_target(&manifest)?;
        endpoint.replace(&name, manifest.value(), params)
    }

    /// `PATCH` one object with any patch type (server-side apply needs a
    /// field manager: per call, else the cluster's).
    pub fn patch_request(
        &self,
        name: &str,
        namespace: Option<&str>,
        patch: &Patch,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        self.object_endpoint(namespace)?.patch(name, patch, params)
    }

    /// Server-side apply of a manifest (`PATCH` `application/apply-patch+yaml`
    /// to its name), creating the object if it does not exist.
    pub fn apply_request(&self, manifest: Value, params: &WriteParams) -> Result<Request<Bytes>> {
        let manifest = Manifest::new(manifest)?;
        let (endpoint, name) = self.manifest_target(&manifest)?;
        endpoint.patch(&name, &Patch::Apply(manifest.value().clone()), params)
    }

    /// `GET` a subresource (`status`, `scale`, ...).
    pub fn subresource_request(
        &self,
        name: &str,
        namespace: Option<&str>,
        subresource: &str,
    ) -> Result<Request<Bytes>> {
        self.object_endpoint(namespace)?.get_subresource(
            name,
            Some(subresource),
            &GetParams::default(),
        )
    }

    /// `PUT .../status`: the whole object, whose `status` the server keeps
    /// (and whose spec it ignores). Its resourceVersion is a precondition.
    pub fn replace_status_request(
        &self,
        manifest: Value,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        let manifest = Manifest::new(manifest)?;
        let (endpoint, name) = self.manifest_target(&manifest)?;
        endpoint.replace_subresource(&name, Some("status"), manifest.value(), params)
    }

    /// `PATCH .../status` with any patch type.
    pub fn patch_status_request(
        &self,
        name: &str,
        namespace: Option<&str>,
        patch: &Patch,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        self.object_endpoint(namespace)?
            .patch_subresource(name, Some("status"), patch, params)
    }

    /// Server-side apply of `status` alone to `.../status`, as its field
    /// manager's own fields (`params` needs a field manager, else the
    /// cluster's).
    pub fn apply_status_request(
        &self,
        name: &str,
        namespace: Option<&str>,
        status: Value,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        let endpoint = self.object_endpoint(namespace)?;
        let resource = self.api_resource();
        let mut metadata = json!({ "name": name });
        if let Scope::Namespace(ns) = endpoint.scope() {
            metadata["namespace"] = json!(ns);
        }
        let body = json!({
            "apiVersion": resource.api_version(),
            "kind": resource.kind(),
            "metadata": metadata,
            "status": status,
        });
        endpoint.patch_subresource(name, Some("status"), &Patch::Apply(body), params)
    }

    /// `GET .../scale` (Deployments, ReplicaSets, ReplicationControllers,
    /// StatefulSets and custom resources with a scale subresource).
    pub fn scale_request(&self, name: &str, namespace: Option<&str>) -> Result<Request<Bytes>> {
        self.subresource_request(name, namespace, "scale")
    }

    /// `PUT .../scale` with a [`Scale`] read before (see
    /// [`Scale::with_replicas`]); its resourceVersion is a precondition.
    pub fn replace_scale_request(
        &self,
        scale: &Scale,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        if scale.replicas() < 0 {
            return Err(Error::InvalidInput(format!(
                "replicas must not be negative (got {})",
                scale.replicas()
            )));
        }
        self.object_endpoint(scale.namespace())?
            .replace_subresource(scale.name(), Some("scale"), scale.to_value(), params)
    }

    /// Sets the desired replicas through `.../scale` (a JSON merge patch of
    /// `spec.replicas`; the answer is the new [`crate::model::Scale`]).
    pub fn set_scale_request(
        &self,
        name: &str,
        namespace: Option<&str>,
        replicas: i32,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        if replicas < 0 {
            return Err(Error::InvalidInput(format!(
                "replicas must not be negative (got {replicas})"
            )));
        }
        self.object_endpoint(namespace)?.patch_subresource(
            name,
            Some("scale"),
            &Patch::Merge(json!({"spec": {"replicas": replicas}})),
            params,
        )
    }

    /// Sets (`Some`) or removes (`None`) one key of `item`'s labels or
    /// annotations. Setting is a strategic merge patch for the seed's kinds
    /// and a JSON merge patch for other resources (custom resources accept
    /// no strategic merge); removing is a JSON merge patch whose `null`
    /// deletes the key, for every kind. The answer is the new revision.
    pub fn metadata_request(
        &self,
        item: &Item,
        map: MetadataMap,
        key: &str,
        value: Option<&str>,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        let field = match map {
            MetadataMap::Labels => {
                Selector::from([(key, value.unwrap_or(""))]).labels()?;
                "labels"
            }
            MetadataMap::Annotations => {
                // An annotation key has label key syntax; its value is free.
                Selector::from([(key, "")]).labels()?;
                "annotations"
            }
        };
        let body = json!({"metadata": {field: {key: value}}});
        // Built-in kinds take a strategic merge patch, whose null removes
        // the key (as kubectl sends it); custom resources know no strategic
        // merge, so they get a JSON merge patch.
        let patch = if T::seed_kind().is_some() {
            Patch::Strategic(body)
        } else {
            Patch::Merge(body)
        };
        self.object_endpoint(item.meta().namespace())?
            .patch(item.meta().name(), &patch, params)
    }

    /// Sets (`Some`) or removes (`None`) one label of `item` (see
    /// [`View::metadata_request`]).
    pub fn label_request(
        &self,
        item: &Item,
        key: &str,
        value: Option<&str>,
    ) -> Result<Request<Bytes>> {
        self.metadata_request(
            item,
            MetadataMap::Labels,
            key,
            value,
            &WriteParams::default(),
        )
    }

    /// Decodes what a delete-collection answered: the deleted objects (a
    /// list), or nothing when the server answered a `Status`.
    pub fn decode_deleted(&self, response: http::Response<Bytes>) -> Result<Vec<T>> {
        let (parts, body) = response.into_parts();
        crate::response::check_status(parts.status.as_u16(), &parts.headers, &body)?;
        if crate::response::body_kind(&body).as_deref() == Some("Status") {
            return Ok(Vec::new());
        }
        self.decode_list(http::Response::from_parts(parts, body))
    }

    /// `DELETE` the view's collection: every object its selectors match in
    /// its namespace. A namespaced kind needs a namespace: the apiserver
    /// has no delete-collection across namespaces.
    pub fn delete_collection_request(&self, params: &DeleteParams) -> Result<Request<Bytes>> {
        let mut selection = crate::params::ListParams::default().limit(None);
        selection.label_selector = self.label_selector().map(str::to_string);
        selection.field_selector = self.field_selector().map(str::to_string);
        self.endpoint()?.delete_collection(&selection, params)
    }
}
