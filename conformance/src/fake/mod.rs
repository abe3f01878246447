//! A stateful in-memory apiserver for tests.
//!
//! [`FakeApiserver`] keeps objects in memory and answers the requests
//! clients send most as kube-apiserver v1.36.2 answers them: discovery,
//! get, list (selectors, `limit`/`continue`, `resourceVersion`), watch
//! (bookmarks, `sendInitialEvents`, `410 Expired` after a compaction the
//! test asks for), create, replace, the three patch formats, server-side
//! apply, the `status` and `scale` subresources, delete (finalizers,
//! propagation to owned objects, namespaces) and delete-collection. Every
//! built-in kind is served, and a created CustomResourceDefinition serves
//! its resource. Errors are `Status` objects worded as the recordings in
//! `fixtures/recorded/` show; what it does not model answers a `501`
//! naming it.
//!
//! It serves on 127.0.0.1 ([`FakeApiserver::start`]) or in process, as a
//! [`kubewire::Transport`] and [`kubewire::AsyncTransport`] with no socket.
//!
//! ```
//! use kubewire::{Cluster, Config};
//! use kubewire_conformance::fake::FakeApiserver;
//!
//! let fake = FakeApiserver::new();
//! fake.seed_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: web-0, namespace: demo, labels: {app: web}}\nspec: {containers: [{name: app, image: nginx}]}\n")?;
//! let cluster = Cluster::with_transport(Config::new("http://fake.invalid")?, fake.clone());
//! let pod = cluster.pods().fetch("web-0", Some("demo"))?;
//! assert_eq!(pod.meta().name(), "web-0");
//! let web = cluster.pods().namespace("demo")?.filter(Some("app=web"), None)?.list()?;
//! assert_eq!(web.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod catalog;
pub mod check;
mod fields;
mod patch;
mod reads;
mod recorded;
mod route;
mod selector;
mod serve;
mod status;
mod store;
mod timer;
mod transport;
mod verbs;
mod watch;
mod writers;
mod writes;

use std::collections::VecDeque;
use std::hash::RandomState;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kubewire::model::Timestamp;
use serde_json::{Value, json};

pub use transport::FakeBody;

use crate::fixture::Fixture;
use crate::listener::{Listener, lock};
use catalog::Catalog;
use store::Store;

/// A failure the test asks for, served instead of (or around) the next
/// requests' answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `429 TooManyRequests` with this `Retry-After` in seconds.
    TooManyRequests {
        /// Seconds the client is told to wait.
        retry_after: u64,
    },
    /// `503 ServiceUnavailable`.
    Unavailable,
    /// `401 Unauthorized`, as an unknown or expired token is answered.
    Unauthorized,
    /// `403 Forbidden`, worded as RBAC refuses `user` the request's verb
    /// on its resource (`pods is forbidden: User "…" cannot list resource
    /// "pods" in API group "" in the namespace "demo"`).
    Forbidden {
        /// The user named in the refusal
        /// (`system:serviceaccount:demo:nobody`).
        user: String,
    },
    /// A watch is cut (the connection closes, no final chunk) once it has
    /// sent what it had at the start. Requests that are not watches pass.
    CutWatch,
    /// The answer is sent after this delay.
    Slow(Duration),
}

/// When the fake's controllers run: namespace finalization (a deleted
/// namespace goes once it is empty) and the garbage collector's part of a
/// foreground deletion (the dependents go, then the owner).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Controllers {
    /// Right after the write that made the work (the default).
    #[default]
    Immediate,
    /// Only when the test calls [`FakeApiserver::run_controllers`]: a
    /// deleted namespace stays `Terminating`, and an object deleted in the
    /// foreground keeps its dependents and its `foregroundDeletion`
    /// finalizer, until then.
    Manual,
}

/// Seeding failed: why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedError(pub String);

impl std::error::Error for SeedError {}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot seed the fake apiserver: {}", self.0)
    }
}

