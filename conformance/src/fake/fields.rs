//! Managed fields and server-side apply.
//!
//! Ownership is kept per field path, as `metadata.managedFields` shows it
//! (`FieldsV1`). The lists the apiserver's schema makes maps (containers
//! by `name`, a container's ports by `containerPort` and `protocol`,
//! conditions by `type`, ...) are owned element by element
//! (`k:{"name":"app"}`), so two managers can each own their own container;
//! other lists are owned whole, and the set-like entries (`v:`) of seeded
//! objects are cut back to their list.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::patch;

/// A field path in `FieldsV1` segments: `["f:data", "f:k"]` for `.data.k`,
/// `["f:spec", "f:containers", "k:{\"name\":\"app\"}", "f:image"]` for a
/// container's image. A path ending in a `k:` segment is the element
/// itself.
pub(crate) type Path = Vec<String>;

/// The `k:` segment of a keyed list's element: its key fields as a JSON
/// object (members in name order), or `None` when it has none of them.
fn element_key(element: &Value, keys: &[&str]) -> Option<String> {
    let fields: Map<String, Value> = keys
        .iter()
        .filter_map(|k| Some((k.to_string(), element.get(*k)?.clone())))
        .collect();
    (!fields.is_empty()).then(|| format!("k:{}", Value::Object(fields)))
}

/// The paths an object sets: its leaves, keyed lists' elements and their
/// leaves, other lists as leaves; `apiVersion`, `kind` and the metadata
/// the server owns left out.
pub(crate) fn paths(object: &Value) -> BTreeSet<Path> {
    let mut out = BTreeSet::new();
    if let Value::Object(m) = object {
        for (k, v) in m {
            match k.as_str() {
                "apiVersion" | "kind" => {}
                "metadata" => {
                    for key in ["labels", "annotations", "finalizers", "ownerReferences"] {
                        if let Some(v) = v.get(key) {
                            walk(
                                v,
                                &mut vec!["f:metadata".into(), format!("f:{key}")],
                                &mut out,
                            );
                        }
                    }
                }
                _ => walk(v, &mut vec![format!("f:{k}")], &mut out),
            }
        }
    }
    out
}

fn walk(value: &Value, at: &mut Path, out: &mut BTreeSet<Path>) {
    let field = at
        .last()
        .and_then(|s| s.strip_prefix("f:"))
        .unwrap_or_default();
    // A keyed list's element segments, when every element has its key.
    let elements: Option<Vec<String>> = match value {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|e| element_key(e, patch::list_keys(field, e)?))
            .collect(),
        _ => None,
    };
    if let (Some(segments), Value::Array(items)) = (elements, value) {
        for (segment, e) in segments.into_iter().zip(items) {
            at.push(segment);
            out.insert(at.clone());
            walk(e, at, out);
            at.pop();
        }
        return;
    }
    match value {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                at.push(format!("f:{k}"));
                walk(v, at, out);
                at.pop();
            }
        }
        _ => {
            out.insert(at.clone());
        }
    }
}

/// The element of `list` a `k:` segment names.
fn element_index(list: &[Value], segment: &str) -> Option<usize> {
    let key: Map<String, Value> = serde_json::from_str(segment.strip_prefix("k:")?).ok()?;
    list.iter()
        .position(|e| key.iter().all(|(k, v)| e.get(k) == Some(v)))
}

/// One step along a path segment.
fn step<'a>(value: &'a Value, segment: &str) -> Option<&'a Value> {
    match segment.strip_prefix("f:") {
        Some(name) => value.get(name),
        None => {
            let list = value.as_array()?;
            list.get(element_index(list, segment)?)
        }
    }
}

/// The value at `path`, if any.
fn at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(object, |v, s| step(v, s))
}

/// One step along a path segment, for a change.
fn step_mut<'a>(value: &'a mut Value, segment: &str) -> Option<&'a mut Value> {
    match segment.strip_prefix("f:") {
        Some(name) => value.get_mut(name),
        None => {
            let list = value.as_array_mut()?;
            let i = element_index(list, segment)?;
            list.get_mut(i)
        }
    }
}

