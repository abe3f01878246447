//! The cluster: the entry point of the facade, written once for blocking
//! and async drivers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http::Request;

use crate::client::api_paths::ApiPathMemory;
use crate::client::driver::{Driver, now, read_error};
use crate::client::lifecycle::Lifecycle;
use crate::client::link::{self, Link};
use crate::client::nonblocking::Async;
use crate::client::proxy::ClusterProxy;
use crate::client::transport::{ConnectDriver, RequestKind, TransportOptions};
use crate::client::view::ClusterView;
use crate::config::Config;
use crate::discovery::catalog::Discovery;
use crate::discovery::lookup::{Lookup, LookupStep};
use crate::discovery::resource::DiscoveredResource;
use crate::error::{Error, Result};
use crate::exchange::{Answer, Exchange};
use crate::item::Item;
use crate::items::any::AnyItem;
use crate::manifest::{Manifest, ManifestWrite};
use crate::params::WriteParams;
use crate::rate_limit::RateLimiter;
use crate::resource::ApiResource;
use crate::response;
use crate::retry::RetryPolicy;
use crate::stream::Upgraded;
use crate::view::{View, ViewItem};

/// A Kubernetes cluster reached through driver `D`: a blocking
/// [`crate::Transport`] (calls return their result) or [`Async`] over an
/// [`crate::AsyncTransport`] (calls return futures; alias
/// [`AsyncCluster`]). Cheap to clone: clones share the transport, its
/// connections and what was learnt (which API path serves each kind, the
/// discovery cache).
///
/// Transport crates export ready types, e.g. `kubewire_ureq::Cluster`.
///
/// ```no_run
/// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
/// let rs = cluster.replicasets().fetch("auth-v3", Some("demo"))?;
/// let rs2 = rs.labels().set("mylabel", "value")?;     // the new revision
/// for ns in cluster.namespaces().iter()? {
///     println!("{}", ns?.meta().name());
/// }
/// cluster.close();                                    // stops watches, joins helpers
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Cluster<D: Driver> {
    inner: Arc<Inner<D>>,
}

/// What the exchange asks for next.
enum Step {
    /// Send this request.
    Send(Request<Bytes>),
    /// The exchange is over.
    Done(Result<Answer>),
}

/// A cluster over an async transport: every call returns a future.
pub type AsyncCluster<T> = Cluster<Async<T>>;

impl<D: Driver> Clone for Cluster<D> {
    fn clone(&self) -> Cluster<D> {
        Cluster {
            inner: self.inner.clone(),
        }
    }
}

#[derive(Debug)]
struct Inner<D: Driver> {
    config: Arc<Config>,
    driver: Arc<D>,
    api_paths: ApiPathMemory,
    retry: RetryPolicy,
    page_size: Option<u32>,
    discovery: Mutex<Discovery>,
    pacer: Option<Arc<Mutex<RateLimiter>>>,
    life: Arc<Lifecycle>,
}

impl<D: Driver> Drop for Inner<D> {
    fn drop(&mut self) {
        self.life.close();
        self.driver.shutdown();
    }
}

impl<D: ConnectDriver> Cluster<D> {
    /// The cluster at `base_url` (default `http://localhost:8001/`, what
    /// `kubectl proxy` serves; the seed's `.../api` form works too).
    pub fn new(base_url: &str) -> Result<Cluster<D>> {
        Cluster::from_config(Config::new(base_url)?)
    }

    /// The cluster described by `config`.
    pub fn from_config(config: Config) -> Result<Cluster<D>> {
        Cluster::with_options(config, &TransportOptions::default())
    }

    /// The cluster described by `config`, with connection options
    /// (timeouts, proxy).
    pub fn with_options(config: Config, options: &TransportOptions) -> Result<Cluster<D>> {
        let driver = D::connect_driver(&config, options)?;
        Ok(Cluster::with_transport(config, driver))
    }

