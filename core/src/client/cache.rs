//! A view's reflector cache, kept current by the client: the sans-IO
//! [`Store`] fed by a watch, on a helper thread (every driver) or as a task
//! on the caller's executor (async).

use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::cache::{Change, ChangeKind, ObjectKey, Snapshot, Store};
use crate::client::bound::Bound;
use crate::client::cluster::Cluster;
use crate::client::driver::{BoxFuture, Driver};
use crate::client::lock::lock;
use crate::client::polled::{Polled, polled};
use crate::client::watch::{StopHandle, WatchIter};
use crate::error::{Error, Result};
use crate::item::Item;
use crate::view::{View, ViewItem};
use crate::watch::WatcherEvent;

/// What the cache's readers and its task share.
#[derive(Default)]
struct Shared {
    store: Mutex<Store>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The watch ended (closed, or a final error).
    ended: bool,
    /// The last error the watch reported (it retries the others).
    last_error: Option<Error>,
    /// Tasks waiting for readiness.
    waiting: Vec<Waker>,
    /// The change queues of [`Cache::changes`].
    queues: Vec<std::sync::Weak<Queue>>,
}

impl Shared {
    fn apply(&self, event: WatcherEvent) {
        let (changes, ready) = match event {
            WatcherEvent::Error(e) => {
                lock(&self.state).last_error = Some(e);
                return;
            }
            other => {
                let mut store = lock(&self.store);
                (store.apply(other), store.is_ready())
            }
        };
        let mut state = lock(&self.state);
        state.queues.retain(|q| q.strong_count() > 0);
        for queue in state.queues.iter().filter_map(std::sync::Weak::upgrade) {
            queue.push(&changes);
        }
        if ready {
            state.waiting.drain(..).for_each(Waker::wake);
        }
    }

    fn end(&self) {
        let mut state = lock(&self.state);
        state.ended = true;
        state.waiting.drain(..).for_each(Waker::wake);
        for queue in state.queues.iter().filter_map(std::sync::Weak::upgrade) {
            queue.end();
        }
    }
}

/// Stops the watch when the last handle of the cache goes.
struct Owner(StopHandle);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// A view's objects, kept current by a watch: reads are from memory.
///
/// ```no_run
/// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
/// let pods = cluster.pods().namespace("demo")?.cache()?;
/// pods.wait_until_ready()?;
/// for pod in pods.list_by_label("app", "web")? {
///     println!("{} {:?}", pod.meta().name(), pod.phase());
/// }
/// let mut changes = pods.changes();
/// while let Some(change) = changes.next() {  // a work queue: one entry per object
///     let change = change?;
///     println!("{:?} {}", change.kind, change.key);
/// }
/// # Ok(()) }
/// ```
pub struct Cache<D: Driver, I> {
    cluster: Cluster<D>,
    view: View<I>,
    shared: Arc<Shared>,
    owner: Arc<Owner>,
}

impl<D: Driver, I> Clone for Cache<D, I> {
    fn clone(&self) -> Self {
        Cache {
            cluster: self.cluster.clone(),
            view: self.view.clone(),
            shared: self.shared.clone(),
            owner: self.owner.clone(),
        }
    }
}

impl<D: Driver, I> std::fmt::Debug for Cache<D, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = lock(&self.shared.store);
        f.debug_struct("Cache")
            .field("objects", &store.len())
            .field("ready", &store.is_ready())
            .field("resource_version", &store.resource_version())
            .finish_non_exhaustive()
    }
}

/// The task that keeps a cache current: run it on any executor (it ends
/// when the cache is dropped or closed, or its cluster is).
pub type CacheTask = BoxFuture<'static, ()>;

