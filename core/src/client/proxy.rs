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

    /// `GET` with `watch=true`: the raw watch events of any path, decoded
    /// as they arrive (no resume: see the views' `watch` for that).
    pub fn watch(
        &self,
        components: &[&str],
        query: &[(&str, &str)],
    ) -> Result<ProxyWatch<T::Body>> {
        let body = self
            .cluster
            .open_body(self.proxy.watch(components, query)?)?;
        Ok(ProxyWatch {
            body,
            decoder: crate::watch::decoder::WatchDecoder::new(),
            done: false,
        })
    }

    /// `DELETE`.
    pub fn delete(&self, components: &[&str], query: &[(&str, &str)]) -> Result<serde_json::Value> {
        self.run(self.proxy.delete(components, query))
    }
}

/// Raw watch events from [`ClusterProxy::watch`], ending with the stream.
#[derive(Debug)]
pub struct ProxyWatch<B> {
    body: B,
    decoder: crate::watch::decoder::WatchDecoder,
    done: bool,
}

impl<B: std::io::Read> Iterator for ProxyWatch<B> {
    type Item = Result<crate::watch::event::WatchEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if let Some(event) = self.decoder.next_event() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            match self.body.read(&mut buf) {
                Ok(0) => {
                    self.done = true;
                    if let Some(last) = self.decoder.finish() {
                        return Some(last);
                    }
                }
                Ok(n) => self.decoder.feed(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(crate::error::Error::Transport {
                        kind: crate::error::TransportErrorKind::Io,
                        message: format!("watch stream: {e}"),
                    }));
                }
            }
        }
    }
}
