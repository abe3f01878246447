//! Views bound to a cluster: fetch, iterate, watch, wait, create, delete,
//! logs — each written once for blocking and async drivers.

use std::time::Duration;

use crate::client::bound::Bound;
use crate::client::cache::{Cache, CacheTask};
use crate::client::cluster::Cluster;
use crate::client::driver::Driver;
use crate::client::pages::Pages;
use crate::client::streams::LogLines;
use crate::client::watch::WatchIter;
use crate::error::{Error, Result};
use crate::params::{DeleteParams, LogParams, WriteParams};
use crate::selector::Selector;
use crate::view::{View, ViewItem};
use crate::watch::watcher::{WatchStart, WatcherOptions};

/// A [`View`] bound to a [`Cluster`]: the seed's view methods. With a
/// blocking transport each call returns its result; with
/// [`crate::Async`], a future of it.
///
/// ```no_run
/// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
/// let web = cluster.pods().namespace("demo")?.filter(Some("app=web"), None)?;
/// for pod in web.iter()? {                       // pages through limit/continue
///     println!("{}", pod?.meta().name());
/// }
/// let pod = web.fetch("web-0", None)?;           // a bound item
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClusterView<D: Driver, I> {
    cluster: Cluster<D>,
    view: View<I>,
    page_size: Option<u32>,
}

impl<D: Driver, I> Clone for ClusterView<D, I> {
    fn clone(&self) -> Self {
        ClusterView {
            cluster: self.cluster.clone(),
            view: self.view.clone(),
            page_size: self.page_size,
        }
    }
}

impl<D: Driver, I: ViewItem> ClusterView<D, I> {
    /// Binds any view to `cluster`.
    pub fn new(cluster: Cluster<D>, view: View<I>) -> ClusterView<D, I> {
        let page_size = cluster.page_size();
        ClusterView {
            cluster,
            view,
            page_size,
        }
    }

    pub(crate) fn cluster(&self) -> &Cluster<D> {
        &self.cluster
    }

    /// The view at the API path found to serve it.
    pub(crate) fn resolved(&self) -> Result<View<I>> {
        self.cluster.resolved(&self.view)
    }

    /// The pure-data view underneath (requests, decoders).
    pub fn view(&self) -> &View<I> {
        &self.view
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

    /// This view filtered by selectors given as strings or maps.
    pub fn filter_with(
        mut self,
        labels: Option<Selector>,
        fields: Option<Selector>,
    ) -> Result<Self> {
        self.view = self.view.filter_with(labels, fields)?;
        Ok(self)
    }

    /// The page size iteration asks for (500 unless set; `None`:
    /// everything in one answer).
    pub fn page_size(mut self, page_size: Option<u32>) -> Self {
        self.page_size = page_size;
        self
    }

    pub(crate) fn current_page_size(&self) -> Option<u32> {
        self.page_size
    }

    /// Fetches one object; a missing one is [`Error::NotFound`]. The
    /// namespace rules of the seed apply (no silent default namespace).
    pub fn fetch<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(self.fetch_now(name, namespace))
    }

    async fn fetch_now(&self, name: &str, namespace: Option<&str>) -> Result<Bound<D, I>> {
        let (view, answer) = self
            .cluster
            .with_fallback(&self.view, |v| v.fetch_request(name, namespace))
            .await?;
        let item = view.decode(answer)?;
        Ok(Bound::new(self.cluster.clone(), view, item))
    }

    /// The items of the view, fetched page by page through
    /// `limit`/`continue` as iteration goes (an `Iterator` on a blocking
    /// transport, a `Stream` on every one). An expired listing restarts from
    /// the beginning; items already yielded are not yielded twice. An object
    /// that does not decode is yielded as an `Err`, and iteration goes on.
    pub fn iter(&self) -> Result<Pages<D, I>> {
        Ok(Pages::new(self.clone()))
    }

