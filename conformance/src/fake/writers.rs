//! Other clients' writes, made while a test runs.
//!
//! A recording's watches show writes its own client did not make: a kubelet
//! moving a pod to Ready, the controller-manager scaling and deleting,
//! another user creating a pod. [`replayed`] reads them off a recording,
//! each with the point the client had reached when it was made (the watch
//! that saw it, and the client's own writes numbered before it). The fake
//! makes each one once the client reaches that point again, as the object
//! the recording shows, numbered with the recorded resourceVersion when the
//! fake's clock is not past it. A test can also schedule a write of its
//! own after a number of requests ([`Write::after_requests`]).

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};

use super::recorded::{json_lines, recorded_body, resumes};
use super::store::Key;
use super::verbs::{self, is_watch, param, text};
use super::{Shared, State, writes};
use crate::fixture::{Exchange, Fixture};
use crate::matching::ActualRequest;

/// A watch as the script knows it: path, label selector, field selector.
type WatchKey = (String, String, String);

/// A write of the client's own: method, path, and whether it was a dry run.
type OwnWrite = (String, String, bool);

/// When a scheduled write is due.
#[derive(Clone, Debug)]
enum Due {
    /// Once the fake has answered this many requests in all.
    AfterRequests(u64),
    /// Once the client has opened `nth` watches like `watch` and had each
    /// of its writes in `after` answered (a multiset).
    Replay {
        watch: WatchKey,
        nth: usize,
        after: Vec<OwnWrite>,
    },
}

/// What another client does to one object.
#[derive(Clone, Debug)]
enum Change {
    /// Creates it, or replaces it when it is there.
    Put(Value),
    /// Replaces it; creates it when the fake never had it (first met in a
    /// `MODIFIED`), nothing when the fake deleted it (it got there first).
    Update(Value),
    /// Deletes it, when it is there.
    Delete(Value),
}

/// One write another client makes.
#[derive(Clone, Debug)]
pub(crate) struct Write {
    due: Due,
    /// The recorded resourceVersion, kept when the fake's clock allows.
    rv: Option<u64>,
    change: Change,
}

impl Write {
    /// Stores `object` (created, or replacing the stored one) once the fake
    /// has answered `requests` requests.
    pub(crate) fn after_requests(requests: u64, object: Value) -> Write {
        Write {
            due: Due::AfterRequests(requests),
            rv: None,
            change: Change::Put(object),
        }
    }
}

/// The writes still to make, and what the client has done so far.
#[derive(Debug, Default)]
pub(crate) struct Script {
    pending: VecDeque<Write>,
    watches: Vec<WatchKey>,
    writes: Vec<OwnWrite>,
}

impl Script {
    /// Adds `writes` after those already scheduled.
    pub(crate) fn schedule(&mut self, writes: impl IntoIterator<Item = Write>) {
        self.pending.extend(writes);
    }

    /// Notes what an answered request tells about the client's progress.
    fn observe(&mut self, req: &ActualRequest, status: u16) {
        if is_watch(&req.method, &req.query) {
            self.watches.push(watch_key(&req.path, &req.query));
        } else if req.method != "GET" && (200..300).contains(&status) {
            self.writes
                .push(own_write(&req.method, &req.path, &req.query));
        }
    }

    /// Whether `write` is due after `requests` answered requests.
    fn is_due(&self, write: &Write, requests: u64) -> bool {
        match &write.due {
            Due::AfterRequests(n) => requests >= *n,
            Due::Replay { watch, nth, after } => {
                self.watches.iter().filter(|w| *w == watch).count() >= *nth
                    && after.iter().all(|w| {
                        let needed = after.iter().filter(|a| *a == w).count();
                        self.writes.iter().filter(|a| *a == w).count() >= needed
                    })
            }
        }
    }
}

/// After the fake answered `req` with `status`: notes the client's progress
/// and makes the writes that are due, in order.
pub(crate) fn after_request(
    state: &mut State,
    shared: &Arc<Shared>,
    req: &ActualRequest,
    status: u16,
) {
    if state.writers.pending.is_empty() {
        // Nothing scheduled: the client's progress need not be kept.
        return;
    }
    state.writers.observe(req, status);
    run_due(state, shared);
}

/// Makes the writes that are due, in order.
pub(crate) fn run_due(state: &mut State, shared: &Arc<Shared>) {
    while let Some(write) = state.writers.pending.front() {
        if !state.writers.is_due(write, state.requests) {
            break;
        }
        let write = state.writers.pending.pop_front().expect("a due write");
        make(state, shared, write);
    }
    if state.writers.pending.is_empty() {
        // What the client did counts from the next scheduling on.
        state.writers.watches.clear();
        state.writers.writes.clear();
    }
}

/// Makes one write as another client would have.
fn make(state: &mut State, shared: &Arc<Shared>, write: Write) {
    let (Change::Put(object) | Change::Update(object) | Change::Delete(object)) = &write.change;
    let Some(key) = key_of(state, object) else {
        return;
    };
    let present = state.store.get(&key).is_some();
    match write.change {
        Change::Delete(_) => {
            if present {
                if let Some(rv) = write.rv {
                    state.store.advance(rv.saturating_sub(1));
                }
                verbs::outside_request(state, shared, "kubewire-fake-writer", |ctx| {
                    writes::removed_by_another(ctx, &key);
                });
            }
        }
        // The fake deleted it already (its own garbage collection, say).
        Change::Update(_) if !present && state.store.was_deleted(&key) => {}
        Change::Put(mut object) | Change::Update(mut object) => {
            let rv = write
                .rv
                .unwrap_or_default()
                .max(state.store.rv().saturating_add(1));
            object["metadata"]["resourceVersion"] = json!(rv.to_string());
            // Only a kind the fake serves has a key; seeding it cannot fail.
            let _ = verbs::seed(state, &shared.hasher, object);
        }
    }
}

