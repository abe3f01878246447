//! Dispatch: a request's route and method to the verb that answers it,
//! with the injected faults in front; and what every verb shares (the
//! request context, keys, uids, names, seeding).

use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::catalog::ResourceType;
use super::route::{self, Route};
use super::status::Failure;
use super::store::Key;
use super::{Answer, AnswerBody, Fault, Shared, State, reads, timestamp, writes};
use crate::matching::ActualRequest;

/// One request being answered.
pub(crate) struct Ctx<'a> {
    pub(crate) state: &'a mut State,
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) req: &'a ActualRequest,
    /// The time written into objects.
    pub(crate) now: String,
    /// The field manager (`fieldManager`, else the user agent's first word).
    pub(crate) manager: String,
    /// An injected cut applies to this request (if it is a watch).
    pub(crate) cut: bool,
}

impl Ctx<'_> {
    /// A query parameter.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        param(&self.req.query, name)
    }

    /// `dryRun=All`.
    pub(crate) fn dry_run(&self) -> bool {
        self.query("dryRun") == Some("All")
    }

    /// A new uid.
    pub(crate) fn uid(&mut self) -> String {
        uid(self.state, &self.shared.hasher)
    }

    /// The request body as JSON, or the apiserver's 400.
    pub(crate) fn body(&self) -> Result<Value, Failure> {
        serde_json::from_slice(&self.req.body).map_err(|e| {
            Failure::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })
    }
}

/// A uid in the apiserver's form (a version-4 UUID).
pub(crate) fn uid(state: &mut State, hasher: &impl BuildHasher) -> String {
    state.uids += 1;
    let a = hasher.hash_one(state.uids);
    let b = hasher.hash_one(!state.uids);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// A `generateName` suffix: five characters of the apiserver's alphabet.
pub(crate) fn suffix(state: &mut State, hasher: &impl BuildHasher) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    state.uids += 1;
    let mut h = hasher.hash_one(state.uids);
    (0..5)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize];
            h /= ALPHABET.len() as u64;
            c as char
        })
        .collect()
}

/// The store key of an object of `t`.
pub(crate) fn key(t: &ResourceType, namespace: &str, name: &str) -> Key {
    let ns = if t.namespaced { namespace } else { "" };
    (t.storage(), ns.to_string(), name.to_string())
}

/// The key of a namespace.
pub(crate) fn namespace_key(name: &str) -> Key {
    ("/namespaces".into(), String::new(), name.to_string())
}

/// `object` as served at `t`'s version.
pub(crate) fn output(t: &ResourceType, object: &Value) -> Value {
    let mut o = object.clone();
    o["apiVersion"] = json!(t.api_version());
    o["kind"] = json!(t.kind);
    o
}

