//! Leases served from memory, as the apiserver serves them: create,
//! read, replace with the `resourceVersion` precondition (`409 Conflict`
//! worded as recorded), `404` for a missing one. It is a transport (blocking
//! and async, no socket), so elections run through the whole client; and a
//! plain function from request to answer, for simulations with their own
//! clock. Faults on demand: the next writes refused with `409`.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use kubewire::{BoxFuture, RequestKind};
use serde_json::{Value, json};

#[derive(Debug, Default)]
struct State {
    leases: BTreeMap<(String, String), Value>,
    version: u64,
    conflicts: u32,
}

/// Leases in memory. Clones share them.
#[derive(Clone, Debug, Default)]
pub struct LeaseServer {
    state: Arc<Mutex<State>>,
}

fn status(code: u16, reason: &str, message: String, name: &str) -> Response<Bytes> {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason,
        "details": {"name": name, "group": "coordination.k8s.io", "kind": "leases"},
        "code": code,
    });
    answer(code, &body)
}

fn answer(code: u16, body: &Value) -> Response<Bytes> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_string()))
        .expect("a valid response")
}

impl LeaseServer {
    /// No leases yet.
    pub fn new() -> LeaseServer {
        LeaseServer::default()
    }

    /// The next `n` writes (create or replace) are refused with `409`.
    pub fn refuse_next_writes(&self, n: u32) {
        self.lock().conflicts += n;
    }

    /// The Lease `namespace/name`, if any.
    pub fn lease(&self, namespace: &str, name: &str) -> Option<Value> {
        self.lock()
            .leases
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        crate::listener::lock(&self.state)
    }

    /// Answers one request for
    /// `/apis/coordination.k8s.io/v1/namespaces/NS/leases[/NAME]`.
    pub fn handle(&self, request: &Request<Bytes>) -> Response<Bytes> {
        let path: Vec<&str> = request.uri().path().trim_matches('/').split('/').collect();
        let (namespace, name) = match path.as_slice() {
            [
                "apis",
                "coordination.k8s.io",
                "v1",
                "namespaces",
                ns,
                "leases",
                rest @ ..,
            ] if rest.len() <= 1 => (*ns, rest.first().copied()),
            _ => {
                return status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource".into(),
                    "",
                );
            }
        };
        let body: Option<Value> = serde_json::from_slice(request.body()).ok();
        let mut state = self.lock();
        let key = |name: &str| (namespace.to_string(), name.to_string());
        let not_found = |name: &str| {
            status(
                404,
                "NotFound",
                format!("leases.coordination.k8s.io {name:?} not found"),
                name,
            )
        };
        let conflict = |name: &str| {
            status(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on leases.coordination.k8s.io {name:?}: the object has been modified; please apply your changes to the latest version and try again"
                ),
                name,
            )
        };
        let version = |l: &Value| l.pointer("/metadata/resourceVersion").cloned();
        match (request.method().as_str(), name, body) {
            ("GET", Some(name), _) => match state.leases.get(&key(name)) {
                Some(lease) => answer(200, lease),
                None => not_found(name),
            },
            ("POST", None, Some(mut lease)) => {
                let name = lease
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if state.conflicts > 0 || state.leases.contains_key(&key(&name)) {
                    state.conflicts = state.conflicts.saturating_sub(1);
                    return status(
                        409,
                        "AlreadyExists",
                        format!("leases.coordination.k8s.io {name:?} already exists"),
                        &name,
                    );
                }
                state.version += 1;
                lease["metadata"]["resourceVersion"] = json!(state.version.to_string());
                lease["metadata"]["namespace"] = json!(namespace);
                state.leases.insert(key(&name), lease.clone());
                answer(201, &lease)
            }
            ("PUT", Some(name), Some(mut lease)) => {
                let Some(current) = state.leases.get(&key(name)) else {
                    return not_found(name);
                };
                let stale = version(&lease).is_some_and(|v| Some(v) != version(current));
                if state.conflicts > 0 || stale {
                    state.conflicts = state.conflicts.saturating_sub(1);
                    return conflict(name);
                }
                state.version += 1;
                lease["metadata"]["resourceVersion"] = json!(state.version.to_string());
                state.leases.insert(key(name), lease.clone());
                answer(200, &lease)
            }
            (method, _, _) => status(
                405,
                "MethodNotAllowed",
                format!("{method} is not served here"),
                name.unwrap_or_default(),
            ),
        }
    }
}

impl kubewire::Transport for LeaseServer {
    type Body = Cursor<Bytes>;

    fn send(
        &self,
        request: Request<Bytes>,
        _kind: RequestKind,
    ) -> kubewire::Result<Response<Cursor<Bytes>>> {
        Ok(self.handle(&request).map(Cursor::new))
    }
}

/// An answer already in memory, read asynchronously.
#[derive(Debug)]
pub struct MemoryBody(Cursor<Bytes>);

impl futures_io::AsyncRead for MemoryBody {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(std::io::Read::read(&mut self.get_mut().0, buf))
    }
}

impl kubewire::AsyncTransport for LeaseServer {
    type Body = MemoryBody;

    fn send(
        &self,
        request: Request<Bytes>,
        _kind: RequestKind,
    ) -> BoxFuture<'_, kubewire::Result<Response<MemoryBody>>> {
        let response = self.handle(&request).map(|b| MemoryBody(Cursor::new(b)));
        Box::pin(std::future::ready(Ok(response)))
    }
}
