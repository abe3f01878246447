//! Writes through a bound view or item: replace, patch, apply, status and
//! scale subresources, labels and annotations, delete options and
//! delete-collection — written once for blocking and async drivers.

use bytes::Bytes;
use serde_json::Value;

use crate::client::bound::Bound;
use crate::client::driver::Driver;
use crate::client::view::{ClusterView, delete_at};
use crate::error::Result;
use crate::params::{DeleteParams, WriteParams};
use crate::patch::Patch;
use crate::scale::Scale;
use crate::view::{View, ViewItem};
use crate::view_writes::MetadataMap;

/// Write options left at their defaults, borrowed for as long as needed.
static NO_OPTIONS: WriteParams = WriteParams::DEFAULT;

impl<D: Driver, I: ViewItem> ClusterView<D, I> {
    /// Sends the request `build` makes on the view at the API path that
    /// serves it, and binds the answer to that view.
    pub(crate) async fn write(
        &self,
        build: impl FnOnce(&View<I>) -> Result<http::Request<Bytes>>,
    ) -> Result<Bound<D, I>> {
        let view = self.resolved()?;
        let answer = self.cluster().execute(build(&view)?).await?;
        let item = view.decode(answer)?;
        Ok(Bound::new(self.cluster().clone(), view, item))
    }

    /// Sends a `scale` subresource request `build` makes.
    async fn write_scale(
        &self,
        build: impl FnOnce(&View<I>) -> Result<http::Request<Bytes>>,
    ) -> Result<Scale> {
        let request = build(&self.resolved()?)?;
        Scale::from_response(self.cluster().execute(request).await?)
    }

    /// Replaces an object with `manifest` (`PUT`). Its
    /// `metadata.resourceVersion` is a precondition: when the object changed
    /// since, the answer is a `409 Conflict` error saying so.
    pub fn replace<'a>(
        &'a self,
        manifest: Value,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(self.write(move |v| v.replace_request(manifest, params)))
    }

    /// Patches an object: strategic merge, JSON merge, JSON patch or
    /// server-side apply ([`Patch`]). `params` carries `dry_run`,
    /// `field_manager`, `field_validation` and `force`.
    pub fn patch<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        patch: &'a Patch,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(self.write(move |v| v.patch_request(name, namespace, patch, params)))
    }

    /// Server-side apply of `manifest`: creates or updates the fields its
    /// field manager owns (per call in `params`, else the cluster's). A
    /// conflict with another manager is a `409` whose causes name it;
    /// `params.force` takes the fields over.
    pub fn apply<'a>(
        &'a self,
        manifest: Value,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(self.write(move |v| v.apply_request(manifest, params)))
    }

    /// Deletes an object with options: grace period, propagation policy
    /// (orphan, background, foreground), preconditions, dry run.
    pub fn delete_with<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        params: &'a DeleteParams,
    ) -> D::Call<'a, Result<()>> {
        D::call(async move {
            delete_at(self.cluster(), &self.resolved()?, name, namespace, params).await
        })
    }

    /// Deletes every object the view selects (its namespace and selectors)
    /// and returns them as the server last saw them.
    pub fn delete_collection<'a>(
        &'a self,
        params: &'a DeleteParams,
    ) -> D::Call<'a, Result<Vec<Bound<D, I>>>> {
        D::call(async move {
            let view = self.resolved()?;
            let request = view.delete_collection_request(params)?;
            let answer = self.cluster().execute(request).await?;
            Ok(view
                .decode_deleted(answer)?
                .into_iter()
                .map(|item| self.bind(item))
                .collect())
        })
    }

    /// An object read through its `status` subresource.
    pub fn status<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(self.write(move |v| v.subresource_request(name, namespace, "status")))
    }

    /// Replaces an object's status (`PUT .../status` with the whole object;
    /// its resourceVersion is a precondition).
    pub fn update_status<'a>(
        &'a self,
        manifest: Value,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(self.write(move |v| v.replace_status_request(manifest, params)))
    }

    /// Patches an object's status with any patch type.
    pub fn patch_status<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        patch: &'a Patch,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(self.write(move |v| v.patch_status_request(name, namespace, patch, params)))
    }

    /// Server-side apply of `status` to `.../status` (a field manager is
    /// needed: per call, else the cluster's).
    pub fn apply_status<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        status: Value,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(self.write(move |v| v.apply_status_request(name, namespace, status, params)))
    }

    /// The `scale` subresource: desired and observed replicas.
    pub fn scale<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
    ) -> D::Call<'a, Result<Scale>> {
        D::call(self.write_scale(move |v| v.scale_request(name, namespace)))
    }

    /// Replaces the `scale` subresource with `scale` (read before, changed
    /// with [`Scale::with_replicas`]; a stale one is `409 Conflict`).
    pub fn replace_scale<'a>(
        &'a self,
        scale: &'a Scale,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Scale>> {
        D::call(self.write_scale(move |v| v.replace_scale_request(scale, params)))
    }

    /// Sets the desired replicas through the `scale` subresource.
    pub fn set_scale<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        replicas: i32,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Scale>> {
        D::call(self.write_scale(move |v| v.set_scale_request(name, namespace, replicas, params)))
    }
}

