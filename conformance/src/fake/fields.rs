//! Managed fields and server-side apply.
//!
//! Ownership is kept per field path, as `metadata.managedFields` shows it
//! (`FieldsV1`). One simplification against the real server: a list is
//! owned as a whole (`f:containers`), not element by element
//! (`k:{"name":"app"}`); ownership read from seeded objects is cut back to
//! the list the same way.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::patch;

/// A field path: `["data", "k"]` for `.data.k`.
pub(crate) type Path = Vec<String>;

/// The paths an object sets: its leaves, lists counted as leaves, with
/// `apiVersion`, `kind` and the metadata the server owns left out.
pub(crate) fn paths(object: &Value) -> BTreeSet<Path> {
    let mut out = BTreeSet::new();
    if let Value::Object(m) = object {
        for (k, v) in m {
            match k.as_str() {
                "apiVersion" | "kind" => {}
                "metadata" => {
                    for key in ["labels", "annotations", "finalizers", "ownerReferences"] {
                        if let Some(v) = v.get(key) {
                            walk(v, &mut vec!["metadata".into(), key.into()], &mut out);
                        }
                    }
                }
                _ => walk(v, &mut vec![k.clone()], &mut out),
            }
        }
    }
    out
}

fn walk(value: &Value, at: &mut Path, out: &mut BTreeSet<Path>) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                at.push(k.clone());
                walk(v, at, out);
                at.pop();
            }
        }
        _ => {
            out.insert(at.clone());
        }
    }
}

/// The value at `path`, if any.
fn at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(object, |v, k| v.get(k))
}

fn remove_path(object: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut v = object;
    for k in parent {
        match v.get_mut(k) {
            Some(next) => v = next,
            None => return,
        }
    }
    if let Some(m) = v.as_object_mut() {
        m.remove(last);
        // An emptied map goes too, as it would from the applier's config.
    }
}

/// `FieldsV1` of a set of paths; `dots` marks the maps themselves as owned
/// (an `Update` does, an `Apply` does not).
pub(crate) fn to_fields_v1(paths: &BTreeSet<Path>, dots: bool) -> Value {
    let mut root = Map::new();
    for p in paths {
        let mut node = &mut root;
        for (i, k) in p.iter().enumerate() {
            let entry = node
                .entry(format!("f:{k}"))
                .or_insert_with(|| Value::Object(Map::new()));
            let m = entry.as_object_mut().expect("every node is an object");
            if dots && i + 1 < p.len() {
                m.insert(".".into(), json!({}));
            }
            node = m;
        }
    }
    Value::Object(root)
}

/// The paths of a `FieldsV1` tree (element keys `k:`/`v:`/`i:` cut back
/// to their list).
pub(crate) fn from_fields_v1(fields: &Value) -> BTreeSet<Path> {
    fn go(node: &Value, at: &mut Path, out: &mut BTreeSet<Path>) {
        let Some(m) = node.as_object() else { return };
        let mut leaf = true;
        for (k, v) in m {
            if let Some(name) = k.strip_prefix("f:") {
                leaf = false;
                at.push(name.to_string());
                go(v, at, out);
                at.pop();
            } else if k != "." {
                // An element of a list: the list is the unit owned here.
                leaf = false;
                out.insert(at.clone());
            }
        }
        if leaf && !at.is_empty() {
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
    let changed: BTreeSet<Path> = after
        .iter()
        .filter(|p| old.and_then(|o| at(o, p)) != at(new, p))
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

/// Renders a path as the apiserver does in conflicts: `.data.k`.
fn dotted(path: &[String]) -> String {
    path.iter().map(|k| format!(".{k}")).collect()
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
    for e in list.iter().filter(|e| e.manager != writer.manager) {
        for p in wanted.intersection(&e.paths) {
            if live.and_then(|l| at(l, p)) != at(config, p) {
                conflicts.push((e.manager.clone(), dotted(p)));
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
        let others = list
            .iter()
            .any(|e| e.manager != writer.manager && e.paths.contains(p));
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
            e.paths.retain(|p| !wanted.contains(p));
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
        assert_eq!(
            from_fields_v1(&recorded),
            BTreeSet::from([vec!["spec".to_string(), "containers".to_string()]])
        );
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
