//! A watch over a view or an item, driving the sans-IO [`Watcher`]: a
//! `Stream` on every driver, an `Iterator` on a blocking one, with
//! `next_timeout` for "nothing yet" and a stop handle.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::client::bound::Bound;
use crate::client::cluster::Cluster;
use crate::client::driver::{BoxFuture, Driver, now};
use crate::client::lifecycle::Stop;
use crate::client::polled::{Polled, polled};
use crate::error::Result;
use crate::view::{View, ViewItem};
use crate::watch::event::WatchEventType;
use crate::watch::watcher::{Watcher, WatcherEvent};

/// One change seen by a watch: its type and the object, bound to its
/// cluster.
#[derive(Debug)]
pub struct ViewEvent<D: Driver, I> {
    /// `ADDED`, `MODIFIED` or `DELETED` (bookmarks only move the
    /// watch's resume point and are not delivered).
    pub evtype: WatchEventType,
    /// The object (its last state for `DELETED`).
    pub item: Bound<D, I>,
}

impl<D: Driver, I: Clone> Clone for ViewEvent<D, I> {
    fn clone(&self) -> Self {
        ViewEvent {
            evtype: self.evtype,
            item: self.item.clone(),
        }
    }
}

/// Ends a watch from another thread or task: the watch ends at once, even
/// while it waits for the server.
///
/// ```no_run
/// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
/// let mut watch = cluster.pods().watch()?;
/// let stop = watch.stop_handle();
/// std::thread::spawn(move || { std::thread::sleep(std::time::Duration::from_secs(60)); stop.stop(); });
/// for event in &mut watch { let _ = event?; }   // ends after a minute
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct StopHandle(Arc<Stop>);

impl StopHandle {
    /// Ends the watch.
    pub fn stop(&self) {
        self.0.stop();
    }
}

enum State<B> {
    Idle,
    Opening(BoxFuture<'static, Result<http::Response<B>>>),
    Reading(B),
    Waiting(BoxFuture<'static, ()>),
}

/// A watch over a view or an item: resumes from the last resourceVersion,
/// relists after `410`, backs off on failures. Errors the server reports
/// are yielded as `Err` and the watch goes on, unless the error is final.
/// It ends only when closed (or its cluster is).
///
/// ```no_run
/// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
/// let mut watch = cluster.pods().namespace("demo")?.watch()?;
/// while let Some(event) = watch.next_timeout(std::time::Duration::from_secs(5))? {
///     println!("{} {}", event.evtype, event.item.meta().name());
/// }
/// # Ok(()) }
/// ```
pub struct WatchIter<D: Driver, I> {
    cluster: Cluster<D>,
    view: View<I>,
    watcher: Watcher,
    state: State<D::Body>,
    ready: VecDeque<Result<ViewEvent<D, I>>>,
    buf: Vec<u8>,
    stop: Arc<Stop>,
    /// The timer of a silent stream's idle deadline.
    idle: Option<BoxFuture<'static, ()>>,
}

// No field is structurally pinned: futures in flight are boxed.
impl<D: Driver, I> Unpin for WatchIter<D, I> {}

impl<D: Driver, I> std::fmt::Debug for WatchIter<D, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchIter")
            .field("watcher", &self.watcher)
            .finish_non_exhaustive()
    }
}

impl<D: Driver, I: ViewItem> WatchIter<D, I> {
    pub(crate) fn new(cluster: Cluster<D>, view: View<I>, watcher: Watcher) -> WatchIter<D, I> {
        let stop = cluster.life().stream();
        WatchIter {
            cluster,
            view,
            watcher,
            state: State::Idle,
            ready: VecDeque::new(),
            buf: vec![0u8; 64 * 1024],
            stop,
            idle: None,
        }
    }

