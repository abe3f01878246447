//! The blocking facade: a cluster over any [`Transport`].

use std::io::Read;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::Request;

use crate::client::api_paths::{ApiPathMemory, authorize, not_served};
use crate::client::pacing::Pacer;
use crate::client::proxy::ClusterProxy;
use crate::client::transport::{Connect, RequestKind, Transport, TransportOptions};
use crate::client::view::ClusterView;
use crate::config::Config;
use crate::discovery::catalog::Discovery;
use crate::discovery::lookup::{Lookup, LookupStep};
use crate::discovery::resource::DiscoveredResource;
use crate::error::{Error, Result, TransportErrorKind};
use crate::item::Item;
use crate::manifest::{Manifest, ManifestWrite};
use crate::params::WriteParams;
use crate::resource::ApiResource;
use crate::response;
use crate::retry::RetryPolicy;
use crate::view::{View, ViewItem};

/// A Kubernetes cluster reached through transport `T`. Cheap to clone:
/// clones share the transport, its connections and what was learnt (which
/// API path serves each kind).
///
/// Transport crates export a ready type, e.g. `kubewire_ureq::Cluster`.
#[derive(Debug)]
pub struct Cluster<T: Transport> {
    inner: Arc<Inner<T>>,
}

impl<T: Transport> Clone for Cluster<T> {
    fn clone(&self) -> Cluster<T> {
        Cluster {
            inner: self.inner.clone(),
        }
    }
}

#[derive(Debug)]
struct Inner<T> {
    config: Arc<Config>,
    transport: T,
    api_paths: ApiPathMemory,
    retry: RetryPolicy,
    page_size: Option<u32>,
    discovery: Mutex<Discovery>,
    pacer: Pacer,
}

impl<T: Connect + std::fmt::Debug> Cluster<T> {
    /// The cluster at `base_url` (default `http://localhost:8001/`, what
    /// `kubectl proxy` serves; the seed's `.../api` form works too).
    pub fn new(base_url: &str) -> Result<Cluster<T>> {
        Cluster::from_config(Config::new(base_url)?)
    }

    /// The cluster described by `config`.
    pub fn from_config(config: Config) -> Result<Cluster<T>> {
        Cluster::with_options(config, &TransportOptions::default())
    }

    /// The cluster described by `config`, with connection options
    /// (timeouts, proxy).
    pub fn with_options(config: Config, options: &TransportOptions) -> Result<Cluster<T>> {
        let transport = T::connect(&config, options)?;
        Ok(Cluster::with_transport(config, transport))
    }

    /// The cluster the environment describes: in a pod, the in-cluster
    /// service account; else `KUBEWIRE_URL`; else `kubectl proxy` at
    /// `http://localhost:8001/`.
    pub fn from_env() -> Result<Cluster<T>> {
        Cluster::from_config(Config::discover()?)
    }
}

