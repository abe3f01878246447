//! Low-level requests through a cluster, like the seed's `APIServerProxy`.

use crate::client::cluster::Cluster;
use crate::client::driver::Driver;
use crate::client::streams::ProxyWatch;
use crate::error::Result;
use crate::patch::Patch;
use crate::proxy::Proxy;

/// Requests on path components (see [`Proxy`]); answers are JSON values
/// (a non-JSON body becomes a JSON string), errors the usual
/// [`crate::Error`].
///
/// ```no_run
/// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
/// let version = cluster.proxy().get(&["version"], &[])?;
/// println!("{}", version["gitVersion"]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClusterProxy<D: Driver> {
    cluster: Cluster<D>,
    proxy: Proxy,
}

impl<D: Driver> ClusterProxy<D> {
    pub(crate) fn new(cluster: Cluster<D>) -> ClusterProxy<D> {
        let proxy = Proxy::new(cluster.config().clone());
        ClusterProxy { cluster, proxy }
    }

    async fn run(&self, request: Result<http::Request<bytes::Bytes>>) -> Result<serde_json::Value> {
        let answer = self.cluster.execute(request?).await?;
        Ok(serde_json::from_slice(answer.body()).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(answer.body()).into_owned())
        }))
    }

    /// `GET`.
    pub fn get<'a>(
        &'a self,
        components: &[&str],
        query: &[(&str, &str)],
    ) -> D::Call<'a, Result<serde_json::Value>> {
        D::call(self.run(self.proxy.get(components, query)))
    }

    /// `POST` a JSON body.
    pub fn post<'a>(
        &'a self,
        components: &[&str],
        query: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> D::Call<'a, Result<serde_json::Value>> {
        D::call(self.run(self.proxy.post(components, query, body)))
    }

    /// `PUT` a JSON body.
    pub fn put<'a>(
        &'a self,
        components: &[&str],
        query: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> D::Call<'a, Result<serde_json::Value>> {
        D::call(self.run(self.proxy.put(components, query, body)))
    }

    /// `PATCH`.
    pub fn patch<'a>(
        &'a self,
        components: &[&str],
        query: &[(&str, &str)],
        patch: &Patch,
    ) -> D::Call<'a, Result<serde_json::Value>> {
        D::call(self.run(self.proxy.patch(components, query, patch)))
    }

    /// `DELETE`.
    pub fn delete<'a>(
        &'a self,
        components: &[&str],
        query: &[(&str, &str)],
    ) -> D::Call<'a, Result<serde_json::Value>> {
        D::call(self.run(self.proxy.delete(components, query)))
    }

    /// `GET` with `watch=true`: the raw watch events of any path, decoded
    /// as they arrive (no resume: see the views' `watch` for that).
    pub fn watch<'a>(
        &'a self,
        components: &[&str],
        query: &[(&str, &str)],
    ) -> D::Call<'a, Result<ProxyWatch<D>>> {
        let request = self.proxy.watch(components, query);
        D::call(async move {
            let body = self.cluster.open(request?, false).await?.into_body();
            Ok(ProxyWatch::new(self.cluster.life().stream(), body))
        })
    }
}
