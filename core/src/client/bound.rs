//! Items bound to their cluster: refetch, delete, watch, wait.

use std::ops::Deref;
use std::time::Duration;

use crate::client::cluster::Cluster;
use crate::client::driver::{Driver, now};
use crate::client::view::{ClusterView, delete_at, wait_check};
use crate::client::watch::WatchIter;
use crate::error::{Error, Result, WaitFailure};
use crate::params::DeleteParams;
use crate::view::{View, ViewItem};
use crate::watch::event::WatchEventType;
use crate::watch::watcher::WatcherOptions;

/// An item that knows its cluster. Derefs to the item (`Pod`, `Node`, ...,
/// or [`crate::Item`]); methods that change it return the new revision.
///
/// ```no_run
/// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
/// let rs = cluster.replicasets().fetch("auth-v3", Some("demo"))?;
/// let n: i64 = rs.observed_replicas()?;            // the item's own accessors
/// let rs2 = rs.labels().set("tier", "web")?;       // a write: the new revision
/// let latest = rs2.fetch()?;
/// let ready = latest.wait(&["Available"], &[], std::time::Duration::from_secs(60));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Bound<D: Driver, I> {
    cluster: Cluster<D>,
    view: View<I>,
    item: I,
}

impl<D: Driver, I: Clone> Clone for Bound<D, I> {
    fn clone(&self) -> Self {
        Bound {
            cluster: self.cluster.clone(),
            view: self.view.clone(),
            item: self.item.clone(),
        }
    }
}

impl<D: Driver, I> Deref for Bound<D, I> {
    type Target = I;

    fn deref(&self) -> &I {
        &self.item
    }
}

impl<D: Driver, I: PartialEq> PartialEq for Bound<D, I> {
    fn eq(&self, other: &Self) -> bool {
        self.item == other.item
    }
}

impl<D: Driver, I: ViewItem> Bound<D, I> {
    pub(crate) fn new(cluster: Cluster<D>, view: View<I>, item: I) -> Bound<D, I> {
        Bound {
            cluster,
            view,
            item,
        }
    }

    /// The view this item belongs to, on its cluster.
    pub fn view(&self) -> ClusterView<D, I> {
        ClusterView::new(self.cluster.clone(), self.view.clone())
    }

    /// The item, unbound.
    pub fn into_inner(self) -> I {
        self.item
    }

    pub(crate) fn name_and_namespace(&self) -> (&str, Option<&str>) {
        let meta = self.item.as_item().meta();
        (meta.name(), meta.namespace())
    }

    /// The latest revision of this object.
    pub fn fetch(&self) -> D::Call<'_, Result<Bound<D, I>>> {
        D::call(async move {
            let (name, namespace) = self.name_and_namespace();
            let answer = self
                .cluster
                .execute(self.view.fetch_request(name, namespace)?)
                .await?;
            let item = self.view.decode(answer)?;
            Ok(Bound::new(self.cluster.clone(), self.view.clone(), item))
        })
    }

    /// Deletes this object. A Namespace already terminating may answer
    /// `409 Conflict` on older servers: that is hidden, as the seed does.
    pub fn delete(&self) -> D::Call<'_, Result<()>> {
        D::call(async move {
            let (name, namespace) = self.name_and_namespace();
            delete_at(
                &self.cluster,
                &self.view,
                name,
                namespace,
                &DeleteParams::default(),
            )
            .await
        })
    }

    /// Watches this object's changes after this revision.
    pub fn watch(&self) -> Result<WatchIter<D, I>> {
        let watcher = self
            .view
            .item_watcher(self.item.as_item(), WatcherOptions::default())?;
        Ok(WatchIter::new(
            self.cluster.clone(),
            self.view.clone(),
            watcher,
        ))
    }

    /// Waits until a condition of one of `for_conditions` is `True` and
    /// returns that revision. Fails early when a condition of
    /// `raise_for` becomes `True` or the object is deleted, and when
    /// `timeout` passes (distinct [`WaitFailure`]s).
    pub fn wait<'a>(
        &'a self,
        for_conditions: &'a [&'a str],
        raise_for: &'a [&'a str],
        timeout: Duration,
    ) -> D::Call<'a, Result<Bound<D, I>>> {
        D::call(self.wait_now(for_conditions, raise_for, timeout))
    }

    pub(crate) async fn wait_now(
        &self,
        for_conditions: &[&str],
        raise_for: &[&str],
        timeout: Duration,
    ) -> Result<Bound<D, I>> {
        if wait_check(self.item.as_item(), for_conditions, raise_for)? {
            return Ok(self.clone());
        }
        let deadline = now().0 + timeout;
        let mut watch = self.watch()?;
        let outcome = loop {
            let Some(event) = watch.next_until(deadline).await? else {
                break Err(Error::Wait(WaitFailure::TimedOut { after: timeout }));
            };
            match event.evtype {
                WatchEventType::Deleted => {
                    break Err(Error::Wait(WaitFailure::Deleted {
                        name: self.item.as_item().meta().name().to_string(),
                    }));
                }
                WatchEventType::Added | WatchEventType::Modified
                    if wait_check(event.item.as_item(), for_conditions, raise_for)? =>
                {
                    break Ok(event.item);
                }
                _ => {}
            }
        };
        watch.close();
        outcome
    }
}