impl<T: Transport + std::fmt::Debug> Cluster<T> {
    /// A cluster talking through `transport` with `config`.
    pub fn with_transport(config: Config, transport: T) -> Cluster<T> {
        let pacer = Pacer::new(&config);
        Cluster {
            inner: Arc::new(Inner {
                config: Arc::new(config),
                transport,
                api_paths: ApiPathMemory::default(),
                retry: RetryPolicy::default(),
                page_size: Some(crate::params::ListParams::DEFAULT_LIMIT),
                discovery: Mutex::default(),
                pacer,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.inner.config
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.inner.transport
    }

    /// The page size iteration uses (500 unless set).
    pub fn page_size(&self) -> Option<u32> {
        self.inner.page_size
    }

    fn view<I: crate::items::typed::TypedItem>(&self) -> ClusterView<T, I> {
        ClusterView::new(self.clone(), View::new(self.inner.config.clone()))
    }

    crate::client::seed_views::seed_views!(ClusterView);

    /// Any resource by `apiVersion` and kind (kubernetes_lite's
    /// `resource(api_version, kind)`), custom resources included: found
    /// through discovery, cached per cluster and refreshed on a miss. A kind
    /// the server does not serve is [`Error::UnknownKind`] naming near
    /// matches.
    pub fn resource(&self, api_version: &str, kind: &str) -> Result<ClusterView<T, Item>> {
        Ok(self.resource_at(self.discover(api_version, kind)?.api_resource()?))
    }

    /// What discovery says of `kind` in `api_version`: plural, scope, verbs,
    /// subresources (see [`Cluster::resource`]).
    pub fn discover(&self, api_version: &str, kind: &str) -> Result<DiscoveredResource> {
        let mut lookup = Lookup::new(api_version, kind)?;
        loop {
            let step = lookup.next(&self.discovery_cache(), &self.inner.config)?;
            match step {
                LookupStep::Found(found) => return Ok(found),
                LookupStep::Send(request) => {
                    let answer = self.execute(request)?;
                    lookup.handle_response(&mut self.discovery_cache(), answer)?;
                }
            }
        }
    }

    fn discovery_cache(&self) -> std::sync::MutexGuard<'_, Discovery> {
        // The cache is consistent after every absorb: a panic elsewhere
        // while it was held leaves nothing half-written.
        self.inner
            .discovery
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Any resource described explicitly, without discovery.
    pub fn resource_at(&self, resource: ApiResource) -> ClusterView<T, Item> {
        ClusterView::new(
            self.clone(),
            View::dynamic(self.inner.config.clone(), resource),
        )
    }

    /// Low-level requests on path components, for what is not wrapped.
    pub fn proxy(&self) -> ClusterProxy<T> {
        ClusterProxy::new(self.clone())
    }

    /// The resource a manifest goes to: the seed's kinds at their API
    /// path, any other kind through discovery.
    fn route(&self, manifest: &Manifest) -> Result<ApiResource> {
        match manifest.seed_api_resource() {
            Some(resource) => Ok(resource),
            None => self
                .discover(manifest.api_version(), manifest.kind())?
                .api_resource(),
        }
    }

    /// Creates an object from a manifest of any kind, routed to its
    /// resource (discovery for kinds beyond the seed's). Its namespace: the
    /// argument, else `metadata.namespace`, else the default; an argument
    /// contradicting the manifest is an error. The answer is typed for the
    /// seed's kinds ([`crate::AnyItem`]).
    pub fn create(
        &self,
        manifest: serde_json::Value,
        namespace: Option<&str>,
    ) -> Result<crate::items::any::AnyItem> {
        self.create_with(
            &Manifest::new(manifest)?,
            namespace,
            &WriteParams::default(),
        )
    }

    fn write_manifest(
        &self,
        write: ManifestWrite,
        manifest: &Manifest,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<crate::items::any::AnyItem> {
        let resource = self.route(manifest)?;
        let config = self.inner.config.clone();
        let request = manifest.write_request(write, config, resource, namespace, params)?;
        crate::items::any::AnyItem::from_item(response::item_from_response(self.execute(request)?)?)
    }

    fn write_all(
        &self,
        write: ManifestWrite,
        yaml: &str,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<Vec<crate::items::any::AnyItem>> {
        Manifest::from_yaml(yaml)?
            .iter()
            .map(|m| self.write_manifest(write, m, namespace, params))
            .collect()
    }

    /// Creates a checked manifest with write options.
    pub fn create_with(
        &self,
        manifest: &Manifest,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<crate::items::any::AnyItem> {
        self.write_manifest(ManifestWrite::Create, manifest, namespace, params)
    }

    /// Server-side applies a checked manifest of any kind (a field manager
    /// is needed: in `params`, else the configuration's).
    pub fn apply(
        &self,
        manifest: &Manifest,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<crate::items::any::AnyItem> {
        self.write_manifest(ManifestWrite::Apply, manifest, namespace, params)
    }

    /// Creates every document of a YAML manifest, in order, each routed to
    /// its kind. All documents are checked before the first request; the
    /// first server error stops (the documents before it were created).
    pub fn create_all(
        &self,
        yaml: &str,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<Vec<crate::items::any::AnyItem>> {
        self.write_all(ManifestWrite::Create, yaml, namespace, params)
    }

    /// Server-side applies every document of a YAML manifest, in order
    /// (see [`Cluster::create_all`]).
    pub fn apply_all(
        &self,
        yaml: &str,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<Vec<crate::items::any::AnyItem>> {
        self.write_all(ManifestWrite::Apply, yaml, namespace, params)
    }

    /// Releases what the cluster holds. Transports close their idle
    /// connections when the last clone is dropped; this is for symmetry
    /// with the seed library and drops nothing early.
    pub fn close(self) {}

    /// Sends a request and reads the whole answer, retrying per the policy
    /// (429, and 503/504 for idempotent verbs, honouring `Retry-After`).
    pub(crate) fn execute(&self, request: Request<Bytes>) -> Result<http::Response<Bytes>> {
        let mut retries = 0;
        loop {
            let response = self.execute_once(request.clone())?;
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(response);
            }
            let err = response::error_from_response(status, response.headers(), response.body());
            let wait = err
                .api()
                .and_then(|api| self.inner.retry.delay(request.method(), api, retries));
            match wait {
                Some(wait) => {
                    std::thread::sleep(wait);
                    retries += 1;
                }
                None => return Ok(response),
            }
        }
    }

    fn execute_once(&self, request: Request<Bytes>) -> Result<http::Response<Bytes>> {
        self.inner.pacer.block();
        let request = authorize(&self.inner.config, request)?;
        let (parts, mut body) = self
            .inner
            .transport
            .send(request, RequestKind::Normal)?
            .into_parts();
        let mut buf = Vec::new();
        body.read_to_end(&mut buf).map_err(|e| Error::Transport {
            kind: if e.kind() == std::io::ErrorKind::TimedOut {
                TransportErrorKind::Timeout
            } else {
                TransportErrorKind::Io
            },
            message: format!("reading the answer: {e}"),
        })?;
        Ok(http::Response::from_parts(parts, Bytes::from(buf)))
    }

    /// Runs `build` on `view` at the API path that serves it: the newest
    /// first, falling back on "not served" 404s, remembered per resource.
    pub(crate) fn with_fallback<I: ViewItem>(
        &self,
        view: &View<I>,
        build: impl Fn(&View<I>) -> Result<Request<Bytes>>,
    ) -> Result<(View<I>, http::Response<Bytes>)> {
        let candidates = self.inner.api_paths.candidates(view);
        let last = candidates.len().saturating_sub(1);
        for (n, index) in candidates.into_iter().enumerate() {
            let at = view.clone().at_api_path(index)?;
            let response = self.execute(build(&at)?)?;
            let unserved = not_served(&response);
            if unserved && n < last {
                continue;
            }
            if !unserved {
                self.inner.api_paths.remember(view, index);
            }
            return Ok((at, response));
        }
        Err(Error::Protocol("no API path to try".into()))
    }

    /// The view at the API path already found to serve it (or the newest).
    pub(crate) fn resolved<I: ViewItem>(&self, view: &View<I>) -> Result<View<I>> {
        self.inner.api_paths.resolved(view)
    }

    /// Deletes one object of `view`, hiding the `409 Conflict` older
    /// servers answer while a Namespace terminates (as the seed does).
    pub(crate) fn delete_in<I: ViewItem>(
        &self,
        view: &View<I>,
        name: &str,
        namespace: Option<&str>,
    ) -> Result<()> {
        let request =
            view.delete_request(name, namespace, &crate::params::DeleteParams::default())?;
        let answer = self.execute(request)?;
        let status = answer.status().as_u16();
        if status == 409 && view.api_resource().kind() == "Namespace" {
            return Ok(());
        }
        response::check_status(status, answer.headers(), answer.body())
    }

    /// Opens a long-lived answer and returns its body; a non-2xx answer is
    /// read whole and returned as the error.
    pub(crate) fn open_body(&self, request: Request<Bytes>) -> Result<T::Body> {
        let (parts, mut body) = self.open_stream(request)?.into_parts();
        let status = parts.status.as_u16();
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let mut text = Vec::new();
        let _ = body.read_to_end(&mut text);
        Err(response::error_from_response(status, &parts.headers, &text))
    }

    /// Opens a long-lived answer (watch, followed log).
    pub(crate) fn open_stream(&self, request: Request<Bytes>) -> Result<http::Response<T::Body>> {
        self.inner.pacer.block();
        self.inner
            .transport
            .send(authorize(&self.inner.config, request)?, RequestKind::Stream)
    }
}