#[derive(Debug)]
pub(crate) struct State {
    catalog: Catalog,
    store: Store,
    faults: VecDeque<(Fault, u32)>,
    controllers: Controllers,
    uids: u64,
    requests: u64,
    writers: writers::Script,
}

/// What every handle shares: the state and the watchers' wake-ups.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    wakers: Mutex<Vec<Waker>>,
    stop: Arc<AtomicBool>,
    hasher: RandomState,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Wakes every watcher, blocking and async.
    fn notify(&self) {
        self.changed.notify_all();
        for w in std::mem::take(&mut *lock(&self.wakers)) {
            w.wake();
        }
    }
}

/// A stateful in-memory apiserver. Clones share the same state; the
/// loopback listener (when started) stops when the handle that started it
/// is dropped.
#[derive(Clone, Debug)]
pub struct FakeApiserver {
    shared: Arc<Shared>,
    listener: Option<Arc<Mutex<Listener>>>,
}

/// The version document `/version` answers.
fn version_document() -> Value {
    json!({"major": "1", "minor": "36", "emulationMajor": "1", "emulationMinor": "36",
        "minCompatibilityMajor": "1", "minCompatibilityMinor": "35", "gitVersion": "v1.36.2",
        "gitCommit": "8e16b12fda5b1dccc41a6de48b3e356cc7d5048b", "gitTreeState": "clean",
        "buildDate": "2026-08-21T11:29:11Z", "goVersion": "go1.27.3", "compiler": "gc",
        "platform": "linux/amd64"})
}

