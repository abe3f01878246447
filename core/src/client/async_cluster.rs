//! The async facade: the same protocol behaviour as [`crate::Cluster`]
//! over any [`AsyncTransport`], runtime-agnostic (no tokio required; timers
//! are helper threads).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use futures_io::AsyncRead;
use http::Request;

use crate::client::api_paths::{ApiPathMemory, authorize, not_served};
use crate::client::async_transport::{AsyncConnect, AsyncTransport, BoxFuture};
use crate::client::delay::Delay;
use crate::client::pacing::Pacer;
use crate::client::transport::{RequestKind, TransportOptions};
use crate::config::Config;
use crate::discovery::catalog::Discovery;
use crate::discovery::lookup::{Lookup, LookupStep};
use crate::discovery::resource::DiscoveredResource;
use crate::error::{Error, Result, TransportErrorKind};
use crate::item::Item;
use crate::items::any::AnyItem;
use crate::items::typed::TypedItem;
use crate::manifest::{Manifest, ManifestWrite};
use crate::pager::PageOutcome;
use crate::params::{DeleteParams, WriteParams};
use crate::resource::ApiResource;
use crate::response;
use crate::retry::RetryPolicy;
use crate::view::{View, ViewItem};
use crate::watch::event::WatchEventType;
use crate::watch::watcher::{Watcher, WatcherEvent, WatcherOptions};

/// A Kubernetes cluster reached through async transport `T`. Cheap to
/// clone. Transport crates export a ready type, e.g.
/// `kubewire_isahc::AsyncCluster`.
#[derive(Debug)]
pub struct AsyncCluster<T: AsyncTransport> {
    inner: Arc<Inner<T>>,
}

impl<T: AsyncTransport> Clone for AsyncCluster<T> {
    fn clone(&self) -> Self {
        AsyncCluster {
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
    discovery: Mutex<Discovery>,
    pacer: Pacer,
}

async fn read_all<B: AsyncRead + Unpin>(body: &mut B) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *body).poll_read(cx, &mut buf))
            .await
            .map_err(|e| Error::Transport {
                kind: TransportErrorKind::Io,
                message: format!("reading the answer: {e}"),
            })?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

impl<T: AsyncConnect + std::fmt::Debug> AsyncCluster<T> {
    /// The cluster at `base_url` (default `http://localhost:8001/`).
    pub fn new(base_url: &str) -> Result<AsyncCluster<T>> {
        AsyncCluster::from_config(Config::new(base_url)?)
    }

    /// The cluster described by `config`.
    pub fn from_config(config: Config) -> Result<AsyncCluster<T>> {
        AsyncCluster::with_options(config, &TransportOptions::default())
    }

    /// The cluster described by `config`, with connection options.
    pub fn with_options(config: Config, options: &TransportOptions) -> Result<AsyncCluster<T>> {
        let transport = T::connect(&config, options)?;
        Ok(AsyncCluster::with_transport(config, transport))
    }

    /// The cluster the environment describes (see [`Config::discover`]).
    pub fn from_env() -> Result<AsyncCluster<T>> {
        AsyncCluster::from_config(Config::discover()?)
    }
}

