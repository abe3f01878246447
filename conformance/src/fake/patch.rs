//! The three patch formats: JSON merge patch (RFC 7386), JSON patch
//! (RFC 6902, `test` included) and strategic merge patch for the list
//! keys of the built-in kinds.

use serde_json::{Map, Value};

/// RFC 7386: objects merge, `null` removes, anything else replaces.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().expect("made an object above");
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Why a JSON patch did not apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JsonPatchError {
    /// The patch is not an array of operations (a `400`).
    Malformed(String),
    /// A well-formed operation failed: a `test` or a missing path (`422`).
    Failed(String),
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Splits a JSON pointer into its parent's pointer and last token.
fn split(path: &str) -> Result<(&str, String), JsonPatchError> {
    if path.is_empty() {
        return Err(JsonPatchError::Failed("the root cannot be patched".into()));
    }
    let i = path
        .rfind('/')
        .ok_or_else(|| JsonPatchError::Malformed(format!("bad JSON pointer {path:?}")))?;
    Ok((&path[..i], unescape(&path[i + 1..])))
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, JsonPatchError> {
    let (parent, last) = split(path)?;
    let missing = || JsonPatchError::Failed(format!("missing path {path:?}"));
    match doc.pointer_mut(parent).ok_or_else(missing)? {
        Value::Object(m) => m.remove(&last).ok_or_else(missing),
        Value::Array(a) => {
            let i: usize = last.parse().map_err(|_| missing())?;
            (i < a.len()).then(|| a.remove(i)).ok_or_else(missing)
        }
        _ => Err(missing()),
    }
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), JsonPatchError> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split(path)?;
    let missing = || JsonPatchError::Failed(format!("missing path {path:?}"));
    match doc.pointer_mut(parent).ok_or_else(missing)? {
        Value::Object(m) => {
            m.insert(last, value);
            Ok(())
        }
        Value::Array(a) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse().map_err(|_| missing())?
            };
            if i > a.len() {
                return Err(missing());
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(missing()),
    }
}

/// RFC 6902 over `doc`.
pub(crate) fn json_patch(doc: &mut Value, patch: &Value) -> Result<(), JsonPatchError> {
    let ops = patch.as_array().ok_or_else(|| {
        JsonPatchError::Malformed("a JSON patch is an array of operations".into())
    })?;
    for op in ops {
        let name = op["op"].as_str().unwrap_or_default();
        let path = op["path"]
            .as_str()
            .ok_or_else(|| JsonPatchError::Malformed(format!("operation {op} has no path")))?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| JsonPatchError::Malformed(format!("operation {op} has no value")))
        };
        let from = || {
            op["from"]
                .as_str()
                .ok_or_else(|| JsonPatchError::Malformed(format!("operation {op} has no from")))
        };
        match name {
            "add" => add(doc, path, value()?)?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                remove(doc, path)?;
                add(doc, path, value()?)?;
            }
            "move" => {
                let v = remove(doc, from()?)?;
                add(doc, path, v)?;
            }
            "copy" => {
                let v = doc
                    .pointer(from()?)
                    .cloned()
                    .ok_or_else(|| JsonPatchError::Failed(format!("missing path {:?}", from())))?;
                add(doc, path, v)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(JsonPatchError::Failed(format!("test failed at {path:?}")));
                }
            }
            other => {
                return Err(JsonPatchError::Malformed(format!(
                    "unexpected kind of operation {other:?}"
                )));
            }
        }
    }
    Ok(())
}

/// The key fields of the list `field` whose elements the apiserver's schema
/// keys: server-side apply owns such a list element by element, and a
/// strategic merge merges it by the first key. `None`: the list is atomic.
/// `element` tells a container's `ports` from a Service's.
pub(crate) fn list_keys(field: &str, element: &Value) -> Option<&'static [&'static str]> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => &["name"],
        "ports" if element.get("containerPort").is_some() => &["containerPort", "protocol"],
        "ports" => &["port", "protocol"],
        "hostAliases" => &["ip"],
        "volumeMounts" => &["mountPath"],
        "volumeDevices" => &["devicePath"],
        "conditions" => &["type"],
        "ownerReferences" => &["uid"],
        "topologySpreadConstraints" => &["topologyKey", "whenUnsatisfiable"],
        _ => return None,
    })
}

/// The strategic merge key of the list `field`: the first of its keys.
fn merge_key(field: &str, sample: &Value) -> Option<&'static str> {
    list_keys(field, sample)?.first().copied()
}

/// Lists merged as sets of scalars.
fn is_set(field: &str) -> bool {
    field == "finalizers"
}

