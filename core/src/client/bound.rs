//! Items bound to their cluster: refetch, delete, watch, relabel.

use std::ops::Deref;

use crate::client::cluster::Cluster;
use crate::client::transport::Transport;
use crate::client::watch::WatchIter;
use crate::error::Result;
use crate::view::{View, ViewItem};
use crate::watch::watcher::WatcherOptions;

/// An item that knows its cluster. Derefs to the item (`Pod`, `Node`, ...,
/// or [`crate::Item`]); methods that change it return the new revision.
#[derive(Debug)]
pub struct Bound<T: Transport, I> {
    cluster: Cluster<T>,
    view: View<I>,
    item: I,
}

impl<T: Transport, I: Clone> Clone for Bound<T, I> {
    fn clone(&self) -> Self {
        Bound {
            cluster: self.cluster.clone(),
            view: self.view.clone(),
            item: self.item.clone(),
        }
    }
}

impl<T: Transport, I> Deref for Bound<T, I> {
    type Target = I;

    fn deref(&self) -> &I {
        &self.item
    }
}

impl<T: Transport, I: PartialEq> PartialEq for Bound<T, I> {
    fn eq(&self, other: &Self) -> bool {
        self.item == other.item
    }
}

impl<T: Transport + std::fmt::Debug, I: ViewItem + Clone> Bound<T, I> {
    pub(crate) fn new(cluster: Cluster<T>, view: View<I>, item: I) -> Bound<T, I> {
        Bound {
            cluster,
            view,
            item,
        }
    }

    /// The view this item belongs to, on its cluster.
    pub fn view(&self) -> crate::client::view::ClusterView<T, I> {
        crate::client::view::ClusterView::new(self.cluster.clone(), self.view.clone())
    }

    /// The item, unbound.
    pub fn into_inner(self) -> I {
        self.item
    }

    /// The latest revision of this object.
    pub fn fetch(&self) -> Result<Bound<T, I>> {
        let meta = self.item.as_item().meta();
        let answer = self
            .cluster
            .execute(self.view.fetch_request(meta.name(), meta.namespace())?)?;
        Ok(Bound::new(
            self.cluster.clone(),
            self.view.clone(),
            self.view.decode(answer)?,
        ))
    }

    /// Deletes this object. A Namespace already terminating may answer
    /// `409 Conflict` on older servers: that is hidden, as the seed does.
    pub fn delete(&self) -> Result<()> {
        let meta = self.item.as_item().meta();
        self.cluster
            .delete_in(&self.view, meta.name(), meta.namespace())
    }

    /// Watches this object's changes after this revision.
    pub fn watch(&self) -> Result<WatchIter<T, I>> {
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
    /// `timeout` passes (distinct [`crate::WaitFailure`]s).
    pub fn wait(
        &self,
        for_conditions: &[&str],
        raise_for: &[&str],
        timeout: std::time::Duration,
    ) -> Result<Bound<T, I>> {
        use crate::error::{Error, WaitFailure};
        use crate::watch::event::WatchEventType;
        let check = |item: &crate::item::Item| -> Result<bool> {
            for (kind, status, reason) in item.conditions() {
                if status == "True" && raise_for.contains(&kind.as_str()) {
                    return Err(Error::Wait(WaitFailure::Raised {
                        condition: kind,
                        reason,
                    }));
                }
            }
            Ok(item.conditions().iter().any(|(kind, status, _)| {
                status == "True" && for_conditions.contains(&kind.as_str())
            }))
        };
        if check(self.item.as_item())? {
            return Ok(self.clone());
        }
        let deadline = std::time::Instant::now() + timeout;
        let mut watch = self.watch()?;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let Some(event) = watch.next_timeout(left)? else {
                watch.close();
                return Err(Error::Wait(WaitFailure::TimedOut { after: timeout }));
            };
            match event.evtype {
                WatchEventType::Deleted => {
                    watch.close();
                    return Err(Error::Wait(WaitFailure::Deleted {
                        name: self.item.as_item().meta().name().to_string(),
                    }));
                }
                WatchEventType::Added | WatchEventType::Modified
                    if check(event.item.as_item())? =>
                {
                    watch.close();
                    return Ok(event.item);
                }
                _ => {}
            }
        }
    }
}