/// Where `object` is stored, if the fake serves its kind.
fn key_of(state: &State, object: &Value) -> Option<Key> {
    let t = state
        .catalog
        .by_kind(&text(&object["apiVersion"]), &text(&object["kind"]))?;
    let name = text(&object["metadata"]["name"]);
    // As seeding does: a namespaced object without one is in `default`.
    let namespace = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    (!name.is_empty()).then(|| verbs::key(t, namespace, &name))
}

fn watch_key(path: &str, query: &[(String, String)]) -> WatchKey {
    let param = |name| param(query, name).unwrap_or_default().to_string();
    (
        path.to_string(),
        param("labelSelector"),
        param("fieldSelector"),
    )
}

fn own_write(method: &str, path: &str, query: &[(String, String)]) -> OwnWrite {
    (
        method.to_string(),
        path.to_string(),
        param(query, "dryRun") == Some("All"),
    )
}

/// The resourceVersion an answer's object carries.
fn version_of(object: &Value) -> Option<u64> {
    object["metadata"]["resourceVersion"].as_str()?.parse().ok()
}

/// The writes other clients made while `fixture` was recorded: every event
/// its watches show that none of its own writes made (those carry the
/// versions of its own writes' answers), past the initial state a watch
/// without a resourceVersion starts with, in resourceVersion order.
pub(crate) fn replayed(fixture: &Fixture) -> Vec<Write> {
    let own: Vec<(u64, OwnWrite)> = fixture
        .exchanges
        .iter()
        .filter(|e| e.request.method != "GET" && (200..300).contains(&e.response.status))
        .filter_map(|e| {
            let rv = version_of(&recorded_body(e))?;
            let r = &e.request;
            Some((rv, own_write(&r.method, &r.path, &r.query)))
        })
        .collect();
    let mut watches = Vec::new();
    let mut made = BTreeSet::new();
    let mut out = Vec::new();
    for exchange in &fixture.exchanges {
        let r = &exchange.request;
        if !is_watch(&r.method, &r.query) {
            continue;
        }
        let watch = watch_key(&r.path, &r.query);
        watches.push(watch.clone());
        let nth = watches.iter().filter(|w| **w == watch).count();
        for (kind, object) in outside_events(exchange) {
            let Some(rv) = version_of(&object) else {
                continue;
            };
            let m = &object["metadata"];
            let id = (
                rv,
                object["kind"].to_string(),
                m["namespace"].to_string(),
                m["name"].to_string(),
            );
            if own.iter().any(|(r, _)| *r == rv) || !made.insert(id) {
                continue;
            }
            let change = match kind.as_str() {
                "ADDED" => Change::Put(object),
                "MODIFIED" => Change::Update(object),
                _ => Change::Delete(object),
            };
            let after = own
                .iter()
                .filter(|(r, _)| *r < rv)
                .map(|(_, w)| w.clone())
                .collect();
            out.push(Write {
                due: Due::Replay {
                    watch: watch.clone(),
                    nth,
                    after,
                },
                rv: Some(rv),
                change,
            });
        }
    }
    out.sort_by_key(|w| w.rv);
    out
}

/// The changes a recorded watch shows, past the initial state: a watch
/// from no resourceVersion (or with `sendInitialEvents`) starts with an
/// `ADDED` for each object there, up to the `initial-events-end` bookmark
/// when there is one.
fn outside_events(exchange: &Exchange) -> Vec<(String, Value)> {
    let mut initial = !resumes(&exchange.request.query);
    let mut out = Vec::new();
    for mut event in json_lines(&exchange.response.body.bytes()) {
        let kind = text(&event["type"]);
        let object = event["object"].take();
        match kind.as_str() {
            "BOOKMARK"
                if object["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true" =>
            {
                initial = false;
            }
            "ADDED" if initial => {}
            "ADDED" | "MODIFIED" | "DELETED" if object["metadata"]["name"].is_string() => {
                out.push((kind, object));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(name: &str) -> Fixture {
        let path = format!(
            "{}/../fixtures/recorded/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        Fixture::load(std::path::Path::new(&path)).expect("a recorded fixture")
    }

    #[test]
    fn a_recordings_own_writes_are_not_replayed_and_others_wait_for_them() {
        // The DELETE answered 7891: that MODIFIED is the client's own; the
        // controller-manager's writes after it wait for that DELETE.
        let writes = replayed(&recorded("delete-foreground"));
        let versions: Vec<_> = writes.iter().filter_map(|w| w.rv).collect();
        assert_eq!(versions, [7892, 7899, 7900, 7902, 7903]);
        let Due::Replay { nth, after, .. } = &writes[0].due else {
            panic!("a replayed write");
        };
        assert_eq!(*nth, 1);
        assert_eq!(
            after,
            &[(
                "DELETE".to_string(),
                "/apis/apps/v1/namespaces/demo/deployments/brief".to_string(),
                false
            )]
        );
        assert!(matches!(writes[4].change, Change::Delete(_)));
    }

    #[test]
    fn another_clients_pod_is_created_then_changed() {
        let writes = replayed(&recorded("pods-watch"));
        let kinds: Vec<_> = writes
            .iter()
            .map(|w| match w.change {
                Change::Put(_) => "put",
                Change::Update(_) => "update",
                Change::Delete(_) => "delete",
            })
            .collect();
        assert_eq!(kinds, ["put", "update", "update"]);
    }
}
