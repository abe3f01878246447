//! Views bound to a cluster: fetch, iterate, watch, create, delete.

use std::collections::{HashSet, VecDeque};

use crate::client::bound::Bound;
use crate::client::cluster::Cluster;
use crate::client::transport::Transport;
use crate::client::watch::WatchIter;
use crate::error::Result;
use crate::item::Item;
use crate::pager::{PageOutcome, Pager};
use crate::params::WriteParams;
use crate::response;
use crate::selector::Selector;
use crate::view::{View, ViewItem};
use crate::watch::watcher::WatcherOptions;

/// A [`View`] bound to a [`Cluster`]: the seed's view methods.
#[derive(Debug)]
pub struct ClusterView<T: Transport, I> {
    cluster: Cluster<T>,
    view: View<I>,
    page_size: Option<u32>,
}

impl<T: Transport, I> Clone for ClusterView<T, I> {
    fn clone(&self) -> Self {
        ClusterView {
            cluster: self.cluster.clone(),
            view: self.view.clone(),
            page_size: self.page_size,
        }
    }
}

impl<T: Transport + std::fmt::Debug, I: ViewItem + Clone> ClusterView<T, I> {
    /// Binds any view to `cluster`.
    pub fn new(cluster: Cluster<T>, view: View<I>) -> ClusterView<T, I> {
        let page_size = cluster.page_size();
        ClusterView {
            cluster,
            view,
            page_size,
        }
    }

    pub(crate) fn cluster(&self) -> &Cluster<T> {
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

    /// The page size iteration asks for (`None`: everything at once).
    pub fn page_size(mut self, page_size: Option<u32>) -> Self {
        self.page_size = page_size;
        self
    }

    /// Fetches one object; a missing one is [`crate::Error::NotFound`].
    /// The namespace rules of the seed apply (no silent default namespace).
    pub fn fetch(&self, name: &str, namespace: Option<&str>) -> Result<Bound<T, I>> {
        let (view, answer) = self
            .cluster
            .with_fallback(&self.view, |v| v.fetch_request(name, namespace))?;
        Ok(Bound::new(
            self.cluster.clone(),
            view.clone(),
            view.decode(answer)?,
        ))
    }

    /// Iterates the view, paging through `limit`/`continue` as it goes.
    /// An expired listing restarts from the beginning; items already
    /// yielded are not yielded twice (their uid and version are skipped).
    pub fn iter(&self) -> Result<Pages<T, I>> {
        Ok(Pages {
            view: self.clone(),
            pager: None,
            buffer: VecDeque::new(),
            seen: HashSet::new(),
            done: false,
        })
    }

    /// Every item of the view.
    pub fn list(&self) -> Result<Vec<Bound<T, I>>> {
        self.iter()?.collect()
    }

    /// Binds an item (decoded elsewhere, e.g. from a watch event) to this
    /// view's cluster.
    pub fn bind(&self, item: I) -> Bound<T, I> {
        Bound::new(self.cluster.clone(), self.view.clone(), item)
    }

    /// Watches the view from now (list for the version, then watch).
    pub fn watch(&self) -> Result<WatchIter<T, I>> {
        self.watch_with(WatcherOptions::default())
    }

    /// Watches with explicit options (start point, timeouts, backoff).
    pub fn watch_with(&self, options: WatcherOptions) -> Result<WatchIter<T, I>> {
        let view = self.cluster.resolved(&self.view)?;
        Ok(WatchIter::new(
            self.cluster.clone(),
            view.clone(),
            view.watcher(options)?,
        ))
    }

    /// Waits for the object `name` (see [`Bound::wait`]): fetches it, then
    /// watches it from that revision until a condition of `for_conditions`
    /// is `True` (its revision is returned), a condition of `raise_for`
    /// becomes `True`, it is deleted, or `timeout` passes.
    pub fn wait(
        &self,
        name: &str,
        namespace: Option<&str>,
        for_conditions: &[&str],
        raise_for: &[&str],
        timeout: std::time::Duration,
    ) -> Result<Bound<T, I>> {
        self.fetch(name, namespace)?
            .wait(for_conditions, raise_for, timeout)
    }

    /// Creates an object from a manifest.
    pub fn create(&self, manifest: serde_json::Value) -> Result<Bound<T, I>> {
        self.create_with(manifest, &WriteParams::default())
    }

    /// Creates an object with write options (`dry_run`, `field_manager`,
    /// `field_validation`).
    pub fn create_with(
        &self,
        manifest: serde_json::Value,
        params: &WriteParams,
    ) -> Result<Bound<T, I>> {
        self.write(|v| v.create_request(manifest, None, params))
    }

    /// Deletes an object by name. Deleting a Namespace that is already
    /// terminating answers `409 Conflict` on older servers: hidden, as the
    /// seed does.
    pub fn delete(&self, name: &str, namespace: Option<&str>) -> Result<()> {
        self.cluster
            .delete_in(&self.cluster.resolved(&self.view)?, name, namespace)
    }
}

impl<T: Transport + std::fmt::Debug> ClusterView<T, crate::items::pod::Pod> {
    /// A pod's log as lines (`params.follow` is ignored here: see
    /// [`ClusterView::follow_logs`]). A pod with no node yet has none.
    pub fn logs(
        &self,
        name: &str,
        namespace: Option<&str>,
        params: &crate::params::LogParams,
    ) -> Result<Vec<crate::logs::LogLine>> {
        let mut params = params.clone();
        params.follow = false;
        let answer = self
            .cluster
            .execute(self.view.object_endpoint(namespace)?.logs(name, &params)?)?;
        response::check_status(answer.status().as_u16(), answer.headers(), answer.body())?;
        let mut decoder = crate::logs::LineDecoder::new(params.timestamps);
        let mut lines = decoder.feed(answer.body());
        lines.extend(decoder.finish());
        Ok(lines)
    }