impl<T: AsyncTransport + std::fmt::Debug> AsyncCluster<T> {
    /// A cluster talking through `transport` with `config`.
    pub fn with_transport(config: Config, transport: T) -> AsyncCluster<T> {
        let pacer = Pacer::new(&config);
        AsyncCluster {
            inner: Arc::new(Inner {
                config: Arc::new(config),
                transport,
                api_paths: ApiPathMemory::default(),
                retry: RetryPolicy::default(),
                discovery: Mutex::default(),
                pacer,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.inner.config
    }

    fn view<I: TypedItem>(&self) -> AsyncView<T, I> {
        AsyncView {
            cluster: self.clone(),
            view: View::new(self.inner.config.clone()),
            page_size: Some(crate::params::ListParams::DEFAULT_LIMIT),
        }
    }

    crate::client::seed_views::seed_views!(AsyncView);

    /// Binds any view (a dynamic one with several API paths, say).
    pub fn view_of<I>(&self, view: View<I>) -> AsyncView<T, I> {
        AsyncView {
            cluster: self.clone(),
            view,
            page_size: Some(crate::params::ListParams::DEFAULT_LIMIT),
        }
    }

    /// Any resource by `apiVersion` and kind, found through discovery (see
    /// [`crate::Cluster::resource`]).
    pub async fn resource(&self, api_version: &str, kind: &str) -> Result<AsyncView<T, Item>> {
        Ok(self.resource_at(self.discover(api_version, kind).await?.api_resource()?))
    }

    /// What discovery says of `kind` in `api_version` (cached per cluster,
    /// refreshed on a miss).
    pub async fn discover(&self, api_version: &str, kind: &str) -> Result<DiscoveredResource> {
        let mut lookup = Lookup::new(api_version, kind)?;
        loop {
            let step = lookup.next(&self.discovery_cache(), &self.inner.config)?;
            match step {
                LookupStep::Found(found) => return Ok(found),
                LookupStep::Send(request) => {
                    let answer = self.execute(request).await?;
                    lookup.handle_response(&mut self.discovery_cache(), answer)?;
                }
            }
        }
    }

    fn discovery_cache(&self) -> std::sync::MutexGuard<'_, Discovery> {
        self.inner
            .discovery
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn route(&self, manifest: &Manifest) -> Result<ApiResource> {
        match manifest.seed_api_resource() {
            Some(resource) => Ok(resource),
            None => self
                .discover(manifest.api_version(), manifest.kind())
                .await?
                .api_resource(),
        }
    }

    async fn write_manifest(
        &self,
        write: ManifestWrite,
        manifest: &Manifest,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<AnyItem> {
        let resource = self.route(manifest).await?;
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

    /// Creates a manifest of any kind, routed to its resource (see
    /// [`crate::Cluster::create_with`]).
    pub async fn create_with(
        &self,
        manifest: &Manifest,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<AnyItem> {
        self.write_manifest(ManifestWrite::Create, manifest, namespace, params)
            .await
    }

    /// Server-side applies a manifest of any kind (see
    /// [`crate::Cluster::apply`]).
    pub async fn apply(
        &self,
        manifest: &Manifest,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<AnyItem> {
        self.write_manifest(ManifestWrite::Apply, manifest, namespace, params)
            .await
    }

    /// Creates every document of a YAML manifest, in order (see
    /// [`crate::Cluster::create_all`]).
    pub async fn create_all(
        &self,
        yaml: &str,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<Vec<AnyItem>> {
        self.write_all(ManifestWrite::Create, yaml, namespace, params)
            .await
    }

    /// Server-side applies every document of a YAML manifest, in order.
    pub async fn apply_all(
        &self,
        yaml: &str,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<Vec<AnyItem>> {
        self.write_all(ManifestWrite::Apply, yaml, namespace, params)
            .await
    }

    /// Any resource described explicitly, without discovery.
    pub fn resource_at(&self, resource: ApiResource) -> AsyncView<T, Item> {
        AsyncView {
            cluster: self.clone(),
            view: View::dynamic(self.inner.config.clone(), resource),
            page_size: Some(crate::params::ListParams::DEFAULT_LIMIT),
        }
    }

    async fn execute_once(&self, request: Request<Bytes>) -> Result<http::Response<Bytes>> {
        self.inner.pacer.pause().await;
        let request = authorize(&self.inner.config, request)?;
        let (parts, mut body) = self
            .inner
            .transport
            .send(request, RequestKind::Normal)
            .await?
            .into_parts();
        let bytes = read_all(&mut body).await?;
        Ok(http::Response::from_parts(parts, Bytes::from(bytes)))
    }

    /// Sends a request and reads the answer, retrying per the policy.
    pub(crate) async fn execute(&self, request: Request<Bytes>) -> Result<http::Response<Bytes>> {
        let mut retries = 0;
        loop {
            let response = self.execute_once(request.clone()).await?;
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(response);
            }
            let err = response::error_from_response(status, response.headers(), response.body());
            match err
                .api()
                .and_then(|api| self.inner.retry.delay(request.method(), api, retries))
            {
                Some(wait) => {
                    Delay::until(Instant::now() + wait).await;
                    retries += 1;
                }
                None => return Ok(response),
            }
        }
    }

    async fn with_fallback<I: ViewItem>(
        &self,
        view: &View<I>,
        build: impl Fn(&View<I>) -> Result<Request<Bytes>>,
    ) -> Result<(View<I>, http::Response<Bytes>)> {
        let candidates = self.inner.api_paths.candidates(view);
        let last = candidates.len().saturating_sub(1);
        for (n, index) in candidates.into_iter().enumerate() {
            let at = view.clone().at_api_path(index)?;
            let response = self.execute(build(&at)?).await?;
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
}

/// A [`View`] bound to an [`AsyncCluster`].
#[derive(Debug)]
pub struct AsyncView<T: AsyncTransport, I> {
    cluster: AsyncCluster<T>,
    view: View<I>,
    page_size: Option<u32>,
}

impl<T: AsyncTransport + std::fmt::Debug, I: ViewItem + Clone> AsyncView<T, I> {
    pub(crate) fn cluster(&self) -> &AsyncCluster<T> {
        &self.cluster
    }

    /// The view at the API path found to serve it.
    pub(crate) fn resolved(&self) -> Result<View<I>> {
        self.cluster.inner.api_paths.resolved(&self.view)
    }

    /// The page size listing asks for (500 unless set; `None`: everything
    /// in one answer).
    pub fn page_size(mut self, page_size: Option<u32>) -> Self {
        self.page_size = page_size;
        self
    }

    /// This view bound to a namespace (an error for nodes and namespaces).
    pub fn namespace(mut self, namespace: &str) -> Result<Self> {
        self.view = self.view.namespace(namespace)?;
        Ok(self)
    }

    /// This view filtered by selector strings (an empty one is refused).
    pub fn filter(mut self, labels: Option<&str>, fields: Option<&str>) -> Result<Self> {
        self.view = self.view.filter(labels, fields)?;
        Ok(self)
    }

    /// Fetches one object (the seed's namespace rules apply).
    pub async fn fetch(&self, name: &str, namespace: Option<&str>) -> Result<I> {
        let (view, answer) = self
            .cluster
            .with_fallback(&self.view, |v| v.fetch_request(name, namespace))
            .await?;
        view.decode(answer)
    }

    /// Every item of the view, paging through `limit`/`continue` (an
    /// expired listing restarts; never a mixed list).
    pub async fn list(&self) -> Result<Vec<I>> {
        let size = self.page_size;
        let (view, first) = self
            .cluster
            .with_fallback(&self.view, |v| v.list_request(size, None))
            .await?;
        let mut pager = view.pager(size)?;
        let _ = pager.next_request();
        let mut items = Vec::new();
        let (parts, body) = first.into_parts();
        let mut outcome = pager.handle_response(parts.status.as_u16(), &parts.headers, body)?;
        loop {
            match outcome {
                PageOutcome::Page(page) => items.extend(page.into_items()),
                PageOutcome::Restarted { .. } => items.clear(),
            }
            let Some(request) = pager.next_request() else {
                break;
            };
            let (parts, body) = self.cluster.execute(request?).await?.into_parts();
            outcome = pager.handle_response(parts.status.as_u16(), &parts.headers, body)?;
        }
        items.into_iter().map(I::from_view_item).collect()
    }

    /// Watches the view from now (list for the version, then watch).
    pub fn watch(&self) -> Result<AsyncWatch<T, I>> {
        self.watch_with(WatcherOptions::default())
    }

    /// Watches with explicit options.
    pub fn watch_with(&self, options: WatcherOptions) -> Result<AsyncWatch<T, I>> {
        let view = self.cluster.inner.api_paths.resolved(&self.view)?;
        Ok(AsyncWatch {
            cluster: self.cluster.clone(),
            watcher: view.watcher(options)?,
            state: State::Idle,
            ready: VecDeque::new(),
            buf: vec![0u8; 64 * 1024],
            item: std::marker::PhantomData,
        })
    }

    /// Creates an object from a manifest.
    pub async fn create(&self, manifest: serde_json::Value) -> Result<I> {
        self.create_with(manifest, &WriteParams::default()).await
    }

    /// Creates an object with write options (`dry_run`, `field_manager`,
    /// `field_validation`).
    pub async fn create_with(
        &self,
        manifest: serde_json::Value,
        params: &WriteParams,
    ) -> Result<I> {
        let view = self.resolved()?;
        let answer = self
            .cluster
            .execute(view.create_request(manifest, None, params)?)
            .await?;
        view.decode(answer)
    }

    /// Deletes an object by name (a terminating Namespace's 409 is hidden).
    pub async fn delete(&self, name: &str, namespace: Option<&str>) -> Result<()> {
        let view = self.cluster.inner.api_paths.resolved(&self.view)?;
        let answer = self
            .cluster
            .execute(view.delete_request(name, namespace, &DeleteParams::default())?)
            .await?;
        let status = answer.status().as_u16();
        if status == 409 && view.api_resource().kind() == "Namespace" {
            return Ok(());
        }
        response::check_status(status, answer.headers(), answer.body())
    }
}

/// One change seen by an async watch.
#[derive(Debug, Clone)]
pub struct AsyncEvent<I> {
    /// `ADDED`, `MODIFIED`, `DELETED` or `BOOKMARK`.
    pub evtype: WatchEventType,
    /// The object (its last state for `DELETED`).
    pub item: I,
}

enum State<B> {
    Idle,
    Sending(BoxFuture<'static, Result<http::Response<B>>>),
    Reading(B),
    Waiting(Delay),
}

/// An async watch: a `futures_core::Stream` of events that ends only when
/// closed. It resumes, relists after `410` and backs off like the blocking
/// watch.
pub struct AsyncWatch<T: AsyncTransport, I> {
    cluster: AsyncCluster<T>,
    watcher: Watcher,
    state: State<T::Body>,
    ready: VecDeque<Result<AsyncEvent<I>>>,
    buf: Vec<u8>,
    item: std::marker::PhantomData<fn() -> I>,
}

// No field is structurally pinned: the stream only ever moves its parts.
impl<T: AsyncTransport, I> Unpin for AsyncWatch<T, I> {}

impl<T: AsyncTransport, I> std::fmt::Debug for AsyncWatch<T, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncWatch")
            .field("watcher", &self.watcher)
            .finish()
    }
}

impl<T: AsyncTransport, I: ViewItem> AsyncWatch<T, I> {
    /// Ends the watch: the connection is dropped, the stream ends.
    pub fn close(&mut self) {
        self.watcher.close();
        self.state = State::Idle;
    }

    fn collect(&mut self) {
        while let Some(e) = self.watcher.poll_event() {
            match e {
                WatcherEvent::Event(event) => {
                    self.ready
                        .push_back(I::from_view_item(event.item).map(|item| AsyncEvent {
                            evtype: event.evtype,
                            item,
                        }))
                }
                WatcherEvent::Error(err) => self.ready.push_back(Err(err)),
                _ => {}
            }
        }
    }
}

impl<T: AsyncTransport, I: ViewItem> Stream for AsyncWatch<T, I> {
    type Item = Result<AsyncEvent<I>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            this.collect();
            if let Some(ready) = this.ready.pop_front() {
                return Poll::Ready(Some(ready));
            }
            if this.watcher.is_closed() {
                return Poll::Ready(None);
            }
            let now = Instant::now();
            match &mut this.state {
                State::Idle => match this.watcher.poll_transmit(now) {
                    Some(request) => {
                        let cluster = this.cluster.clone();
                        this.state = State::Sending(Box::pin(async move {
                            cluster.inner.pacer.pause().await;
                            let request = authorize(&cluster.inner.config, request)?;
                            cluster
                                .inner
                                .transport
                                .send(request, RequestKind::Stream)
                                .await
                        }));
                    }
                    None => match this.watcher.poll_timeout() {
                        Some(at) => this.state = State::Waiting(Delay::until(at)),
                        None => return Poll::Ready(None),
                    },
                },
                State::Sending(future) => match future.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(response)) => {
                        let (parts, body) = response.into_parts();
                        this.watcher
                            .handle_head(parts.status.as_u16(), &parts.headers);
                        this.state = State::Reading(body);
                    }
                    Poll::Ready(Err(e)) => {
                        this.watcher.handle_failure(now, e);
                        this.state = State::Idle;
                    }
                },
                State::Reading(body) => match Pin::new(body).poll_read(cx, &mut this.buf) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(0)) => {
                        this.watcher.handle_end(now, true);
                        this.state = State::Idle;
                    }
                    Poll::Ready(Ok(n)) => {
                        if !this.watcher.handle_body(&this.buf[..n]) {
                            this.watcher.handle_end(now, false);
                            this.state = State::Idle;
                        }
                    }
                    Poll::Ready(Err(_)) => {
                        this.watcher.handle_end(now, false);
                        this.state = State::Idle;
                    }
                },
                State::Waiting(delay) => match Pin::new(delay).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) => this.state = State::Idle,
                },
            }
        }
    }
}