/// Strategic merge patch: objects merge, `null` removes, lists with a
/// merge key (`containers` by `name`, a container's `ports` by
/// `containerPort` and a Service's by `port`,
/// `conditions` by `type`, ...) merge element by element, `finalizers`
/// merge as a set, other lists replace. `$patch: delete` removes a list
/// element, `$patch: replace` replaces an object or list.
pub(crate) fn strategic(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replacement = patch.clone();
        if let Some(m) = replacement.as_object_mut() {
            m.remove("$patch");
        }
        *target = replacement;
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().expect("made an object above");
    for (k, v) in p {
        if k.starts_with('$') {
            continue;
        }
        match v {
            Value::Null => {
                t.remove(k);
            }
            Value::Array(items) => {
                let current = t.entry(k.clone()).or_insert(Value::Array(Vec::new()));
                merge_list(k, current, items);
            }
            _ => strategic(t.entry(k.clone()).or_insert(Value::Null), v),
        }
    }
}

fn merge_list(field: &str, current: &mut Value, items: &[Value]) {
    let replace = items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"));
    let existing = match current {
        Value::Array(a) if !replace => a,
        _ => {
            *current = Value::Array(
                items
                    .iter()
                    .filter(|i| i.get("$patch").is_none())
                    .cloned()
                    .collect(),
            );
            return;
        }
    };
    if is_set(field) {
        for i in items {
            if !existing.contains(i) {
                existing.push(i.clone());
            }
        }
        return;
    }
    let Some(key) = merge_key(field, items.first().unwrap_or(&Value::Null)) else {
        *existing = items.to_vec();
        return;
    };
    for item in items {
        let id = &item[key];
        let at = existing.iter().position(|e| &e[key] == id && !id.is_null());
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (at, delete) {
            (Some(i), true) => {
                existing.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => strategic(&mut existing[i], item),
            (None, false) => {
                let mut fresh = Value::Null;
                strategic(&mut fresh, item);
                existing.push(fresh);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        merge(&mut doc, &json!({"a": "z", "c": {"f": null}, "l": [3]}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}, "l": [3]}));
    }

    #[test]
    fn json_patch_runs_every_operation_and_test_fails_cleanly() {
        let mut doc =
            json!({"metadata": {"name": "web-1", "labels": {"a/b": "x"}}, "list": [1, 3]});
        let patch = json!([
            {"op": "add", "path": "/list/1", "value": 2},
            {"op": "add", "path": "/list/-", "value": 4},
            {"op": "replace", "path": "/metadata/labels/a~1b", "value": "y"},
            {"op": "copy", "from": "/metadata/name", "path": "/copy"},
            {"op": "move", "from": "/copy", "path": "/moved"},
            {"op": "remove", "path": "/list/0"},
            {"op": "test", "path": "/moved", "value": "web-1"}
        ]);
        json_patch(&mut doc, &patch).unwrap();
        assert_eq!(
            doc,
            json!({"metadata": {"name": "web-1", "labels": {"a/b": "y"}}, "list": [2, 3, 4], "moved": "web-1"})
        );
        let failed = json_patch(
            &mut doc,
            &json!([{"op": "test", "path": "/moved", "value": "x"}]),
        );
        assert!(matches!(failed, Err(JsonPatchError::Failed(_))));
        assert!(matches!(
            json_patch(&mut doc, &json!({"op": "add"})),
            Err(JsonPatchError::Malformed(_))
        ));
        assert!(matches!(
            json_patch(&mut doc, &json!([{"op": "remove", "path": "/nope"}])),
            Err(JsonPatchError::Failed(_))
        ));
    }

    #[test]
    fn strategic_merge_merges_keyed_lists_and_sets() {
        let mut pod = json!({"metadata": {"finalizers": ["a"]}, "spec": {"containers": [
            {"name": "app", "image": "v1", "env": [{"name": "A", "value": "1"}]},
            {"name": "side", "image": "s1"}],
            "tolerations": [{"key": "x"}]}});
        strategic(
            &mut pod,
            &json!({"metadata": {"finalizers": ["b", "a"]}, "spec": {"containers": [
            {"name": "app", "image": "v2", "env": [{"name": "B", "value": "2"}]},
            {"name": "side", "$patch": "delete"},
            {"name": "new", "image": "n1"}],
            "tolerations": [{"key": "y"}]}}),
        );
        assert_eq!(
            pod,
            json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"containers": [
                {"name": "app", "image": "v2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                {"name": "new", "image": "n1"}],
                "tolerations": [{"key": "y"}]}})
        );
        let mut doc = json!({"spec": {"a": 1, "b": 2}});
        strategic(&mut doc, &json!({"spec": {"$patch": "replace", "c": 3}}));
        assert_eq!(doc, json!({"spec": {"c": 3}}));
    }
}