impl<D: Driver, I: ViewItem> Cache<D, I> {
    /// A cache of `view` and the task that keeps it current.
    pub(crate) fn start(
        cluster: Cluster<D>,
        view: View<I>,
        mut watch: WatchIter<D, I>,
    ) -> (Cache<D, I>, CacheTask) {
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new()),
            state: Mutex::default(),
        });
        let owner = Arc::new(Owner(watch.stop_handle()));
        let feeding = shared.clone();
        let task: CacheTask = Box::pin(async move {
            while let Some(event) = poll_fn(|cx| watch.poll_change(cx)).await {
                feeding.apply(event);
            }
            feeding.end();
        });
        let cache = Cache {
            cluster,
            view,
            shared,
            owner,
        };
        (cache, task)
    }

    fn bind(&self, item: Item) -> Result<Bound<D, I>> {
        Ok(Bound::new(
            self.cluster.clone(),
            self.view.clone(),
            I::from_view_item(item)?,
        ))
    }

    /// True once the first list is complete.
    pub fn is_ready(&self) -> bool {
        lock(&self.shared.store).is_ready()
    }

    /// Waits until the first list is complete. Fails when the watch ended
    /// before (the cache was closed, or the server refused it for good:
    /// the error it gave).
    pub fn wait_until_ready(&self) -> D::Call<'_, Result<()>> {
        D::call(poll_fn(move |cx| {
            if self.is_ready() {
                return Poll::Ready(Ok(()));
            }
            let mut state = lock(&self.shared.state);
            if state.ended {
                return Poll::Ready(Err(state.last_error.take().unwrap_or(Error::Closed)));
            }
            state.waiting.push(cx.waker().clone());
            drop(state);
            // Ready between the check and the registration: no wake-up lost.
            if self.is_ready() {
                return Poll::Ready(Ok(()));
            }
            Poll::Pending
        }))
    }

    /// The object `name` in the view's namespace (or the cluster-scoped
    /// object `name`).
    pub fn get(&self, name: &str) -> Result<Option<Bound<D, I>>> {
        let key = ObjectKey::new(self.view.bound_namespace().unwrap_or_default(), name);
        self.get_key(&key)
    }

    /// The object at `key` (for a cache over every namespace).
    pub fn get_key(&self, key: &ObjectKey) -> Result<Option<Bound<D, I>>> {
        let item = lock(&self.shared.store).get(key).cloned();
        item.map(|i| self.bind(i)).transpose()
    }

    /// Every object, by namespace and name.
    pub fn list(&self) -> Result<Vec<Bound<D, I>>> {
        self.snapshot()
            .iter()
            .map(|i| self.bind(i.clone()))
            .collect()
    }

    /// The objects of one namespace (for a cache over every namespace).
    pub fn list_in(&self, namespace: &str) -> Result<Vec<Bound<D, I>>> {
        let snapshot = self.snapshot();
        snapshot
            .in_namespace(namespace)
            .map(|i| self.bind(i.clone()))
            .collect()
    }

    /// The objects whose label `key` is `value` (indexed on first use).
    pub fn list_by_label(&self, key: &str, value: &str) -> Result<Vec<Bound<D, I>>> {
        let items = lock(&self.shared.store).list_by_label(key, value);
        items.into_iter().map(|i| self.bind(i)).collect()
    }

    /// The raw items at this moment (a reference count, no copy).
    pub fn snapshot(&self) -> Snapshot {
        lock(&self.shared.store).snapshot()
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        lock(&self.shared.store).len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        lock(&self.shared.store).is_empty()
    }

    /// The resourceVersion the cache is current to: its last list's, or
    /// that of the last change or bookmark applied since (as client-go's
    /// `LastSyncResourceVersion`). `None` before the first list completes.
    pub fn resource_version(&self) -> Option<String> {
        lock(&self.shared.store)
            .resource_version()
            .map(str::to_string)
    }

    /// The last error the watch reported (it retries, so the cache goes
    /// on, possibly stale, until the watch recovers).
    pub fn last_error(&self) -> Option<String> {
        lock(&self.shared.state)
            .last_error
            .as_ref()
            .map(ToString::to_string)
    }

    /// The changes, for a work queue: first every object the cache holds
    /// already, as an addition, then every change from now on; one entry
    /// per object (a later change to an object still queued replaces it).
    /// Taken before the first list completes, it starts with that list's
    /// objects; taken after, it misses none of them either, as client-go's
    /// event handlers do. Ends when the cache's watch does.
    pub fn changes(&self) -> CacheChanges<D, I> {
        let queue = Arc::new(Queue::default());
        let mut state = lock(&self.shared.state);
        // Under the state lock, no change is pushed between this snapshot
        // and the queue's registration; one applied to the store just
        // before is folded into its object's entry.
        let held: Vec<Change> = lock(&self.shared.store)
            .snapshot()
            .iter()
            .map(|item| Change {
                kind: ChangeKind::Added,
                key: ObjectKey::of(item),
                item: item.clone(),
            })
            .collect();
        queue.push(&held);
        if state.ended {
            queue.end();
        }
        state.queues.push(Arc::downgrade(&queue));
        CacheChanges {
            cache: self.clone(),
            queue,
        }
    }

    /// Stops keeping the cache current (the last handle dropped does too).
    pub fn close(&self) {
        self.owner.0.stop();
    }
}

