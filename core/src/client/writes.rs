//! Writes through a bound view or item: replace, patch, apply, status and
//! scale subresources, labels and annotations, delete options and
//! delete-collection.

use serde_json::Value;

use crate::client::bound::Bound;
use crate::client::transport::Transport;
use crate::client::view::ClusterView;
use crate::error::Result;
use crate::params::{DeleteParams, WriteParams};
use crate::patch::Patch;
use crate::response;
use crate::scale::Scale;
use crate::view::{View, ViewItem};
use crate::view_writes::MetadataMap;

impl<T: Transport + std::fmt::Debug, I: ViewItem + Clone> ClusterView<T, I> {
    /// Sends the request `build` makes on the view at the API path that
    /// serves it, and binds the answer to that view.
    pub(crate) fn write(
        &self,
        build: impl FnOnce(&View<I>) -> Result<http::Request<bytes::Bytes>>,
    ) -> Result<Bound<T, I>> {
        let view = self.resolved()?;
        let answer = self.cluster().execute(build(&view)?)?;
        let item = view.decode(answer)?;
        Ok(Bound::new(self.cluster().clone(), view, item))
    }

    /// Replaces an object with `manifest` (`PUT`). Its
    /// `metadata.resourceVersion` is a precondition: when the object changed
    /// since, the answer is a `409 Conflict` error saying so.
    pub fn replace(&self, manifest: Value, params: &WriteParams) -> Result<Bound<T, I>> {
        self.write(|v| v.replace_request(manifest, params))
    }

    /// Patches an object: strategic merge, JSON merge, JSON patch or
    /// server-side apply ([`Patch`]). `params` carries `dry_run`,
    /// `field_manager`, `field_validation` and `force`.
    pub fn patch(
        &self,
        name: &str,
        namespace: Option<&str>,
        patch: &Patch,
        params: &WriteParams,
    ) -> Result<Bound<T, I>> {
        self.write(|v| v.patch_request(name, namespace, patch, params))
    }

    /// Server-side apply of `manifest`: creates or updates the fields its
    /// field manager owns (per call in `params`, else the cluster's). A
    /// conflict with another manager is a `409` whose causes name it;
    /// `params.force` takes the fields over.
    pub fn apply(&self, manifest: Value, params: &WriteParams) -> Result<Bound<T, I>> {
        self.write(|v| v.apply_request(manifest, params))
    }

    /// Deletes an object with options: grace period, propagation policy
    /// (orphan, background, foreground), preconditions, dry run.
    pub fn delete_with(
        &self,
        name: &str,
        namespace: Option<&str>,
        params: &DeleteParams,
    ) -> Result<()> {
        let answer = self
            .cluster()
            .execute(self.resolved()?.delete_request(name, namespace, params)?)?;
        response::check_status(answer.status().as_u16(), answer.headers(), answer.body())
    }

    /// Deletes every object the view selects (its namespace and selectors)
    /// and returns them as the server last saw them.
    pub fn delete_collection(&self, params: &DeleteParams) -> Result<Vec<Bound<T, I>>> {
        let view = self.resolved()?;
        let answer = self
            .cluster()
            .execute(view.delete_collection_request(params)?)?;
        Ok(view
            .decode_deleted(answer)?
            .into_iter()
            .map(|item| self.bind(item))
            .collect())
    }

    /// An object read through its `status` subresource.
    pub fn status(&self, name: &str, namespace: Option<&str>) -> Result<Bound<T, I>> {
        self.write(|v| v.subresource_request(name, namespace, "status"))
    }

    /// Replaces an object's status (`PUT .../status` with the whole object;
    /// its resourceVersion is a precondition).
    pub fn update_status(&self, manifest: Value, params: &WriteParams) -> Result<Bound<T, I>> {
        self.write(|v| v.replace_status_request(manifest, params))
    }

    /// Patches an object's status with any patch type.
    pub fn patch_status(
        &self,
        name: &str,
        namespace: Option<&str>,
        patch: &Patch,
        params: &WriteParams,
    ) -> Result<Bound<T, I>> {
        self.write(|v| v.patch_status_request(name, namespace, patch, params))
    }

    /// Server-side apply of `status` to `.../status` (a field manager is
    /// needed: per call, else the cluster's).
    pub fn apply_status(
        &self,
        name: &str,
        namespace: Option<&str>,
        status: Value,
        params: &WriteParams,
    ) -> Result<Bound<T, I>> {
        self.write(|v| v.apply_status_request(name, namespace, status, params))
    }

    /// The `scale` subresource: desired and observed replicas.
    pub fn scale(&self, name: &str, namespace: Option<&str>) -> Result<Scale> {
        let request = self.resolved()?.scale_request(name, namespace)?;
        Scale::from_response(self.cluster().execute(request)?)
    }

