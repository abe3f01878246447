//! A watch: the events after a resourceVersion that pass its filter, one
//! JSON line each, read blocking or polled (async) until the timeout, the
//! server's stop, or a cut the test injected.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Context;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::selector::{FieldSelector, LabelSelector};
use super::store::Change;
use super::timer::Timer;
use super::{Shared, State};
use crate::http1::POLL;

/// How long before a watch's deadline the apiserver sends its bookmark.
const BOOKMARK_LEAD: Duration = Duration::from_secs(2);

/// Which objects a watch sees.
#[derive(Clone, Debug)]
pub(crate) struct Filter {
    pub(crate) storage: String,
    pub(crate) namespace: Option<String>,
    pub(crate) labels: LabelSelector,
    pub(crate) fields: FieldSelector,
    /// `apiVersion` and `kind` written into events (the version watched).
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) bookmarks: bool,
}

impl Filter {
    /// Whether `object` is in the watch's scope and selected.
    pub(crate) fn matches(&self, object: &Value) -> bool {
        let ns = object["metadata"]["namespace"].as_str().unwrap_or_default();
        self.namespace.as_deref().is_none_or(|n| n == ns)
            && self.labels.matches(object)
            && self.fields.matches(object)
    }

    /// One event line.
    pub(crate) fn line(&self, kind: &str, object: &Value) -> Vec<u8> {
        let mut object = object.clone();
        object["apiVersion"] = json!(self.api_version);
        object["kind"] = json!(self.kind);
        event_line(kind, object)
    }

    /// A `BOOKMARK` at `rv`: an empty object of the kind, as the apiserver
    /// serializes one (a Pod's shows `spec.containers: null`).
    pub(crate) fn bookmark(&self, rv: u64, initial_events_end: bool) -> Vec<u8> {
        let mut object = json!({"kind": self.kind, "apiVersion": self.api_version,
            "metadata": {"resourceVersion": rv.to_string()}});
        if initial_events_end {
            object["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        if self.kind == "Pod" && self.api_version == "v1" {
            object["spec"] = json!({"containers": null});
            object["status"] = json!({});
        }
        event_line("BOOKMARK", object)
    }

    /// The event a change makes for this watch, if any.
    fn event(&self, c: &Change) -> Option<Vec<u8>> {
        if c.is_bookmark() {
            return self.bookmarks.then(|| self.bookmark(c.rv, false));
        }
        if c.key.0 != self.storage {
            return None;
        }
        let was = c.before.as_deref().is_some_and(|b| self.matches(b));
        let (kind, object) = match c.after.as_deref() {
            Some(now) if self.matches(now) => (if was { 1 } else { 0 }, now),
            // Left the selection: the watcher sees it go.
            Some(now) if was => (2, now),
            None if was => (2, c.before.as_deref().expect("a deletion has a before")),
            _ => return None,
        };
        let make = || {
            let mut object = object.clone();
            object["metadata"]["resourceVersion"] = json!(c.rv.to_string());
            self.line(["ADDED", "MODIFIED", "DELETED"][kind], &object)
        };
        // Watchers of the version the object was stored at share one line.
        if object["apiVersion"] == self.api_version.as_str() && object["kind"] == self.kind.as_str()
        {
            return Some(c.lines[kind].get_or_init(make).clone());
        }
        Some(make())
    }
}

/// What a watch has next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Bytes to send (one or more event lines).
    Data(Vec<u8>),
    /// Nothing yet.
    Wait,
    /// The watch is over; `cut` when the connection is to be cut rather
    /// than ended properly.
    End { cut: bool },
}

/// A watch in progress.
#[derive(Debug)]
pub(crate) struct WatchStream {
    shared: Arc<Shared>,
    filter: Filter,
    cursor: u64,
    pending: VecDeque<Vec<u8>>,
    deadline: Option<Instant>,
    /// Whether a bookmark closes the watch at its deadline.
    closing_bookmark: bool,
    cut: bool,
    ended: bool,
    /// Wakes an async reader at the deadline.
    timer: Option<Timer>,
}

impl WatchStream {
    pub(crate) fn new(
        shared: Arc<Shared>,
        filter: Filter,
        cursor: u64,
        initial: Vec<Vec<u8>>,
        timeout: Option<Duration>,
        cut: bool,
    ) -> WatchStream {
        let deadline = timeout.map(|t| Instant::now() + t);
        // The apiserver's watch cache schedules a watcher's bookmark two
        // seconds before its deadline, and none when that is already past
        // (recorded: `timeoutSeconds=3` ends with one, `2` without).
        let closing_bookmark = filter.bookmarks && timeout.is_some_and(|t| t > BOOKMARK_LEAD);
        WatchStream {
            shared,
            filter,
            cursor,
            pending: initial.into(),
            deadline,
            closing_bookmark,
            cut,
            ended: false,
            timer: deadline.map(Timer::at),
        }
    }

    /// The next step, given the locked state.
    fn step(&mut self, state: &State) -> Next {
        if self.ended {
            return Next::End { cut: self.cut };
        }
        if !self.pending.is_empty() {
            return Next::Data(self.pending.drain(..).flatten().collect());
        }
        if self.cut {
            self.ended = true;
            return Next::End { cut: true };
        }
        if self.shared.stop.load(std::sync::atomic::Ordering::Relaxed) {
            self.ended = true;
            return Next::End { cut: false };
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            // A client can resume from where a timed-out watch ends.
            self.ended = true;
            if self.closing_bookmark {
                return Next::Data(self.filter.bookmark(state.store.rv(), false));
            }
            return Next::End { cut: false };
        }
        match state.store.since(self.cursor) {
            Ok(changes) => {
                let mut out = Vec::new();
                for c in changes {
                    if let Some(line) = self.filter.event(c) {
                        out.extend_from_slice(&line);
                    }
                    self.cursor = c.rv;
                }
                if out.is_empty() {
                    Next::Wait
                } else {
                    Next::Data(out)
                }
            }
            Err(compacted) => {
                self.ended = true;
                Next::Data(expired_line(self.cursor, compacted.oldest))
            }
        }
    }

    /// Blocks until there is something: data, or the end.
    pub(crate) fn next_blocking(&mut self) -> Next {
        let shared = self.shared.clone();
        let mut state = shared.lock();
        loop {
            match self.step(&state) {
                Next::Wait => {
                    let mut wait = POLL;
                    if let Some(d) = self.deadline {
                        wait = wait.min(d.saturating_duration_since(Instant::now()));
                    }
                    state = shared
                        .changed
                        .wait_timeout(state, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                other => return other,
            }
        }
    }

    /// Polls: data or the end, or `Wait` with the task's waker registered.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Next {
        let shared = self.shared.clone();
        let state = shared.lock();
        let next = self.step(&state);
        if next == Next::Wait {
            crate::listener::lock(&shared.wakers).push(cx.waker().clone());
            if let Some(timer) = &mut self.timer {
                // Woken at the deadline, when the watch ends.
                let _ = timer.poll(cx);
            }
        }
        next
    }
}

/// One watch event as the line the apiserver writes.
fn event_line(kind: &str, object: Value) -> Vec<u8> {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    line.push(b'\n');
    line
}

/// The `ERROR` event of a watch from a compacted version, as recorded.
pub(crate) fn expired_line(requested: u64, oldest: u64) -> Vec<u8> {
    event_line(
        "ERROR",
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("too old resource version: {requested} ({oldest})"),
            "reason": "Expired", "code": 410}),
    )
}
