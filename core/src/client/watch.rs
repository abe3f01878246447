//! The blocking watch iterator, with `next_timeout`.
//!
//! The watcher state machine runs on the caller's thread. Each request it
//! asks for is sent by a helper thread that reads the answer and passes
//! the chunks over a channel, so `next_timeout` never blocks longer than
//! asked — even on transports whose `send` waits for the first body byte.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;

use crate::client::bound::Bound;
use crate::client::cluster::Cluster;
use crate::client::transport::Transport;
use crate::error::{Error, Result, TransportErrorKind};
use crate::view::{View, ViewItem};
use crate::watch::event::WatchEventType;
use crate::watch::watcher::{Watcher, WatcherEvent};

/// One change seen by a watch: its type and the object, bound to its
/// cluster.
#[derive(Debug, Clone)]
pub struct ViewEvent<T: Transport, I> {
    /// `ADDED`, `MODIFIED`, `DELETED` or `BOOKMARK`.
    pub evtype: WatchEventType,
    /// The object (its last state for `DELETED`).
    pub item: Bound<T, I>,
}

enum Msg {
    Head(u16, HeaderMap),
    Chunk(Bytes),
    End(bool),
    Failed(Error),
}

/// A watch over a view or an item. An iterator (ending only when closed),
/// plus [`WatchIter::next_timeout`] for "nothing yet" without losing the
/// connection. Errors the server reports are yielded as `Err` and the watch
/// goes on (resuming, relisting after `410`, backing off), unless the error
/// is final.
#[derive(Debug)]
pub struct WatchIter<T: Transport, I> {
    cluster: Cluster<T>,
    view: View<I>,
    watcher: Watcher,
    rx: Option<Receiver<Msg>>,
    ready: VecDeque<Result<ViewEvent<T, I>>>,
    stopped: Arc<AtomicBool>,
}

/// Ends a watch from another thread: the watch's iteration ends within a
/// fraction of a second, even while it waits for the server.
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
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Ends the watch.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// How often a blocked watch looks at its stop handle.
const STOP_POLL: Duration = Duration::from_millis(100);

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Msg::Head(..) => "Head",
            Msg::Chunk(_) => "Chunk",
            Msg::End(_) => "End",
            Msg::Failed(_) => "Failed",
        })
    }
}

fn pump<B: Read>(tx: &SyncSender<Msg>, response: http::Response<B>) {
    let (parts, mut body) = response.into_parts();
    if tx
        .send(Msg::Head(parts.status.as_u16(), parts.headers))
        .is_err()
    {
        return;
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let msg = match body.read(&mut buf) {
            Ok(0) => Msg::End(true),
            Ok(n) => Msg::Chunk(Bytes::copy_from_slice(&buf[..n])),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => Msg::End(false),
        };
        let last = matches!(msg, Msg::End(_));
        if tx.send(msg).is_err() || last {
            return;
        }
    }
}

impl<T: Transport + std::fmt::Debug, I: ViewItem + Clone> WatchIter<T, I> {
    pub(crate) fn new(cluster: Cluster<T>, view: View<I>, watcher: Watcher) -> WatchIter<T, I> {
        WatchIter {
            cluster,
            view,
            watcher,
            rx: None,
            ready: VecDeque::new(),
            stopped: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A handle that ends this watch from another thread.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.stopped.clone())
    }

    /// The resourceVersion a resume would start from.
    pub fn resource_version(&self) -> Option<&str> {
        self.watcher.resource_version()
    }

    /// Ends the watch: the connection is dropped, iteration ends.
    pub fn close(&mut self) {
        self.watcher.close();
        self.rx = None;
    }

    /// The next event, waiting at most `timeout`: `Ok(None)` when nothing
    /// arrived in time (the watch stays open) or the watch is closed.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<ViewEvent<T, I>>> {
        self.step(Some(Instant::now() + timeout)).transpose()
    }

    fn collect_events(&mut self) {
        while let Some(e) = self.watcher.poll_event() {
            match e {
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

    /// Runs the watcher until an event is ready or `deadline` passes.
    fn step(&mut self, deadline: Option<Instant>) -> Option<Result<ViewEvent<T, I>>> {
        loop {
            if self.stopped.load(Ordering::Relaxed) {
                self.close();
            }
            self.collect_events();
            if let Some(ready) = self.ready.pop_front() {
                return Some(ready);
            }
            if self.watcher.is_closed() {
                return None;
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return None;
            }
            let Some(rx) = &self.rx else {
                match self.watcher.poll_transmit(now) {
                    Some(request) => {
                        let (tx, rx) = sync_channel(16);
                        let cluster = self.cluster.clone();
                        let spawned = std::thread::Builder::new()
                            .name("kubewire-watch".into())
                            .spawn(move || match cluster.open_stream(request) {
                                Ok(response) => pump(&tx, response),
                                Err(e) => {
                                    let _ = tx.send(Msg::Failed(e));
                                }
                            });
                        if let Err(e) = spawned {
                            self.watcher.handle_failure(
                                now,
                                Error::Transport {
                                    kind: TransportErrorKind::Io,
                                    message: e.to_string(),
                                },
                            );
                            continue;
                        }
                        self.rx = Some(rx);
                    }
                    None => {
                        let at = self.watcher.poll_timeout()?;
                        let until = deadline.map_or(at, |d| d.min(at));
                        std::thread::sleep(until.saturating_duration_since(now).min(STOP_POLL));
                    }
                }
                continue;
            };
            let wait = deadline.map_or(STOP_POLL, |d| {
                d.saturating_duration_since(now).min(STOP_POLL)
            });
            let msg = match rx.recv_timeout(wait) {
                Ok(m) => m,
                // Look at the stop handle and the deadline again.
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => Msg::End(false),
            };
            let now = Instant::now();
            match msg {
                Msg::Head(status, headers) => self.watcher.handle_head(status, &headers),
                Msg::Chunk(bytes) => {
                    if !self.watcher.handle_body(&bytes) {
                        self.rx = None;
                        self.watcher.handle_end(now, false);
                    }
                }
                Msg::End(complete) => {
                    self.rx = None;
                    self.watcher.handle_end(now, complete);
                }
                Msg::Failed(e) => {
                    self.rx = None;
                    self.watcher.handle_failure(now, e);
                }
            }
        }
    }
}

impl<T: Transport + std::fmt::Debug, I: ViewItem + Clone> Iterator for WatchIter<T, I> {
    type Item = Result<ViewEvent<T, I>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step(None)
    }
}