    /// Replaces the `scale` subresource with `scale` (read before, changed
    /// with [`Scale::with_replicas`]; a stale one is `409 Conflict`).
    pub fn replace_scale(&self, scale: &Scale, params: &WriteParams) -> Result<Scale> {
        let request = self.resolved()?.replace_scale_request(scale, params)?;
        Scale::from_response(self.cluster().execute(request)?)
    }

    /// Sets the desired replicas through the `scale` subresource.
    pub fn set_scale(
        &self,
        name: &str,
        namespace: Option<&str>,
        replicas: i32,
        params: &WriteParams,
    ) -> Result<Scale> {
        let request = self
            .resolved()?
            .set_scale_request(name, namespace, replicas, params)?;
        Scale::from_response(self.cluster().execute(request)?)
    }
}

impl<T: Transport + std::fmt::Debug, I: ViewItem + Clone> Bound<T, I> {
    fn name_and_namespace(&self) -> (&str, Option<&str>) {
        let meta = self.as_item().meta();
        (meta.name(), meta.namespace())
    }

    /// Patches this object (see [`ClusterView::patch`]).
    pub fn patch(&self, patch: &Patch, params: &WriteParams) -> Result<Bound<T, I>> {
        let (name, ns) = self.name_and_namespace();
        self.view().patch(name, ns, patch, params)
    }

    /// Deletes this object with options (see [`ClusterView::delete_with`]).
    pub fn delete_with(&self, params: &DeleteParams) -> Result<()> {
        let (name, ns) = self.name_and_namespace();
        self.view().delete_with(name, ns, params)
    }

    /// Replaces this object's status with `status`, with this revision's
    /// resourceVersion as precondition (a stale item gets `409 Conflict`).
    pub fn update_status(&self, status: Value, params: &WriteParams) -> Result<Bound<T, I>> {
        let mut manifest = self.as_item().to_value()?;
        manifest["status"] = status;
        self.view().update_status(manifest, params)
    }

    /// Patches this object's status (see [`ClusterView::patch_status`]).
    pub fn patch_status(&self, patch: &Patch, params: &WriteParams) -> Result<Bound<T, I>> {
        let (name, ns) = self.name_and_namespace();
        self.view().patch_status(name, ns, patch, params)
    }

    /// Server-side apply of `status` (see [`ClusterView::apply_status`]).
    pub fn apply_status(&self, status: Value, params: &WriteParams) -> Result<Bound<T, I>> {
        let (name, ns) = self.name_and_namespace();
        self.view().apply_status(name, ns, status, params)
    }

    /// This object's `scale` subresource.
    pub fn scale(&self) -> Result<Scale> {
        let (name, ns) = self.name_and_namespace();
        self.view().scale(name, ns)
    }

    /// Sets this object's desired replicas through `scale`.
    pub fn set_scale(&self, replicas: i32, params: &WriteParams) -> Result<Scale> {
        let (name, ns) = self.name_and_namespace();
        self.view().set_scale(name, ns, replicas, params)
    }

    /// The annotations, with `set` (`None` removes) writing to the server.
    pub fn annotations(&self) -> BoundMap<'_, T, I> {
        BoundMap {
            bound: self,
            map: MetadataMap::Annotations,
        }
    }

    /// The labels, with `set` (`None` removes) and `delete` writing to the
    /// server.
    pub fn labels(&self) -> BoundMap<'_, T, I> {
        BoundMap {
            bound: self,
            map: MetadataMap::Labels,
        }
    }
}

/// The labels or annotations of a bound item; changes return the new
/// revision.
#[derive(Debug)]
pub struct BoundMap<'a, T: Transport, I> {
    bound: &'a Bound<T, I>,
    map: MetadataMap,
}

impl<'a, T: Transport + std::fmt::Debug, I: ViewItem + Clone> BoundMap<'a, T, I> {
    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        let meta = self.bound.as_item().meta();
        match self.map {
            MetadataMap::Labels => meta.labels().get(key),
            MetadataMap::Annotations => meta.annotations().get(key).map(String::as_str),
        }
    }

    /// Sets a key (`Some` or a plain `&str`), or removes it (`None`);
    /// returns the new revision.
    pub fn set<'v>(&self, key: &str, value: impl Into<Option<&'v str>>) -> Result<Bound<T, I>> {
        self.set_with(key, value.into(), &WriteParams::default())
    }

    /// Removes a key; returns the new revision.
    pub fn delete(&self, key: &str) -> Result<Bound<T, I>> {
        self.set_with(key, None, &WriteParams::default())
    }

    /// Sets or removes a key with write options (dry run, field manager).
    pub fn set_with(
        &self,
        key: &str,
        value: Option<&str>,
        params: &WriteParams,
    ) -> Result<Bound<T, I>> {
        let b = self.bound;
        b.view()
            .write(|v| v.metadata_request(b.as_item(), self.map, key, value, params))
    }
}
