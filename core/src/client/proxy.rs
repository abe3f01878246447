//! Low-level requests through a cluster, like the seed's `APIServerProxy`.

use crate::client::cluster::Cluster;
use crate::client::transport::Transport;
use crate::error::Result;
use crate::patch::Patch;
use crate::proxy::Proxy;
use crate::response;

/// Requests on path components (see [`Proxy`]); answers are JSON values
/// (a non-JSON body becomes a JSON string), errors the usual
/// [`crate::Error`].
#[derive(Debug)]
pub struct ClusterProxy<T: Transport> {
    cluster: Cluster<T>,
    proxy: Proxy,
}

impl<T: Transport + std::fmt::Debug> ClusterProxy<T> {
    pub(crate) fn new(cluster: Cluster<T>) -> ClusterProxy<T> {
        let proxy = Proxy::new(cluster.config().clone());
        ClusterProxy { cluster, proxy }
    }

    fn run(&self, request: Result<http::Request<bytes::Bytes>>) -> Result<serde_json::Value> {
        let answer = self.cluster.execute(request?)?;
        response::check_status(answer.status().as_u16(), answer.headers(), answer.body())?;
        Ok(serde_json::from_slice(answer.body()).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(answer.body()).into_owned())
        }))
    }

    /// `GET`.
    pub fn get(&self, components: &[&str], query: &[(&str, &str)]) -> Result<serde_json::Value> {
        self.run(self.proxy.get(components, query))
    }

    /// `POST` a JSON body.
    pub fn post(
        &self,
        components: &[&str],
        query: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        self.run(self.proxy.post(components, query, body))
    }

    /// `PUT` a JSON body.
    pub fn put(
        &self,
        components: &[&str],
        query: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        self.run(self.proxy.put(components, query, body))
    }

    /// `PATCH`.
    pub fn patch(
        &self,
        components: &[&str],
        query: &[(&str, &str)],
        patch: &Patch,
    ) -> Result<serde_json::Value> {
        self.run(self.proxy.patch(components, query, patch))
    }

    /// `DELETE`.
    pub fn delete(&self, components: &[&str], query: &[(&str, &str)]) -> Result<serde_json::Value> {
        self.run(self.proxy.delete(components, query))
    }
}