/// Removes the field or element at `path`.
fn remove_path(object: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let Some(v) = parent.iter().try_fold(object, |v, s| step_mut(v, s)) else {
        return;
    };
    match last.strip_prefix("f:") {
        Some(name) => {
            if let Some(m) = v.as_object_mut() {
                m.remove(name);
            }
        }
        None => {
            if let Some(list) = v.as_array_mut()
                && let Some(i) = element_index(list, last)
            {
                list.remove(i);
            }
        }
    }
}

/// Whether `path` is a keyed list's element itself (not one of its fields).
fn is_element(path: &[String]) -> bool {
    path.last().is_some_and(|s| s.starts_with("k:"))
}

/// `FieldsV1` of a set of paths; `dots` marks the maps themselves as owned
/// (an `Update` does, an `Apply` does not). An owned element is marked
/// `"."` either way.
pub(crate) fn to_fields_v1(paths: &BTreeSet<Path>, dots: bool) -> Value {
    let mut root = Map::new();
    for p in paths {
        let mut node = &mut root;
        for (i, segment) in p.iter().enumerate() {
            let entry = node
                .entry(segment.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let m = entry.as_object_mut().expect("every node is an object");
            let last = i + 1 == p.len();
            if (dots && !last && segment.starts_with("f:")) || (last && segment.starts_with("k:")) {
                m.insert(".".into(), json!({}));
            }
            node = m;
        }
    }
    Value::Object(root)
}

/// The paths of a `FieldsV1` tree (set entries `v:` and index entries `i:`
/// cut back to their list).
pub(crate) fn from_fields_v1(fields: &Value) -> BTreeSet<Path> {
    fn go(node: &Value, at: &mut Path, out: &mut BTreeSet<Path>) {
        let Some(m) = node.as_object() else { return };
        let mut leaf = true;
        for (k, v) in m {
            if k.starts_with("f:") || k.starts_with("k:") {
                leaf = false;
                at.push(k.clone());
                go(v, at, out);
                at.pop();
            } else if k != "." {
                // An element of a set or an index: the list is the unit.
                leaf = false;
                out.insert(at.clone());
            }
        }
        if (leaf || is_element(at)) && !at.is_empty() {
            out.insert(at.clone());
        }
    }
    let mut out = BTreeSet::new();
    go(fields, &mut Vec::new(), &mut out);
    out
}

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    subresource: Option<String>,
    paths: BTreeSet<Path>,
}

fn entries(object: &Value) -> Vec<Entry> {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| Entry {
            manager: e["manager"].as_str().unwrap_or_default().into(),
            operation: e["operation"].as_str().unwrap_or_default().into(),
            api_version: e["apiVersion"].as_str().unwrap_or_default().into(),
            time: e["time"].as_str().unwrap_or_default().into(),
            subresource: e["subresource"].as_str().map(str::to_string),
            paths: from_fields_v1(&e["fieldsV1"]),
        })
        .collect()
}