    /// Every item of the view (see [`ClusterView::iter`]).
    pub fn list(&self) -> D::Call<'_, Result<Vec<Bound<D, I>>>> {
        D::call(self.iter_now().collect_all())
    }

    fn iter_now(&self) -> Pages<D, I> {
        Pages::new(self.clone())
    }

    /// Binds an item (decoded elsewhere, e.g. from a watch event) to this
    /// view's cluster.
    pub fn bind(&self, item: I) -> Bound<D, I> {
        Bound::new(self.cluster.clone(), self.view.clone(), item)
    }

    /// Watches the view from now (list for the version, then watch).
    pub fn watch(&self) -> Result<WatchIter<D, I>> {
        self.watch_with(WatcherOptions::default())
    }

    /// Watches with explicit options (start point, timeouts, backoff).
    pub fn watch_with(&self, options: WatcherOptions) -> Result<WatchIter<D, I>> {
        let view = self.resolved()?;
        let watcher = view.watcher(options)?;
        Ok(WatchIter::new(self.cluster.clone(), view, watcher))
    }

    /// A cache of this view (a reflector): listed, then kept current by a
    /// watch on a helper thread that the cluster's `close` joins. Reads
    /// are from memory; see [`Cache`].
    pub fn cache(&self) -> Result<Cache<D, I>> {
        let (cache, task) = self.cache_task()?;
        self.cluster
            .run_on_helper("kubewire-cache", "the cache's watch", task)?;
        Ok(cache)
    }

    /// A cache of this view and the task that keeps it current, for the
    /// caller to run on its executor (`spawn(task)`): no helper thread.
    pub fn cache_task(&self) -> Result<(Cache<D, I>, CacheTask)> {
        let options = WatcherOptions {
            start: WatchStart::List,
            ..WatcherOptions::default()
        };
        let view = self.resolved()?;
        let watcher = view.watcher(options)?;
        let watch = WatchIter::new(self.cluster.clone(), view.clone(), watcher);
        Ok(Cache::start(self.cluster.clone(), view, watch))
    }

    /// Waits for the object `name` (see [`Bound::wait`]): fetches it, then
    /// watches it from that revision until a condition of `for_conditions`
    /// is `True` (its revision is returned), a condition of `raise_for`
    /// becomes `True`, it is deleted, or `timeout` passes.
    pub fn wait<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        for_conditions: &'a [&'a str],
        raise_for: &'a [&'a str],
        timeout: Duration,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(async move {
            self.fetch_now(name, namespace)
                .await?
                .wait_now(for_conditions, raise_for, timeout)
                .await
        })
    }

    /// Creates an object from a manifest.
    pub fn create(&self, manifest: serde_json::Value) -> D::Call<'_, Result<Bound<D, I>>> {
        D::call(async move {
            self.write(|v| v.create_request(manifest, None, &WriteParams::default()))
                .await
        })
    }

    /// Creates an object with write options (`dry_run`, `field_manager`,
    /// `field_validation`).
    pub fn create_with<'a>(
        &'a self,
        manifest: serde_json::Value,
        params: &'a WriteParams,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(self.write(move |v| v.create_request(manifest, None, params)))
    }

    /// Deletes an object by name. Deleting a Namespace that is already
    /// terminating answers `409 Conflict` on older servers: hidden, as the
    /// seed does.
    pub fn delete<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
    ) -> D::Call<'a, Result<()>> {
        D::call(async move {
            let view = self.resolved()?;
            delete_at(
                &self.cluster,
                &view,
                name,
                namespace,
                &DeleteParams::default(),
            )
            .await
        })
    }
}

impl<D: Driver> ClusterView<D, crate::items::pod::Pod> {
    /// A pod's log as lines (`params.follow` is ignored here: see
    /// [`ClusterView::follow_logs`]). A pod with no node yet has none.
    pub fn logs<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        params: &'a LogParams,
    ) -> D::Call<'a, Result<Vec<crate::logs::LogLine>>> {
        D::call(async move {
            let mut params = params.clone();
            params.follow = false;
            let request = self.view.object_endpoint(namespace)?.logs(name, &params)?;
            let answer = self.cluster.execute(request).await?;
            let mut decoder = crate::logs::LineDecoder::new(params.timestamps);
            let mut lines = decoder.feed(answer.body());
            lines.extend(decoder.finish());
            Ok(lines)
        })
    }

    /// Follows a pod's log: the lines as the container writes them (an
    /// `Iterator` on a blocking transport, a `Stream` on every one), ending
    /// when the server ends the stream or the cluster closes.
    pub fn follow_logs<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        params: &'a LogParams,
    ) -> D::Call<'a, Result<LogLines<D>>> {
        D::call(async move {
            let mut params = params.clone();
            params.follow = true;
            let request = self.view.object_endpoint(namespace)?.logs(name, &params)?;
            let body = self.cluster.open(request, false).await?.into_body();
            Ok(LogLines::new(
                self.cluster.life().stream(),
                body,
                params.timestamps,
            ))
        })
    }
}

/// Deletes one object of `view`, hiding the `409 Conflict` older servers
/// answer while a Namespace terminates (as the seed does).
pub(crate) async fn delete_at<D: Driver, I: ViewItem>(
    cluster: &Cluster<D>,
    view: &View<I>,
    name: &str,
    namespace: Option<&str>,
    params: &DeleteParams,
) -> Result<()> {
    let request = view.delete_request(name, namespace, params)?;
    match cluster.execute(request).await {
        Err(e) if e.http_status() == Some(409) && view.api_resource().kind() == "Namespace" => {
            Ok(())
        }
        other => other.map(drop),
    }
}

/// The wait's outcome for one revision: done, keep waiting, or a failure.
pub(crate) fn wait_check(
    item: &crate::item::Item,
    for_conditions: &[&str],
    raise_for: &[&str],
) -> Result<bool> {
    let conditions = item.conditions();
    for (kind, status, reason) in &conditions {
        if status == "True" && raise_for.contains(&kind.as_str()) {
            return Err(Error::Wait(crate::error::WaitFailure::Raised {
                condition: kind.clone(),
                reason: reason.clone(),
            }));
        }
    }
    Ok(conditions
        .iter()
        .any(|(kind, status, _)| status == "True" && for_conditions.contains(&kind.as_str())))
}