    /// The cluster the environment describes: in a pod, the in-cluster
    /// service account; else `KUBECONFIG` or `~/.kube/config`; else
    /// `KUBEWIRE_URL`; else `kubectl proxy` at `http://localhost:8001/`.
    pub fn from_env() -> Result<Cluster<D>> {
        Cluster::from_config(Config::discover()?)
    }
}

impl<D: Driver> Cluster<D> {
    /// A cluster talking through `driver` (a blocking transport, or
    /// [`Async`] over an async one) with `config`.
    pub fn with_transport(config: Config, driver: D) -> Cluster<D> {
        let pacer = config
            .rate_limit
            .map(|limit| Arc::new(Mutex::new(RateLimiter::new(limit))));
        Cluster {
            inner: Arc::new(Inner {
                config: Arc::new(config),
                driver: Arc::new(driver),
                api_paths: ApiPathMemory::default(),
                retry: RetryPolicy::default(),
                page_size: Some(crate::params::ListParams::DEFAULT_LIMIT),
                discovery: Mutex::default(),
                pacer,
                life: Arc::default(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.inner.config
    }

    /// The transport (the driver: a blocking transport, or [`Async`]).
    pub fn transport(&self) -> &D {
        &self.inner.driver
    }

    /// The page size iteration uses (500 unless set).
    pub fn page_size(&self) -> Option<u32> {
        self.inner.page_size
    }

    /// Closes the cluster for every clone: its watches and followed logs
    /// end, the helper threads the facade started are joined, and later
    /// calls fail with [`Error::Closed`].
    pub fn close(&self) {
        self.inner.life.close();
        self.inner.driver.shutdown();
    }

    /// True once [`Cluster::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.life.check_open().is_err()
    }

    /// Helper threads the facade started that are still running (stream
    /// readers of a blocking transport); zero after [`Cluster::close`]
    /// once their streams ended.
    pub fn helper_threads(&self) -> usize {
        self.inner.life.running_helpers()
    }

    fn view<I: crate::items::typed::TypedItem>(&self) -> ClusterView<D, I> {
        ClusterView::new(self.clone(), View::new(self.inner.config.clone()))
    }

    crate::client::seed_views::seed_views!(ClusterView);

    /// Any resource by `apiVersion` and kind (kubernetes_lite's
    /// `resource(api_version, kind)`), custom resources included: found
    /// through discovery, cached per cluster and refreshed on a miss. A kind
    /// the server does not serve is [`Error::UnknownKind`] naming near
    /// matches.
    pub fn resource<'a>(
        &'a self,
        api_version: &'a str,
        kind: &'a str,
    ) -> D::Call<'a, Result<ClusterView<D, Item>>> {
        D::call(async move {
            let found = self.discover_now(api_version, kind).await?;
            Ok(self.resource_at(found.api_resource()?))
        })
    }

    /// What discovery says of `kind` in `api_version`: plural, scope, verbs,
    /// subresources (see [`Cluster::resource`]).
    pub fn discover<'a>(
        &'a self,
        api_version: &'a str,
        kind: &'a str,
    ) -> D::Call<'a, Result<DiscoveredResource>> {
        D::call(self.discover_now(api_version, kind))
    }

    async fn discover_now(&self, api_version: &str, kind: &str) -> Result<DiscoveredResource> {
        let mut lookup = Lookup::new(api_version, kind)?;
        loop {
            let step = lookup.next(&self.discovery_cache(), &self.inner.config)?;
            match step {
                LookupStep::Found(found) => return Ok(found),
                LookupStep::Send(request) => {
                    // Discovery documents answer non-2xx as values: the
                    // lookup decides what a missing group means.
                    let answer = self.execute_raw(request).await?;
                    lookup.handle_response(&mut self.discovery_cache(), answer)?;
                }
            }
        }
    }

    fn discovery_cache(&self) -> MutexGuard<'_, Discovery> {
        // The cache is consistent after every absorb: a panic elsewhere
        // while it was held leaves nothing half-written.
        self.inner
            .discovery
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Any resource described explicitly, without discovery.
    pub fn resource_at(&self, resource: ApiResource) -> ClusterView<D, Item> {
        ClusterView::new(
            self.clone(),
            View::dynamic(self.inner.config.clone(), resource),
        )
    }

    /// Binds any view (a dynamic one with several API paths, say).
    pub fn view_of<I: ViewItem + Clone + Send + Sync + 'static>(
        &self,
        view: View<I>,
    ) -> ClusterView<D, I> {
        ClusterView::new(self.clone(), view)
    }

    /// Low-level requests on path components, for what is not wrapped.
    pub fn proxy(&self) -> ClusterProxy<D> {
        ClusterProxy::new(self.clone())
    }

    /// Creates an object from a manifest of any kind, routed to its
    /// resource (discovery for kinds beyond the seed's). Its namespace: the
    /// argument, else `metadata.namespace`, else the default; an argument
    /// contradicting the manifest is an error. The answer is typed for the
    /// seed's kinds ([`AnyItem`]).
    pub fn create<'a>(
        &'a self,
        manifest: serde_json::Value,
        namespace: Option<&'a str>,
    ) -> D::Call<'a, Result<AnyItem>> {
        D::call(async move {
            let manifest = Manifest::new(manifest)?;
            self.write_manifest(
                ManifestWrite::Create,
                &manifest,
                namespace,
                &WriteParams::default(),
            )
            .await
        })
    }

    /// Creates a checked manifest with write options.
    pub fn create_with<'a>(
        &'a self,
        manifest: &'a Manifest,
        namespace: Option<&'a str>,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<AnyItem>> {
        D::call(self.write_manifest(ManifestWrite::Create, manifest, namespace, params))
    }

    /// Server-side applies a checked manifest of any kind (a field manager
    /// is needed: in `params`, else the configuration's).
    pub fn apply<'a>(
        &'a self,
        manifest: &'a Manifest,
        namespace: Option<&'a str>,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<AnyItem>> {
        D::call(self.write_manifest(ManifestWrite::Apply, manifest, namespace, params))
    }

    /// Creates every document of a YAML manifest, in order, each routed to
    /// its kind. All documents are checked before the first request; the
    /// first server error stops (the documents before it were created).
    pub fn create_all<'a>(
        &'a self,
        yaml: &'a str,
        namespace: Option<&'a str>,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Vec<AnyItem>>> {
        D::call(self.write_all(ManifestWrite::Create, yaml, namespace, params))
    }

    /// Server-side applies every document of a YAML manifest, in order
    /// (see [`Cluster::create_all`]).
    pub fn apply_all<'a>(
        &'a self,
        yaml: &'a str,
        namespace: Option<&'a str>,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Vec<AnyItem>>> {
        D::call(self.write_all(ManifestWrite::Apply, yaml, namespace, params))
    }

    async fn write_manifest(
        &self,
        write: ManifestWrite,
        manifest: &Manifest,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<AnyItem> {
        let resource = match manifest.seed_api_resource() {
            Some(resource) => resource,
            None => self
                .discover_now(manifest.api_version(), manifest.kind())
                .await?
                .api_resource()?,
        };
        let config = self.inner.config.clone();
        let request = manifest.write_request(write, config, resource, namespace, params)?;
        AnyItem::from_item(response::item_from_response(self.execute(request).await?)?)
    }

    async fn write_all(
        &self,
        write: ManifestWrite,
        yaml: &str,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<Vec<AnyItem>> {
        let mut written = Vec::new();
        for manifest in Manifest::from_yaml(yaml)? {
            written.push(
                self.write_manifest(write, &manifest, namespace, params)
                    .await?,
            );
        }
        Ok(written)
    }

    /// A request's exchange with this cluster's policy: retries, pacing,
    /// fresh credentials.
    fn exchange(&self, candidates: Vec<Request<Bytes>>) -> Exchange {
        Exchange::with_fallback(candidates)
            .retry(self.inner.retry.clone())
            .pacing(self.inner.pacer.clone())
            .credentials(self.inner.config.clone())
    }

    /// Sends a request through the exchange machine and returns its 2xx
    /// answer, or the error (the server's, after retries).
    pub(crate) async fn execute(&self, request: Request<Bytes>) -> Result<http::Response<Bytes>> {
        Ok(self.run(self.exchange(vec![request])).await?.response)
    }

    /// Like [`Cluster::execute`], but a non-2xx answer comes back as a
    /// value (after retries), for machines that decide what it means.
    pub(crate) async fn execute_raw(
        &self,
        request: Request<Bytes>,
    ) -> Result<http::Response<Bytes>> {
        let exchange = self.exchange(vec![request]).any_status();
        Ok(self.run(exchange).await?.response)
    }

    /// Runs `build` on `view` at the API path that serves it: the one
    /// remembered, else every path newest first, falling back on "not
    /// served" 404s; the path that answered is remembered per resource.
    pub(crate) async fn with_fallback<I: ViewItem>(
        &self,
        view: &View<I>,
        build: impl Fn(&View<I>) -> Result<Request<Bytes>>,
    ) -> Result<(View<I>, http::Response<Bytes>)> {
        let indexes = self.inner.api_paths.candidates(view);
        let mut views = Vec::with_capacity(indexes.len());
        let mut requests = Vec::with_capacity(indexes.len());
        for &index in &indexes {
            let at = view.clone().at_api_path(index)?;
            requests.push(build(&at)?);
            views.push(at);
        }
        let answer = self.run(self.exchange(requests)).await?;
        self.inner.api_paths.remember(view, indexes[answer.path]);
        Ok((views.swap_remove(answer.path), answer.response))
    }

    /// The view at the API path already found to serve it (or the newest).
    pub(crate) fn resolved<I: ViewItem>(&self, view: &View<I>) -> Result<View<I>> {
        self.inner.api_paths.resolved(view)
    }

    /// The exchange's next request, after any wait it asks for; or its
    /// outcome. The one place a request's policy is waited on.
    async fn step(&self, exchange: &mut Exchange) -> Step {
        loop {
            if let Some(result) = exchange.poll_result() {
                return Step::Done(result);
            }
            let (instant, wall) = now();
            if let Some(request) = exchange.poll_transmit(instant, wall) {
                return Step::Send(request);
            }
            let Some(at) = exchange.poll_timeout() else {
                return Step::Done(Err(Error::Protocol(
                    "the exchange has nothing to do".into(),
                )));
            };
            self.inner.driver.sleep_until(at).await;
            if let Err(e) = self.inner.life.check_open() {
                return Step::Done(Err(e));
            }
        }
    }

    /// Sends one request through the driver; a failure names the server.
    async fn send(
        &self,
        request: Request<Bytes>,
        kind: RequestKind,
    ) -> Result<http::Response<D::Body>> {
        D::send(&self.inner.driver, request, kind, &self.inner.life)
            .await
            .map_err(|e| self.name_server(e))
    }

    /// Reads an answer whole.
    async fn read_whole(&self, response: http::Response<D::Body>) -> Result<http::Response<Bytes>> {
        let (parts, body) = response.into_parts();
        let size = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let bytes = D::read_to_end(body, size)
            .await
            .map_err(|e| self.name_server(read_error("reading the answer", &e)))?;
        Ok(http::Response::from_parts(parts, Bytes::from(bytes)))
    }

    /// The loop of an ordinary request: the exchange says what to send and
    /// how long to wait; the driver sends, reads and waits.
    async fn run(&self, mut exchange: Exchange) -> Result<Answer> {
        self.inner.life.check_open()?;
        loop {
            let request = match self.step(&mut exchange).await {
                Step::Done(result) => return result,
                Step::Send(request) => request,
            };
            let whole = match self.send(request, RequestKind::Normal).await {
                Ok(response) => self.read_whole(response).await,
                Err(e) => Err(e),
            };
            match whole {
                Ok(response) => exchange.handle_response(response, now().0),
                Err(e) => exchange.handle_failure(e),
            }
        }
    }

    /// A transport error names the server it tried, and says when that
    /// server was only the fallback for want of any configuration.
    fn name_server(&self, error: Error) -> Error {
        let Error::Transport { kind, message } = error else {
            return error;
        };
        let config = &self.inner.config;
        let server = crate::config::redacted_url(&config.base_url());
        let mut message = if message.contains(config.base_url().trim_end_matches('/')) {
            message
        } else {
            format!("{server}: {message}")
        };
        if config.is_fallback() {
            message.push_str(
                " (no cluster is configured — no in-cluster service account, KUBEWIRE_URL, \
                 KUBECONFIG or ~/.kube/config — so kubectl proxy's address was tried)",
            );
        }
        Error::Transport { kind, message }
    }

    /// Opens a long-lived answer (watch, followed log) through the
    /// exchange (pacing, credentials). With `raw`, any status is handed
    /// back (the watcher decides); otherwise a non-2xx answer is read whole
    /// and becomes the error, after the exchange's retries.
    pub(crate) async fn open(
        &self,
        request: Request<Bytes>,
        raw: bool,
    ) -> Result<http::Response<D::Body>> {
        self.inner.life.check_open()?;
        let mut exchange = self.exchange(vec![request]);
        loop {
            let request = match self.step(&mut exchange).await {
                Step::Done(Err(e)) => return Err(e),
                Step::Done(Ok(_)) => {
                    return Err(Error::Protocol("a stream answered as a whole".into()));
                }
                Step::Send(request) => request,
            };
            let response = match self.send(request, RequestKind::Stream).await {
                Ok(response) => response,
                Err(e) => {
                    exchange.handle_failure(e);
                    continue;
                }
            };
            if raw || response.status().is_success() {
                return Ok(response);
            }
            let whole = self.read_whole(response).await?;
            exchange.handle_response(whole, now().0);
        }
    }

    /// Opens an upgraded connection for `request` (exec, attach,
    /// port-forward) with the exchange's pacing and fresh credentials, and
    /// completes the WebSocket handshake offering `protocols`. A refused
    /// upgrade is the server's error, not retried: the command never ran,
    /// but whether to run it again is the caller's call.
    pub(crate) async fn upgrade(
        &self,
        request: Request<Bytes>,
        protocols: &[&str],
    ) -> Result<(Link, Upgraded)> {
        self.inner.life.check_open()?;
        let mut exchange = self.exchange(vec![request]);
        let request = match self.step(&mut exchange).await {
            Step::Send(request) => request,
            Step::Done(Err(e)) => return Err(e),
            Step::Done(Ok(_)) => return Err(Error::Protocol("an upgrade answered early".into())),
        };
        link::connect(&self.inner.driver, &self.inner.life, request, protocols)
            .await
            .map_err(|e| self.name_server(e))
    }

    /// Runs `task` to its end on a helper thread named `thread`, which
    /// `close` joins; `what` names the work if the thread cannot start.
    pub(crate) fn run_on_helper(
        &self,
        thread: &str,
        what: &str,
        task: crate::client::driver::BoxFuture<'static, ()>,
    ) -> Result<()> {
        self.life()
            .spawn(thread, move || D::wait(D::call(task)))
            .map_err(|e| Error::Transport {
                kind: crate::error::TransportErrorKind::Io,
                message: format!("cannot start {what}: {e}"),
            })
    }

    /// The cluster's lifecycle (stop switches for streams).
    pub(crate) fn life(&self) -> &Arc<Lifecycle> {
        &self.inner.life
    }

    /// The driver, shared.
    pub(crate) fn driver(&self) -> &Arc<D> {
        &self.inner.driver
    }
}