/// RFC 3339 in whole seconds, UTC, as `metav1.Time` is written.
fn timestamp(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Timestamp::from_system_time(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// A MicroTime with an offset, in UTC as the apiserver stores it:
/// `2026-12-01T05:00:00.123456+01:00` is `2026-12-01T04:00:00.123456Z`.
fn in_utc(text: &str) -> Option<String> {
    text.parse::<Timestamp>().ok().map(|t| t.micro_time())
}

impl Default for FakeApiserver {
    fn default() -> Self {
        FakeApiserver::new()
    }
}

impl FakeApiserver {
    /// An apiserver with the namespaces a new cluster has (`default`,
    /// `kube-system`, `kube-public`, `kube-node-lease`), served in process
    /// (as a transport) until [`FakeApiserver::start`] or
    /// [`FakeApiserver::listen`] puts it on a socket.
    pub fn new() -> FakeApiserver {
        let fake = FakeApiserver {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    catalog: Catalog::builtins(),
                    store: Store::new(1),
                    faults: VecDeque::new(),
                    controllers: Controllers::Immediate,
                    uids: 0,
                    requests: 0,
                    writers: writers::Script::default(),
                }),
                changed: Condvar::new(),
                wakers: Mutex::new(Vec::new()),
                stop: Arc::new(AtomicBool::new(false)),
                hasher: RandomState::new(),
            }),
            listener: None,
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            fake.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
                .expect("a namespace seeds");
        }
        fake
    }

    /// A new apiserver listening on an ephemeral 127.0.0.1 port.
    pub fn start() -> io::Result<FakeApiserver> {
        FakeApiserver::new().listen("127.0.0.1:0".parse().expect("a socket address"))
    }

    /// Serves this apiserver's state on `addr` (loopback only).
    pub fn listen(mut self, addr: SocketAddr) -> io::Result<FakeApiserver> {
        let shared = self.shared.clone();
        let server = FakeApiserver {
            shared: self.shared.clone(),
            listener: None,
        };
        let listener = Listener::start(addr, "fake-apiserver", shared.stop.clone(), move |s| {
            serve::connection(s, &server)
        })?;
        self.listener = Some(Arc::new(Mutex::new(listener)));
        Ok(self)
    }

    /// The listening address.
    ///
    /// # Panics
    /// When the fake was not started on a socket.
    pub fn addr(&self) -> SocketAddr {
        let listener = self
            .listener
            .as_ref()
            .expect("FakeApiserver::start was not called");
        lock(listener).addr()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Stores objects from YAML or JSON (several documents allowed) as
    /// they are, filling in what the server would (uid, creation time,
    /// resourceVersion) and creating missing namespaces. A numeric
    /// `resourceVersion` is kept, and later writes are numbered after it.
    pub fn seed_yaml(&self, text: &str) -> Result<(), SeedError> {
        let manifests =
            kubewire::Manifest::from_yaml(text).map_err(|e| SeedError(e.to_string()))?;
        for m in manifests {
            self.seed(m.value().clone())?;
        }
        Ok(())
    }

    /// Stores one object (see [`FakeApiserver::seed_yaml`]).
    pub fn seed(&self, object: Value) -> Result<(), SeedError> {
        let mut state = self.shared.lock();
        let result = verbs::seed(&mut state, &self.shared.hasher, object);
        drop(state);
        self.shared.notify();
        result.map_err(SeedError)
    }

    /// Seeds the state a recorded fixture started from: the namespaces its
    /// requests name, each object as its answers first show it (an object
    /// first seen being deleted as it was before; one the fixture creates
    /// not at all), and bare objects for those only a path names (a pod's
    /// `log`, a `scale`). Replaying the fixture's requests then meets state
    /// like the recording's.
    pub fn seed_fixture(&self, fixture: &Fixture) -> Result<(), SeedError> {
        recorded::seed_from(self, fixture)
            .map(drop)
            .map_err(SeedError)
    }

    /// Makes, while the test runs, the writes other clients made while
    /// `fixture` was recorded: each change its watches show that its own
    /// requests did not make (a kubelet's status updates, a controller's
    /// scaling, another user's pod). Each is made once the client reaches
    /// the point where the recording saw it: it has opened the watch that
    /// showed it, and its own writes numbered before it are answered. The
    /// object is stored as recorded, numbered with the recorded
    /// resourceVersion unless the fake is past it; an update or deletion of
    /// an object the fake no longer has is not made. Returns how many
    /// writes were scheduled. The client's progress counts from this call
    /// on (and from the next scheduling, once every scheduled write is
    /// made).
    ///
    /// With [`FakeApiserver::seed_fixture`], a watch the recording shows
    /// then sees the events the recording shows.
    pub fn replay_writers(&self, fixture: &Fixture) -> usize {
        let writes = writers::replayed(fixture);
        let n = writes.len();
        self.shared.lock().writers.schedule(writes);
        n
    }

    /// Stores `object` as another client would (created, or replacing the
    /// stored one) once the fake has answered `requests` requests in all:
    /// a CustomResourceDefinition that appears between two discovery
    /// reads, a pod a controller makes after the client's first list.
    /// Writes scheduled earlier are made first.
    pub fn write_after(&self, requests: u64, object: Value) {
        let mut state = self.shared.lock();
        state
            .writers
            .schedule([writers::Write::after_requests(requests, object)]);
        // Already due: made now rather than at the next request.
        writers::run_due(&mut state, &self.shared);
        drop(state);
        self.shared.notify();
    }

    /// The object `name` of `apiVersion`/`kind` (in `namespace`, `""` for
    /// a cluster-scoped kind), as stored.
    pub fn get(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let state = self.shared.lock();
        let t = state.catalog.by_kind(api_version, kind)?;
        let key = (t.storage(), namespace.to_string(), name.to_string());
        state.store.get(&key).map(|o| (**o).clone())
    }

    /// Numbers the next write after `rv` at least (to continue a
    /// recording's resourceVersions, say).
    pub fn advance_to(&self, rv: u64) {
        self.shared.lock().store.advance(rv);
    }

    /// The newest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.lock().store.rv()
    }

    /// Forgets all history, as an etcd compaction does: a watch from any
    /// resourceVersion handed out so far, or a continue token, answers
    /// `410 Expired`; lists from now on are unaffected.
    pub fn compact(&self) {
        self.shared.lock().store.compact();
    }

    /// Sends a `BOOKMARK` to every watch that asked for bookmarks.
    pub fn bookmark(&self) {
        self.shared.lock().store.bookmark();
        self.shared.notify();
    }

    /// Serves `fault` for the next `n` requests it applies to.
    pub fn inject(&self, fault: Fault, n: u32) {
        self.shared.lock().faults.push_back((fault, n));
    }

    /// Chooses when controllers run (see [`Controllers`]).
    pub fn set_controllers(&self, mode: Controllers) {
        self.shared.lock().controllers = mode;
    }

    /// Runs the controllers now: the garbage collector finishes foreground
    /// deletions (dependents deleted, then the owner), and terminating
    /// namespaces that are empty go.
    pub fn run_controllers(&self) {
        let mut state = self.shared.lock();
        verbs::outside_request(
            &mut state,
            &self.shared,
            "kube-controller-manager",
            writes::collect_garbage,
        );
        verbs::finalize_namespaces(&mut state);
        drop(state);
        self.shared.notify();
    }

    /// How many requests it has answered.
    pub fn requests(&self) -> u64 {
        self.shared.lock().requests
    }

    /// Answers one request.
    pub(crate) fn handle(&self, request: &crate::matching::ActualRequest) -> Answer {
        let answer = {
            let mut state = self.shared.lock();
            state.requests += 1;
            let answer = verbs::handle(&mut state, &self.shared, request);
            writers::after_request(&mut state, &self.shared, request, answer.status);
            answer
        };
        self.shared.notify();
        answer
    }

    /// Stops the listener (if any) and every watch.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.notify();
        if let Some(l) = &self.listener {
            lock(l).shutdown();
        }
    }
}

