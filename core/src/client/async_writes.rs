//! Writes through an async view: the same requests as the blocking
//! [`crate::ClusterView`], awaited.

use bytes::Bytes;
use serde_json::Value;

use crate::client::async_cluster::AsyncView;
use crate::client::async_transport::AsyncTransport;
use crate::error::Result;
use crate::params::{DeleteParams, WriteParams};
use crate::patch::Patch;
use crate::response;
use crate::scale::Scale;
use crate::view::{View, ViewItem};
use crate::view_writes::MetadataMap;

impl<T: AsyncTransport + std::fmt::Debug, I: ViewItem + Clone> AsyncView<T, I> {
    /// Sends the request `build` makes on the view at the API path that
    /// serves it, and decodes the answer.
    async fn write(
        &self,
        build: impl FnOnce(&View<I>) -> Result<http::Request<Bytes>>,
    ) -> Result<I> {
        let view = self.resolved()?;
        let answer = self.cluster().execute(build(&view)?).await?;
        view.decode(answer)
    }

    /// Replaces an object (see [`crate::ClusterView::replace`]).
    pub async fn replace(&self, manifest: Value, params: &WriteParams) -> Result<I> {
        self.write(|v| v.replace_request(manifest, params)).await
    }

    /// Patches an object with any patch type (see [`crate::ClusterView::patch`]).
    pub async fn patch(
        &self,
        name: &str,
        namespace: Option<&str>,
        patch: &Patch,
        params: &WriteParams,
    ) -> Result<I> {
        self.write(|v| v.patch_request(name, namespace, patch, params))
            .await
    }

    /// Server-side apply of a manifest (see [`crate::ClusterView::apply`]).
    pub async fn apply(&self, manifest: Value, params: &WriteParams) -> Result<I> {
        self.write(|v| v.apply_request(manifest, params)).await
    }

    /// Sets (`Some`) or removes (`None`) one label or annotation of `item`;
    /// returns the new revision.
    pub async fn set_metadata(
        &self,
        item: &I,
        map: MetadataMap,
        key: &str,
        value: Option<&str>,
        params: &WriteParams,
    ) -> Result<I> {
        self.write(|v| v.metadata_request(item.as_item(), map, key, value, params))
            .await
    }

    /// Sets (`Some`) or removes (`None`) a label of `item`.
    pub async fn set_label(&self, item: &I, key: &str, value: Option<&str>) -> Result<I> {
        self.set_metadata(
            item,
            MetadataMap::Labels,
            key,
            value,
            &WriteParams::default(),
        )
        .await
    }

    /// Deletes an object with options (see [`crate::ClusterView::delete_with`]).
    pub async fn delete_with(
        &self,
        name: &str,
        namespace: Option<&str>,
        params: &DeleteParams,
    ) -> Result<()> {
        let request = self.resolved()?.delete_request(name, namespace, params)?;
        let answer = self.cluster().execute(request).await?;
        response::check_status(answer.status().as_u16(), answer.headers(), answer.body())
    }

    /// Deletes every object the view selects; returns them.
    pub async fn delete_collection(&self, params: &DeleteParams) -> Result<Vec<I>> {
        let view = self.resolved()?;
        let answer = self
            .cluster()
            .execute(view.delete_collection_request(params)?)
            .await?;
        view.decode_deleted(answer)
    }

    /// An object read through its `status` subresource.
    pub async fn status(&self, name: &str, namespace: Option<&str>) -> Result<I> {
        self.write(|v| v.subresource_request(name, namespace, "status"))
            .await
    }

    /// Replaces an object's status (`PUT .../status`).
    pub async fn update_status(&self, manifest: Value, params: &WriteParams) -> Result<I> {
        self.write(|v| v.replace_status_request(manifest, params))
            .await
    }

    /// Patches an object's status.
    pub async fn patch_status(
        &self,
        name: &str,
        namespace: Option<&str>,
        patch: &Patch,
        params: &WriteParams,
    ) -> Result<I> {
        self.write(|v| v.patch_status_request(name, namespace, patch, params))
            .await
    }

    /// Server-side apply of `status` to `.../status`.
    pub async fn apply_status(
        &self,
        name: &str,
        namespace: Option<&str>,
        status: Value,
        params: &WriteParams,
    ) -> Result<I> {
        self.write(|v| v.apply_status_request(name, namespace, status, params))
            .await
    }

    /// The `scale` subresource.
    pub async fn scale(&self, name: &str, namespace: Option<&str>) -> Result<Scale> {
        let request = self.resolved()?.scale_request(name, namespace)?;
        Scale::from_response(self.cluster().execute(request).await?)
    }

    /// Replaces the `scale` subresource (see [`Scale::with_replicas`]).
    pub async fn replace_scale(&self, scale: &Scale, params: &WriteParams) -> Result<Scale> {
        let request = self.resolved()?.replace_scale_request(scale, params)?;
        Scale::from_response(self.cluster().execute(request).await?)
    }

    /// Sets the desired replicas through `scale`.
    pub async fn set_scale(
        &self,
        name: &str,
        namespace: Option<&str>,
        replicas: i32,
        params: &WriteParams,
    ) -> Result<Scale> {
        let request = self
            .resolved()?
            .set_scale_request(name, namespace, replicas, params)?;
        Scale::from_response(self.cluster().execute(request).await?)
    }
}