    /// Follows a pod's log: an iterator of lines as the container writes
    /// them, ending when the server ends the stream.
    pub fn follow_logs(
        &self,
        name: &str,
        namespace: Option<&str>,
        params: &crate::params::LogParams,
    ) -> Result<LogLines<T::Body>> {
        let mut params = params.clone();
        params.follow = true;
        let body = self
            .cluster
            .open_body(self.view.object_endpoint(namespace)?.logs(name, &params)?)?;
        Ok(LogLines {
            body,
            decoder: crate::logs::LineDecoder::new(params.timestamps),
            ready: VecDeque::new(),
            done: false,
        })
    }
}

/// The lines of a followed log, read as they arrive.
#[derive(Debug)]
pub struct LogLines<B> {
    body: B,
    decoder: crate::logs::LineDecoder,
    ready: VecDeque<crate::logs::LogLine>,
    done: bool,
}

impl<B: std::io::Read> Iterator for LogLines<B> {
    type Item = Result<crate::logs::LogLine>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if let Some(line) = self.ready.pop_front() {
                return Some(Ok(line));
            }
            if self.done {
                return None;
            }
            match self.body.read(&mut buf) {
                Ok(0) => {
                    self.done = true;
                    self.ready.extend(self.decoder.finish());
                }
                Ok(n) => self.ready.extend(self.decoder.feed(&buf[..n])),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(crate::error::Error::Transport {
                        kind: crate::error::TransportErrorKind::Io,
                        message: format!("log stream: {e}"),
                    }));
                }
            }
        }
    }
}

/// The items of a view, fetched page by page as iteration goes.
#[derive(Debug)]
pub struct Pages<T: Transport, I> {
    view: ClusterView<T, I>,
    pager: Option<(View<I>, Pager)>,
    buffer: VecDeque<Item>,
    seen: HashSet<(String, String)>,
    done: bool,
}

impl<T: Transport + std::fmt::Debug, I: ViewItem + Clone> Pages<T, I> {
    fn next_page(&mut self) -> Result<()> {
        let cluster = &self.view.cluster;
        let pager = match &mut self.pager {
            Some((_, pager)) => pager,
            None => {
                // The first page finds the API path that serves the view.
                let size = self.view.page_size;
                let (view, answer) =
                    cluster.with_fallback(&self.view.view, |v| v.list_request(size, None))?;
                let mut pager = view.pager(size)?;
                let _ = pager.next_request();
                let (parts, body) = answer.into_parts();
                self.absorb(pager.handle_response(parts.status.as_u16(), &parts.headers, body)?);
                self.pager = Some((view, pager));
                return Ok(());
            }
        };
        match pager.next_request() {
            None => {
                self.done = true;
                Ok(())
            }
            Some(request) => {
                let (parts, body) = cluster.execute(request?)?.into_parts();
                let outcome = pager.handle_response(parts.status.as_u16(), &parts.headers, body)?;
                self.absorb(outcome);
                Ok(())
            }
        }
    }

    fn absorb(&mut self, outcome: PageOutcome) {
        if let PageOutcome::Page(page) = outcome {
            for item in page.into_items() {
                let id = (
                    item.meta().uid().to_string(),
                    item.meta().version().to_string(),
                );
                if self.seen.insert(id) {
                    self.buffer.push_back(item);
                }
            }
        }
        if self.pager.as_ref().is_some_and(|(_, p)| p.is_done()) {
            self.done = true;
        }
    }
}

impl<T: Transport + std::fmt::Debug, I: ViewItem + Clone> Iterator for Pages<T, I> {
    type Item = Result<Bound<T, I>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                let view = self
                    .pager
                    .as_ref()
                    .map_or_else(|| self.view.view.clone(), |(v, _)| v.clone());
                return Some(
                    I::from_view_item(item).map(|i| Bound::new(self.view.cluster.clone(), view, i)),
                );
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.next_page() {
                self.done = true;
                return Some(Err(e));
            }
            if self.pager.as_ref().is_some_and(|(_, p)| p.is_done()) && self.buffer.is_empty() {
                return None;
            }
        }
    }
}