impl<D: Driver, I: ViewItem> Bound<D, I> {
    /// Patches this object (see [`ClusterView::patch`]).
    pub fn patch<'a>(
        &'a self,
        patch: &'a Patch,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(async move {
            let (name, ns) = self.name_and_namespace();
            self.view()
                .write(|v| v.patch_request(name, ns, patch, params))
                .await
        })
    }

    /// Deletes this object with options (see [`ClusterView::delete_with`]).
    pub fn delete_with<'a>(&'a self, params: &'a DeleteParams) -> D::Call<'a, Result<()>> {
        D::call(async move {
            let (name, ns) = self.name_and_namespace();
            let view = self.view();
            delete_at(view.cluster(), view.view(), name, ns, params).await
        })
    }

    /// Replaces this object's status with `status`, with this revision's
    /// resourceVersion as precondition (a stale item gets `409 Conflict`).
    pub fn update_status<'a>(
        &'a self,
        status: Value,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(async move {
            let mut manifest = self.as_item().to_value()?;
            manifest["status"] = status;
            self.view()
                .write(|v| v.replace_status_request(manifest, params))
                .await
        })
    }

    /// Patches this object's status (see [`ClusterView::patch_status`]).
    pub fn patch_status<'a>(
        &'a self,
        patch: &'a Patch,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(async move {
            let (name, ns) = self.name_and_namespace();
            self.view()
                .write(|v| v.patch_status_request(name, ns, patch, params))
                .await
        })
    }

    /// Server-side apply of `status` (see [`ClusterView::apply_status`]).
    pub fn apply_status<'a>(
        &'a self,
        status: Value,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(async move {
            let (name, ns) = self.name_and_namespace();
            self.view()
                .write(|v| v.apply_status_request(name, ns, status, params))
                .await
        })
    }

    /// This object's `scale` subresource.
    pub fn scale(&self) -> D::Call<'_, Result<Scale>> {
        D::call(async move {
            let (name, ns) = self.name_and_namespace();
            self.view().write_scale(|v| v.scale_request(name, ns)).await
        })
    }

    /// Sets this object's desired replicas through `scale`.
    pub fn set_scale<'a>(
        &'a self,
        replicas: i32,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Scale>> {
        D::call(async move {
            let (name, ns) = self.name_and_namespace();
            self.view()
                .write_scale(|v| v.set_scale_request(name, ns, replicas, params))
                .await
        })
    }

    /// The annotations, with `set` (`None` removes) writing to the server.
    pub fn annotations(&self) -> BoundMap<'_, D, I> {
        BoundMap {
            bound: self,
            map: MetadataMap::Annotations,
        }
    }

    /// The labels, with `set` (`None` removes) and `delete` writing to the
    /// server.
    pub fn labels(&self) -> BoundMap<'_, D, I> {
        BoundMap {
            bound: self,
            map: MetadataMap::Labels,
        }
    }
}

/// The labels or annotations of a bound item; changes return the new
/// revision.
///
/// ```no_run
/// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
/// let pod = cluster.pods().fetch("web-0", Some("demo"))?;
/// let labelled = pod.labels().set("tier", "web")?;
/// assert_eq!(labelled.labels().get("tier"), Some("web"));
/// let plain = labelled.labels().delete("tier")?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BoundMap<'a, D: Driver, I> {
    bound: &'a Bound<D, I>,
    map: MetadataMap,
}

impl<'a, D: Driver, I: ViewItem> BoundMap<'a, D, I> {
    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        let meta = self.bound.as_item().meta();
        match self.map {
            MetadataMap::Labels => meta.labels().get(key),
            MetadataMap::Annotations => meta.annotations().get(key),
        }
    }

    /// Sets a key (`Some` or a plain `&str`), or removes it (`None`);
    /// returns the new revision.
    pub fn set(
        &self,
        key: &'a str,
        value: impl Into<Option<&'a str>>,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        self.set_with(key, value.into(), &NO_OPTIONS)
    }

    /// Removes a key; returns the new revision.
    pub fn delete(&self, key: &'a str) -> D::Call<'a, Result<Bound<D, I>>> {
        self.set_with(key, None, &NO_OPTIONS)
    }

    /// Sets or removes a key with write options (dry run, field manager).
    pub fn set_with(
        &self,
        key: &'a str,
        value: Option<&'a str>,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        let (bound, map) = (self.bound, self.map);
        D::call(async move {
            bound
                .view()
                .write(|v| v.metadata_request(bound.as_item(), map, key, value, params))
                .await
        })
    }
}
