//! Seeding from a recording: the state a fixture started from, read off
//! its answers.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::FakeApiserver;
use super::catalog::Catalog;
use super::route::{self, Route};
use super::verbs::text;
use crate::fixture::{Exchange, Fixture, ResponseBody};

/// Seeds `fake` with the state `fixture` started from: the namespaces its
/// requests name, each object as it first shows it (unless the fixture
/// creates it), and bare objects for those only a path names (a pod's
/// `log`, a `scale`). Returns the objects seeded from answers.
pub(crate) fn seed_from(fake: &FakeApiserver, fixture: &Fixture) -> Result<Vec<Value>, String> {
    let catalog = Catalog::builtins();
    let shown = objects_in(fixture);
    seed_skeletons(fake, fixture, &catalog, &shown)?;
    let scales = scales_first(fixture, &catalog, &shown);
    let mut seeded = Vec::new();
    for mut object in shown {
        if object["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("apidiscovery.k8s.io"))
        {
            continue;
        }
        if let Some((replicas, writes)) = scales.get(&identity(&object)) {
            object["spec"]["replicas"] = replicas.clone();
            if let Some(g) = object["metadata"]["generation"].as_i64() {
                object["metadata"]["generation"] = json!(g - writes);
            }
        }
        fake.seed(object.clone()).map_err(|e| e.to_string())?;
        seeded.push(object);
    }
    if let Some(first) = first_write(fixture) {
        fake.advance_to(first - 1);
    }
    Ok(seeded)
}

/// A response body as JSON: one value, or a watch's events as an array.
pub(crate) fn parse_body(bytes: &[u8]) -> Value {
    if let Ok(v) = serde_json::from_slice(bytes) {
        return v;
    }
    let lines = json_lines(bytes);
    if lines.is_empty() {
        Value::String(String::from_utf8_lossy(bytes).into_owned())
    } else {
        Value::Array(lines)
    }
}

/// The lines of `bytes` that are JSON values (a watch's events).
pub(crate) fn json_lines(bytes: &[u8]) -> Vec<Value> {
    bytes
        .split(|&b| b == b'\n')
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect()
}

/// A recorded answer's body as JSON (see [`parse_body`]).
pub(crate) fn recorded_body(exchange: &Exchange) -> Value {
    match &exchange.response.body {
        ResponseBody::Json(v) => v.clone(),
        other => parse_body(&other.bytes()),
    }
}

/// The objects a fixture's answers show, each as it first shows it — in a
/// `GET`, a list, a watch or a write's answer — unless the fixture
/// created it (a `201`). `kind` and `apiVersion` are restored on list
/// items; a deletion's marks are taken off an object first seen being
/// deleted, and the write's resourceVersion off one first seen written.
fn objects_in(fixture: &Fixture) -> Vec<Value> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    // The names each whole, unfiltered list showed, by path.
    let mut listed: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for exchange in &fixture.exchanges {
        let response = &exchange.response;
        let created = response.status == 201;
        if !(response.status == 200 || created) {
            continue;
        }
        let mut found = Vec::new();
        for v in json_lines(&response.body.bytes()) {
            if let Some(items) = v["items"].as_array() {
                let q = &exchange.request.query;
                let whole = v["metadata"]["continue"].as_str().is_none_or(str::is_empty)
                    && !q.iter().any(|(k, _)| {
                        ["labelSelector", "fieldSelector", "continue"].contains(&k.as_str())
                    });
                if whole {
                    listed.insert(
                        &exchange.request.path,
                        items
                            .iter()
                            .map(|i| i["metadata"]["name"].clone())
                            .collect(),
                    );
                }
                let kind = v["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .strip_suffix("List")
                    .unwrap_or_default();
                for item in items {
                    let mut item = item.clone();
                    if item["kind"].is_null() {
                        item["kind"] = json!(kind);
                        item["apiVersion"] = v["apiVersion"].clone();
                    }
                    found.push(item);
                }
            } else if v["type"].is_string() && v["object"].is_object() {
                // ADDED from a watch that resumed at a version is an object
                // created during the recording; from a fresh watch it is
                // one of the objects already there.
                let q = &exchange.request.query;
                let resumed = resumes(q);
                let unlisted = listed
                    .get(exchange.request.path.as_str())
                    .is_some_and(|names| !names.contains(&v["object"]["metadata"]["name"]));
                if (v["type"] == "ADDED" || unlisted) && resumed {
                    // Created while the recording ran (or after a whole list
                    // of its kind that lacks it): not part of its start.
                    let o = &v["object"];
                    seen.insert(identity(o));
                } else if v["type"] == "MODIFIED" || v["type"] == "ADDED" {
                    let mut object = v["object"].clone();
                    if resumed
                        && let Some((_, from)) = q.iter().find(|(k, _)| k == "resourceVersion")
                    {
                        // It was there when the watch began; the event is a
                        // change to it that the recording replays.
                        object["metadata"]["resourceVersion"] = json!(from);
                    }
                    found.push(object);
                }
            } else if v["metadata"]["name"].is_string()
                && v["kind"] != "Status"
                && v["kind"] != "Scale"
            {
                found.push(v);
            }
        }
        for mut object in found {
            let id = identity(&object);
            if id.0.is_empty() || id.2.is_empty() || !seen.insert(id) || created {
                continue;
            }
            if object["metadata"]["deletionTimestamp"].is_string() {
                undo_deletion(&mut object);
            }
            if exchange.request.method == "PATCH" {
                undo_patch(&mut object, exchange);
            }
            if exchange.request.method != "GET" {
                // Its version is the write's; the fixture writes it again.
                object["metadata"]
                    .as_object_mut()
                    .map(|m| m.remove("resourceVersion"));
            }
            out.push(object);
        }
    }
    out
}

/// An object first seen in a patch's answer, with what the patch set taken
/// off again (what it held before is unknown; absent is the guess that
/// makes the recorded write a change again).
fn undo_patch(object: &mut Value, exchange: &Exchange) {
    fn strip(object: &mut Value, patch: &Value) {
        let (Value::Object(o), Value::Object(p)) = (object, patch) else {
            return;
        };
        for (k, v) in p {
            match v {
                Value::Object(_) if o.get(k).is_some_and(Value::is_object) => {
                    if let Some(inner) = o.get_mut(k) {
                        strip(inner, v);
                    }
                }
                Value::Null => {}
                _ => {
                    o.remove(k);
                }
            }
        }
    }
    let Some(body) = exchange.request.body.json() else {
        return;
    };
    let content_type = exchange
        .request
        .headers
        .get("content-type")
        .map(String::as_str)
        .unwrap_or_default();
    if content_type.starts_with("application/json-patch") {
        for op in body
            .as_array()
            .into_iter()
            .flatten()
            .filter(|op| op["op"] == "add")
        {
            let path = op["path"].as_str().unwrap_or_default();
            if let Some((parent, last)) = path.rsplit_once('/')
                && let Some(Value::Object(m)) = object.pointer_mut(parent)
            {
                m.remove(&last.replace("~1", "/").replace("~0", "~"));
            }
        }
    } else if content_type.contains("merge-patch") {
        strip(object, &body);
    }
}

/// Whether a watch with this query resumes at a version (its events are
/// changes) rather than starting with an `ADDED` for each object there.
pub(crate) fn resumes(query: &[(String, String)]) -> bool {
    query
        .iter()
        .any(|(k, v)| k == "resourceVersion" && !v.is_empty() && v != "0")
        && !query
            .iter()
            .any(|(k, v)| k == "sendInitialEvents" && v == "true")
}

/// Kind, namespace and name.
fn identity(object: &Value) -> (String, String, String) {
    (
        text(&object["kind"]),
        text(&object["metadata"]["namespace"]),
        text(&object["metadata"]["name"]),
    )
}

/// An object first seen being deleted, as it was before: the deletion's
/// marks, its finalizers and its generation step taken off.
fn undo_deletion(object: &mut Value) {
    let meta = &mut object["metadata"];
    if let Some(m) = meta.as_object_mut() {
        m.remove("deletionTimestamp");
    }
    if let Some(f) = meta["finalizers"].as_array_mut() {
        f.retain(|f| f != "foregroundDeletion" && f != "orphan");
        if f.is_empty() {
            meta.as_object_mut().map(|m| m.remove("finalizers"));
        }
    }
    let graced = meta
        .as_object_mut()
        .and_then(|m| m.remove("deletionGracePeriodSeconds"))
        .is_some();
    if let Some(g) = meta["generation"].as_i64().filter(|&g| graced && g > 1) {
        meta["generation"] = json!(g - 1);
    }
    if object["status"]["phase"] == "Terminating" {
        object["status"]["phase"] = json!("Active");
    }
}

/// The resourceVersion of the recording's first write: the fixture's own
/// writes are then numbered as they were recorded.
fn first_write(fixture: &Fixture) -> Option<u64> {
    fixture
        .exchanges
        .iter()
        .filter(|e| e.request.method != "GET" && matches!(e.response.status, 200 | 201))
        .filter_map(|e| {
            recorded_body(e)["metadata"]["resourceVersion"]
                .as_str()?
                .parse()
                .ok()
        })
        .min()
}

/// The namespaces the recorded requests name, and the objects only their
/// paths name (a pod's `log`, a `scale`), as bare objects of their kind.
fn seed_skeletons(
    fake: &FakeApiserver,
    fixture: &Fixture,
    catalog: &Catalog,
    shown: &[Value],
) -> Result<(), String> {
    let created = |name: &str| {
        fixture
            .exchanges
            .iter()
            .any(|e| e.response.status == 201 && e.request.path.ends_with(&format!("/{name}")))
            || fixture.exchanges.iter().any(|e| {
                e.request.method == "POST"
                    && e.request
                        .body
                        .json()
                        .is_some_and(|b| b["metadata"]["name"] == name)
            })
    };
    for exchange in &fixture.exchanges {
        let parts: Vec<&str> = exchange.request.path.split('/').collect();
        if let Some(i) = parts.iter().position(|p| *p == "namespaces")
            && let Some(ns) = parts
                .get(i + 1)
                .filter(|ns| parts.len() > i + 2 && !created(ns))
            && fake.get("v1", "Namespace", "", ns).is_none()
        {
            fake.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
                .map_err(|e| e.to_string())?;
        }
        if !(200..300).contains(&exchange.response.status) {
            continue;
        }
        let Ok(Route::Resource(target)) = route::resolve(catalog, &exchange.request.path) else {
            continue;
        };
        let (Some(name), Some(sub)) = (&target.name, &target.sub) else {
            continue;
        };
        let t = &target.t;
        let seen = shown
            .iter()
            .any(|o| o["kind"] == t.kind.as_str() && o["metadata"]["name"] == name.as_str());
        if seen
            || created(name)
            || fake
                .get(
                    &t.api_version(),
                    &t.kind,
                    target.namespace.as_deref().unwrap_or_default(),
                    name,
                )
                .is_some()
        {
            continue;
        }
        let mut object = json!({"apiVersion": t.api_version(), "kind": t.kind,
            "metadata": {"name": name, "namespace": target.namespace}, "spec": {}});
        if sub == "scale" {
            let scale = recorded_body(exchange);
            object["spec"]["replicas"] = scale["spec"]["replicas"].clone();
            object["status"] = json!({"replicas": scale["status"]["replicas"]});
            let selector: serde_json::Map<String, Value> = scale["status"]["selector"]
                .as_str()
                .unwrap_or_default()
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            object["spec"]["selector"] = if t.kind == "ReplicationController" {
                json!(selector)
            } else {
                json!({"matchLabels": selector})
            };
        }
        fake.seed(object).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Replica counts a `Scale` shows before the object itself is shown in
/// full: the object started with them, and with its generation as many
/// steps back as there were writes through the `Scale` before.
fn scales_first(
    fixture: &Fixture,
    catalog: &Catalog,
    shown: &[Value],
) -> BTreeMap<(String, String, String), (Value, i64)> {
    let mut out = BTreeMap::new();
    let mut full: std::collections::BTreeSet<_> = shown.iter().map(identity).collect();
    for exchange in &fixture.exchanges {
        let body = recorded_body(exchange);
        if body["kind"] == "Scale"
            && exchange.response.status == 200
            && let Ok(Route::Resource(target)) = route::resolve(catalog, &exchange.request.path)
        {
            let id = (
                target.t.kind.clone(),
                target.namespace.clone().unwrap_or_default(),
                target.name.clone().unwrap_or_default(),
            );
            if full.contains(&id) {
                let entry = out
                    .entry(id)
                    .or_insert((body["spec"]["replicas"].clone(), 0));
                if exchange.request.method != "GET" {
                    entry.1 += 1;
                }
            }
        } else if body["metadata"]["name"].is_string() {
            // Shown in full first: its own replicas stand.
            full.remove(&identity(&body));
        }
    }
    out
}