impl Drop for FakeApiserver {
    fn drop(&mut self) {
        if let Some(l) = self.listener.take()
            && Arc::strong_count(&l) == 1
        {
            self.shared.stop.store(true, Ordering::Relaxed);
            self.shared.notify();
            lock(&l).shutdown();
        }
    }
}

/// An answer: status, headers, and a whole body or a watch stream.
#[derive(Debug)]
pub(crate) struct Answer {
    /// HTTP status.
    pub(crate) status: u16,
    /// Headers (lower-case names), without framing headers.
    pub(crate) headers: Vec<(String, String)>,
    /// The body.
    pub(crate) body: AnswerBody,
    /// How long to wait before answering (an injected [`Fault::Slow`]).
    pub(crate) delay: Duration,
}

/// An answer's body.
#[derive(Debug)]
pub(crate) enum AnswerBody {
    /// All of it.
    Full(Vec<u8>),
    /// A watch: events as they happen.
    Watch(Box<watch::WatchStream>),
}

impl Answer {
    fn json(status: u16, body: &Value) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: AnswerBody::Full(serde_json::to_vec(body).unwrap_or_default()),
            delay: Duration::ZERO,
        }
    }

    fn failure(f: status::Failure) -> Answer {
        match f.body {
            Some(body) => Answer::json(f.code, &body),
            None => Answer {
                status: f.code,
                headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
                body: AnswerBody::Full(b"404 page not found\n".to_vec()),
                delay: Duration::ZERO,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_seconds() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_239_777);
        assert_eq!(timestamp(t), "2026-11-21T05:42:57Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(leap), "2000-02-29T00:00:00Z");
        assert_eq!(
            in_utc("2026-12-01T05:00:00.123456+01:00").as_deref(),
            Some("2026-12-01T04:00:00.123456Z")
        );
        assert_eq!(
            in_utc("2026-12-31T23:30:00.000000-01:00").as_deref(),
            Some("2027-01-01T00:30:00.000000Z")
        );
    }
}