/// A change queue's contents.
#[derive(Default)]
struct Queue {
    inner: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    order: VecDeque<ObjectKey>,
    latest: HashMap<ObjectKey, Change>,
    waker: Option<Waker>,
    ended: bool,
}

impl Queue {
    fn push(&self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        let mut q = lock(&self.inner);
        for change in changes {
            match q.latest.get_mut(&change.key) {
                Some(queued) => {
                    // Still new to the consumer: it stays an addition.
                    let kind = match (queued.kind, change.kind) {
                        (ChangeKind::Added, ChangeKind::Modified) => ChangeKind::Added,
                        (_, kind) => kind,
                    };
                    *queued = Change {
                        kind,
                        ..change.clone()
                    };
                }
                None => {
                    q.order.push_back(change.key.clone());
                    q.latest.insert(change.key.clone(), change.clone());
                }
            }
        }
        if let Some(w) = q.waker.take() {
            w.wake();
        }
    }

    fn end(&self) {
        let mut q = lock(&self.inner);
        q.ended = true;
        if let Some(w) = q.waker.take() {
            w.wake();
        }
    }
}

/// One change of a cached object, bound to its cluster.
#[derive(Debug)]
pub struct CacheChange<D: Driver, I> {
    /// How it changed.
    pub kind: ChangeKind,
    /// Which object.
    pub key: ObjectKey,
    /// Its state when the change was taken (its last state when deleted).
    pub item: Bound<D, I>,
}

/// The changes of a [`Cache`]: an `Iterator` (blocking), a `Stream`
/// (async), `next()` on both.
pub struct CacheChanges<D: Driver, I> {
    cache: Cache<D, I>,
    queue: Arc<Queue>,
}

impl<D: Driver, I> std::fmt::Debug for CacheChanges<D, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheChanges")
            .field("queued", &lock(&self.queue.inner).order.len())
            .finish_non_exhaustive()
    }
}

/// What a change queue yields.
type CacheItem<D, I> = Result<CacheChange<D, I>>;

impl<D: Driver, I: ViewItem> Polled for CacheChanges<D, I> {
    type Item = CacheItem<D, I>;

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut q = lock(&self.queue.inner);
        if let Some(key) = q.order.pop_front() {
            let change = q.latest.remove(&key).expect("queued with its change");
            drop(q);
            return Poll::Ready(Some(self.cache.bind(change.item).map(|item| CacheChange {
                kind: change.kind,
                key: change.key,
                item,
            })));
        }
        if q.ended {
            return Poll::Ready(None);
        }
        q.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

polled!(CacheChanges[I: ViewItem] => CacheItem);