    /// A handle that ends this watch from another thread or task.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.stop.clone())
    }

    /// The resourceVersion a resume would start from.
    pub fn resource_version(&self) -> Option<&str> {
        self.watcher.resource_version()
    }

    /// Ends the watch: the connection is dropped, iteration ends.
    pub fn close(&mut self) {
        self.watcher.close();
        self.state = State::Idle;
    }

    /// The next event, waiting at most `timeout`: `Ok(None)` when nothing
    /// arrived in time (the watch stays open) or the watch is closed.
    pub fn next_timeout(
        &mut self,
        timeout: Duration,
    ) -> D::Call<'_, Result<Option<ViewEvent<D, I>>>> {
        let deadline = now().0 + timeout;
        D::call(self.next_until(deadline))
    }

    /// The next event before `deadline` (see [`WatchIter::next_timeout`]).
    pub(crate) async fn next_until(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<ViewEvent<D, I>>> {
        let mut timer = self.cluster.driver().sleep_until(deadline);
        poll_fn(|cx| match self.poll_event(cx) {
            Poll::Ready(event) => Poll::Ready(event.transpose()),
            Poll::Pending => match timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Ok(None)),
                Poll::Pending => Poll::Pending,
            },
        })
        .await
    }

    fn collect(&mut self) {
        while let Some(e) = self.watcher.poll_event() {
            match e {
                // A bookmark carries no change: the watch resumes from
                // it, and the caller is not told.
                WatcherEvent::Event(event) if event.evtype == WatchEventType::Bookmark => {}
                WatcherEvent::Event(event) => {
                    let converted = I::from_view_item(event.item).map(|item| ViewEvent {
                        evtype: event.evtype,
                        item: Bound::new(self.cluster.clone(), self.view.clone(), item),
                    });
                    self.ready.push_back(converted);
                }
                WatcherEvent::Error(err) => self.ready.push_back(Err(err)),
                _ => {}
            }
        }
    }

    /// While a stream is silent: waits for the watcher's idle deadline and
    /// tells it when it passes. True when the stream was declared dead (the
    /// caller drops it).
    fn poll_idle(&mut self, cx: &mut Context<'_>, at: Instant) -> bool {
        let Some(deadline) = self.watcher.poll_timeout() else {
            self.idle = None;
            return false;
        };
        if at >= deadline {
            self.idle = None;
            return self.watcher.handle_timeout(at);
        }
        // Armed once per silence: bytes that arrive meanwhile move the
        // deadline, checked (and re-armed) when the timer fires.
        let driver = self.cluster.driver();
        let timer = self
            .idle
            .get_or_insert_with(|| driver.sleep_until(deadline));
        while timer.as_mut().poll(cx).is_ready() {
            let (now, _) = now();
            match self.watcher.poll_timeout() {
                Some(deadline) if now >= deadline => {
                    self.idle = None;
                    return self.watcher.handle_timeout(now);
                }
                Some(deadline) => *timer = driver.sleep_until(deadline),
                None => {
                    self.idle = None;
                    return false;
                }
            }
        }
        false
    }

    /// Runs the watcher until an event is ready: opens the requests it
    /// asks for, feeds it what arrives, waits when it says so.
    pub(crate) fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<ViewEvent<D, I>>>> {
        self.poll_with(cx, |watch| {
            watch.collect();
            watch.ready.pop_front()
        })
    }

    /// Runs the watcher until it has an event, handed over as it is (lists,
    /// relists and syncs included): what a cache is fed.
    pub(crate) fn poll_change(&mut self, cx: &mut Context<'_>) -> Poll<Option<WatcherEvent>> {
        self.poll_with(cx, |watch| watch.watcher.poll_event())
    }

    /// The watch loop: `take` hands over what is ready.
    fn poll_with<T>(
        &mut self,
        cx: &mut Context<'_>,
        mut take: impl FnMut(&mut Self) -> Option<T>,
    ) -> Poll<Option<T>> {
        loop {
            if self.stop.is_stopped() {
                self.close();
            }
            if let Some(ready) = take(self) {
                return Poll::Ready(Some(ready));
            }
            if self.watcher.is_closed() {
                return Poll::Ready(None);
            }
            self.stop.park(cx.waker());
            let (instant, _) = now();
            match &mut self.state {
                State::Idle => match self.watcher.poll_transmit(instant) {
                    Some(request) => {
                        let cluster = self.cluster.clone();
                        self.state =
                            State::Opening(Box::pin(
                                async move { cluster.open(request, true).await },
                            ));
                    }
                    None => match self.watcher.poll_timeout() {
                        Some(at) => {
                            self.state = State::Waiting(self.cluster.driver().sleep_until(at))
                        }
                        None => return Poll::Ready(None),
                    },
                },
                State::Opening(future) => match future.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(response)) => {
                        let (parts, body) = response.into_parts();
                        self.watcher
                            .handle_head(parts.status.as_u16(), &parts.headers);
                        self.state = State::Reading(body);
                    }
                    Poll::Ready(Err(e)) => {
                        self.watcher.handle_failure(instant, e);
                        self.state = State::Idle;
                    }
                },
                State::Reading(body) => match D::poll_chunk(body, cx, &mut self.buf) {
                    Poll::Pending => {
                        if self.poll_idle(cx, instant) {
                            self.state = State::Idle;
                            continue;
                        }
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok([])) => {
                        self.watcher.handle_end(instant, true);
                        self.state = State::Idle;
                    }
                    Poll::Ready(Ok(chunk)) => {
                        if !self.watcher.handle_data(instant, chunk) {
                            self.watcher.handle_end(instant, false);
                            self.state = State::Idle;
                        }
                    }
                    Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Poll::Ready(Err(_)) => {
                        self.watcher.handle_end(instant, false);
                        self.state = State::Idle;
                    }
                },
                State::Waiting(delay) => match delay.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) => self.state = State::Idle,
                },
            }
        }
    }
}

/// What a watch yields.
type WatchItem<D, I> = Result<ViewEvent<D, I>>;

impl<D: Driver, I: ViewItem> Polled for WatchIter<D, I> {
    type Item = WatchItem<D, I>;

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_event(cx)
    }
}

polled!(WatchIter[I: ViewItem] => WatchItem);