fn store(object: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.paths.is_empty())
        .map(|e| {
            let mut v = json!({"manager": e.manager, "operation": e.operation,
                "apiVersion": e.api_version, "time": e.time, "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(&e.paths, e.operation == "Update")});
            if let Some(s) = &e.subresource {
                v["subresource"] = json!(s);
            }
            v
        })
        .collect();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// Who is writing, for `managedFields`.
#[derive(Clone, Debug)]
pub(crate) struct Writer<'a> {
    /// Field manager (`fieldManager`, else the user agent's first word).
    pub(crate) manager: &'a str,
    /// `apiVersion` of the request.
    pub(crate) api_version: &'a str,
    /// The time to record.
    pub(crate) time: &'a str,
    /// The subresource written through, if any.
    pub(crate) subresource: Option<&'a str>,
}

/// Records an `Update` by `writer` that turned `old` into `new`: the
/// fields it changed become its own, taken from any other manager.
pub(crate) fn record_update(old: Option<&Value>, new: &mut Value, writer: &Writer<'_>) {
    let before = old.map(paths).unwrap_or_default();
    let after = paths(new);
    // An element changes when it comes or goes; its fields say the rest.
    let differs = |p: &Path| {
        let before = old.and_then(|o| at(o, p));
        if is_element(p) {
            before.is_some() != at(new, p).is_some()
        } else {
            before != at(new, p)
        }
    };
    let changed: BTreeSet<Path> = after
        .iter()
        .filter(|p| differs(p))
        .chain(before.difference(&after))
        .cloned()
        .collect();
    let mut list = old.map(entries).unwrap_or_default();
    for e in &mut list {
        e.paths.retain(|p| !changed.contains(p));
    }
    let owned: BTreeSet<Path> = changed.intersection(&after).cloned().collect();
    if !owned.is_empty() {
        match list.iter_mut().find(|e| {
            e.manager == writer.manager
                && e.operation == "Update"
                && e.subresource.as_deref() == writer.subresource
        }) {
            Some(e) => {
                e.paths.extend(owned);
                e.time = writer.time.into();
            }
            None => list.push(Entry {
                manager: writer.manager.into(),
                operation: "Update".into(),
                api_version: writer.api_version.into(),
                time: writer.time.into(),
                subresource: writer.subresource.map(str::to_string),
                paths: owned,
            }),
        }
    }
    store(new, &list);
}

/// Renders a path as the apiserver does in conflicts: `.data.k`,
/// `.spec.containers[name="app"].image`.
fn dotted(path: &[String]) -> String {
    path.iter()
        .map(|s| match s.strip_prefix("f:") {
            Some(name) => format!(".{name}"),
            None => {
                let key: Map<String, Value> =
                    serde_json::from_str(s.strip_prefix("k:").unwrap_or_default())
                        .unwrap_or_default();
                let parts: Vec<String> = key.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("[{}]", parts.join(","))
            }
        })
        .collect()
}

/// Server-side apply of `config` by `writer` over `live` (or over nothing,
/// creating): the new object, or the conflicts `(manager, field)` when
/// another manager owns a field the config sets to a different value and
/// `force` is off.
pub(crate) fn apply(
    live: Option<&Value>,
    config: &Value,
    writer: &Writer<'_>,
    force: bool,
) -> Result<Value, Vec<(String, String)>> {
    let wanted = paths(config);
    let mut list = live.map(entries).unwrap_or_default();
    let mut conflicts = Vec::new();
    let mut taken = BTreeSet::new();
    for e in list.iter().filter(|e| e.manager != writer.manager) {
        // An element is shared by whoever sets fields in it; a field set
        // to the value it has is shared too.
        for p in wanted.intersection(&e.paths).filter(|p| !is_element(p)) {
            if live.and_then(|l| at(l, p)) != at(config, p) {
                conflicts.push((e.manager.clone(), dotted(p)));
                taken.insert(p.clone());
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    let mut object = live.cloned().unwrap_or_else(|| json!({"metadata": {}}));
    let previous = list
        .iter()
        .find(|e| e.manager == writer.manager && e.operation == "Apply")
        .map(|e| e.paths.clone())
        .unwrap_or_default();
    for p in previous.difference(&wanted) {
        // What another manager owns stays: the field, or anything in the
        // element.
        let others = list
            .iter()
            .any(|e| e.manager != writer.manager && e.paths.iter().any(|q| q.starts_with(p)));
        if !others {
            remove_path(&mut object, p);
        }
    }
    let mut body = config.clone();
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.remove("resourceVersion");
    }
    patch::strategic(&mut object, &body);
    for e in &mut list {
        if e.manager != writer.manager {
            e.paths.retain(|p| !taken.contains(p));
        }
    }
    list.retain(|e| !(e.manager == writer.manager && e.operation == "Apply"));
    list.push(Entry {
        manager: writer.manager.into(),
        operation: "Apply".into(),
        api_version: writer.api_version.into(),
        time: writer.time.into(),
        subresource: writer.subresource.map(str::to_string),
        paths: wanted,
    });
    store(&mut object, &list);
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(manager: &str) -> Writer<'_> {
        Writer {
            manager,
            api_version: "v1",
            time: "2026-12-01T00:00:00Z",
            subresource: None,
        }
    }

    #[test]
    fn fields_v1_round_trips_and_matches_the_recorded_shapes() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"mode": "fast"}});
        let p = paths(&cm);
        assert_eq!(
            to_fields_v1(&p, true),
            json!({"f:data": {".": {}, "f:mode": {}}})
        );
        assert_eq!(to_fields_v1(&p, false), json!({"f:data": {"f:mode": {}}}));
        assert_eq!(from_fields_v1(&to_fields_v1(&p, true)), p);
        let recorded = json!({"f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}}}}});
        let element = ["f:spec", "f:containers", "k:{\"name\":\"nginx\"}"].map(String::from);
        let mut image = element.to_vec();
        image.push("f:image".into());
        assert_eq!(
            from_fields_v1(&recorded),
            BTreeSet::from([element.to_vec(), image])
        );
        assert_eq!(to_fields_v1(&from_fields_v1(&recorded), false), recorded);
        // A pod's own fields: its container and the container's ports are
        // elements, keyed as the apiserver keys them.
        let pod = json!({"spec": {"containers": [{"name": "app", "image": "nginx",
            "ports": [{"containerPort": 80, "protocol": "TCP"}], "args": ["-v"]}]}});
        assert_eq!(
            to_fields_v1(&paths(&pod), false),
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:args": {},
                "f:image": {}, "f:name": {},
                "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {},
                    "f:containerPort": {}, "f:protocol": {}}}}}}})
        );
    }

    fn pod_with(containers: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": containers}})
    }

    #[test]
    fn two_appliers_own_their_own_containers() {
        let app = pod_with(json!([{"name": "app", "image": "nginx:1"}]));
        let live = apply(None, &app, &writer("deployer"), false).unwrap();
        let sidecar = pod_with(json!([{"name": "proxy", "image": "envoy:1"}]));
        let live = apply(Some(&live), &sidecar, &writer("injector"), false).unwrap();
        let names = |o: &Value| -> Vec<String> {
            o["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names(&live), ["app", "proxy"], "merged, not a conflict");
        // Each re-applies its own: nothing of the other's is touched.
        let app2 = pod_with(json!([{"name": "app", "image": "nginx:2"}]));
        let live = apply(Some(&live), &app2, &writer("deployer"), false).unwrap();
        assert_eq!(live["spec"]["containers"][1]["image"], "envoy:1");
        assert_eq!(live["spec"]["containers"][0]["image"], "nginx:2");
        // Another's container field is a conflict, named as the apiserver
        // names it.
        let steal = pod_with(json!([{"name": "proxy", "image": "envoy:2"}]));
        assert_eq!(
            apply(Some(&live), &steal, &writer("deployer"), false).unwrap_err(),
            vec![(
                "injector".to_string(),
                ".spec.containers[name=\"proxy\"].image".to_string()
            )]
        );
        // A container its applier stops applying goes; the other's stays.
        let none = pod_with(json!([]));
        let live = apply(Some(&live), &none, &writer("injector"), false).unwrap();
        assert_eq!(names(&live), ["app"]);
    }

    #[test]
    fn apply_conflicts_with_another_manager_unless_forced() {
        let config = |v: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": v}});
        let first = apply(None, &config("v1"), &writer("kubewire"), false).unwrap();
        assert_eq!(
            first["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:data": {"f:k": {}}})
        );
        // The same value from another manager is shared, not a conflict.
        assert!(apply(Some(&first), &config("v1"), &writer("other-tool"), false).is_ok());
        let refused = apply(Some(&first), &config("v2"), &writer("other-tool"), false).unwrap_err();
        assert_eq!(
            refused,
            vec![("kubewire".to_string(), ".data.k".to_string())]
        );
        let forced = apply(Some(&first), &config("v2"), &writer("other-tool"), true).unwrap();
        assert_eq!(forced["data"]["k"], "v2");
        let managers: Vec<&str> = forced["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, ["other-tool"]);
    }

    #[test]
    fn apply_removes_what_the_manager_stopped_applying_and_updates_take_ownership() {
        let a = json!({"metadata": {"name": "x"}, "data": {"a": "1", "b": "2"}});
        let live = apply(None, &a, &writer("m"), false).unwrap();
        let smaller = json!({"metadata": {"name": "x"}, "data": {"a": "1"}});
        let live = apply(Some(&live), &smaller, &writer("m"), false).unwrap();
        assert_eq!(live["data"], json!({"a": "1"}));
        let mut edited = live.clone();
        edited["data"]["a"] = json!("9");
        record_update(Some(&live), &mut edited, &writer("kubectl"));
        let refused = apply(Some(&edited), &smaller, &writer("m"), false).unwrap_err();
        assert_eq!(
            refused,
            vec![("kubectl".to_string(), ".data.a".to_string())]
        );
    }
}