/// Runs `work` as a controller or another client would, outside any
/// request: its writes are made by `manager`, at the current time.
pub(crate) fn outside_request(
    state: &mut State,
    shared: &Arc<Shared>,
    manager: &str,
    work: impl FnOnce(&mut Ctx<'_>),
) {
    let req = ActualRequest {
        method: "PATCH".into(),
        path: String::new(),
        query: Vec::new(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    work(&mut Ctx {
        state,
        shared,
        req: &req,
        now: timestamp(SystemTime::now()),
        manager: manager.into(),
        cut: false,
    });
}

/// A JSON string's text (`""` when it is not one).
pub(crate) fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// A query parameter of `query`.
pub(crate) fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Whether a request is a watch (`GET` with `watch=true` or `watch=1`).
pub(crate) fn is_watch(method: &str, query: &[(String, String)]) -> bool {
    method == "GET"
        && query
            .iter()
            .any(|(k, v)| k == "watch" && (v == "true" || v == "1"))
}

/// Answers one request.
pub(crate) fn handle(state: &mut State, shared: &Arc<Shared>, req: &ActualRequest) -> Answer {
    let route = route::resolve(&state.catalog, &req.path);
    let is_watch = is_watch(&req.method, &req.query);
    let mut delay = Duration::ZERO;
    let mut cut = false;
    if let Some((fault, left)) = state.faults.front_mut()
        && (*fault != Fault::CutWatch || is_watch)
    {
        let fault = fault.clone();
        *left = left.saturating_sub(1);
        if *left == 0 {
            state.faults.pop_front();
        }
        match fault {
            Fault::TooManyRequests { retry_after } => {
                let mut a = Answer::failure(Failure::too_many_requests(retry_after));
                a.headers
                    .push(("retry-after".into(), retry_after.to_string()));
                return a;
            }
            Fault::Unavailable => return Answer::failure(Failure::unavailable()),
            Fault::Unauthorized => return Answer::failure(Failure::unauthorized()),
            Fault::Forbidden { user } => {
                return Answer::failure(forbidden(&route, req, is_watch, &user));
            }
            Fault::CutWatch => cut = true,
            Fault::Slow(d) => delay = d,
        }
    }
    let manager = req
        .query
        .iter()
        .find(|(k, _)| k == "fieldManager")
        .map(|(_, v)| v.clone())
        .or_else(|| {
            req.header("user-agent")
                .and_then(|ua| ua.split(['/', ' ']).next())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".into());
    let mut ctx = Ctx {
        state,
        shared,
        req,
        now: timestamp(SystemTime::now()),
        manager,
        cut,
    };
    let mut answer = match route {
        Err(f) => Answer::failure(f),
        Ok(route) => dispatch(&mut ctx, route, is_watch).unwrap_or_else(Answer::failure),
    };
    answer.delay = delay;
    answer
}

fn dispatch(ctx: &mut Ctx<'_>, route: Route, is_watch: bool) -> Result<Answer, Failure> {
    let method = ctx.req.method.as_str();
    let target = match route {
        Route::Resource(target) => target,
        discovery if method == "GET" => return Ok(reads::discovery(ctx, discovery)),
        _ => return Err(Failure::page_not_found()),
    };
    if let Some(sub) = target.sub.as_deref()
        && !["status", "scale", "finalize", "log"].contains(&sub)
    {
        return Err(Failure::not_implemented(&format!(
            "the {}/{sub} subresource (there is no kubelet or controller behind it)",
            target.t.plural
        )));
    }
    let Some(verb) = verb(method, target.name.is_some(), is_watch) else {
        return Err(Failure::method_not_allowed(&target.t, method));
    };
    if target.sub.is_none() && !target.t.allows(verb) {
        return Err(Failure::method_not_allowed(&target.t, verb));
    }
    match verb {
        "watch" => reads::watch(ctx, &target),
        "list" => reads::list(ctx, &target),
        "get" => reads::get(ctx, &target),
        "create" => writes::create(ctx, &target),
        "update" => writes::replace(ctx, &target),
        "patch" => writes::patch(ctx, &target),
        "delete" => writes::delete(ctx, &target),
        _ => writes::delete_collection(ctx, &target),
    }
}

/// The authorization verb of a request on a resource (`None`: a method
/// the apiserver does not route there).
fn verb(method: &str, named: bool, is_watch: bool) -> Option<&'static str> {
    Some(match (method, named) {
        ("GET", false) if is_watch => "watch",
        ("GET", false) => "list",
        ("GET", true) => "get",
        ("POST", false) => "create",
        ("PUT", true) => "update",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => return None,
    })
}

/// RBAC's refusal of `req` for `user` (see [`Failure::forbidden`]).
fn forbidden(
    route: &Result<Route, Failure>,
    req: &ActualRequest,
    is_watch: bool,
    user: &str,
) -> Failure {
    match route {
        Ok(Route::Resource(target)) => {
            let verb = verb(&req.method, target.name.is_some(), is_watch).unwrap_or(&req.method);
            Failure::forbidden(user, verb, Some(target), &req.path)
        }
        _ => Failure::forbidden(user, &req.method.to_lowercase(), None, &req.path),
    }
}

/// A JSON answer.
pub(crate) fn ok(status: u16, body: &Value) -> Answer {
    Answer::json(status, body)
}

/// An answer with no body.
pub(crate) fn empty(status: u16) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: AnswerBody::Full(Vec::new()),
        delay: Duration::ZERO,
    }
}

/// Stores `object` as it is, filling in what the server would.
pub(crate) fn seed(
    state: &mut State,
    hasher: &impl BuildHasher,
    mut object: Value,
) -> Result<(), String> {
    let api_version = object["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kind = object["kind"].as_str().unwrap_or_default().to_string();
    let t = state
        .catalog
        .by_kind(&api_version, &kind)
        .cloned()
        .ok_or_else(|| {
            format!("no served type has apiVersion {api_version:?} and kind {kind:?}")
        })?;
    let name = object["metadata"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("a {kind} without metadata.name"))?
        .to_string();
    let namespace = if t.namespaced {
        let ns = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        object["metadata"]["namespace"] = json!(ns);
        if state.store.get(&namespace_key(&ns)).is_none() {
            seed(
                state,
                hasher,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )?;
        }
        ns
    } else {
        String::new()
    };
    let meta = &mut object["metadata"];
    if meta["uid"].is_null() {
        meta["uid"] = json!(uid(state, hasher));
    }
    let meta = &mut object["metadata"];
    if meta["creationTimestamp"].is_null() {
        meta["creationTimestamp"] = json!(timestamp(SystemTime::now()));
    }
    if kind == "Namespace" && api_version == "v1" {
        object["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
        if object["spec"].is_null() {
            object["spec"] = json!({"finalizers": ["kubernetes"]});
        }
        if object["status"].is_null() {
            object["status"] = json!({"phase": "Active"});
        }
    }
    if t.kind == "CustomResourceDefinition" {
        state.catalog.add_crd(&object);
    }
    state.store.seed(key(&t, &namespace, &name), object);
    Ok(())
}

/// Terminating namespaces with nothing left in them go.
pub(crate) fn finalize_namespaces(state: &mut State) {
    let terminating: Vec<String> = state
        .store
        .all()
        .filter(|(k, v)| k.0 == "/namespaces" && v["status"]["phase"] == "Terminating")
        .map(|(k, _)| k.2.clone())
        .collect();
    for ns in terminating {
        let empty = !state
            .store
            .all()
            .any(|(k, _)| k.0 != "/namespaces" && k.1 == ns);
        if empty {
            state.store.remove(&namespace_key(&ns));
        }
    }
}
