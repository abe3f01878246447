//! Redaction of Secret data in recorded bodies, as FORMAT.md requires:
//! every value under `data` and `stringData` of a Secret becomes the base64
//! of `REDACTED`.

use serde_json::Value;

use crate::fixture::Chunk;

/// What every redacted value becomes: base64 of `REDACTED`.
pub const REDACTED: &str = "UkVEQUNURUQ=";

/// Headers never written to a fixture.
pub fn is_secret_header(name: &str) -> bool {
    name == "authorization"
        || name == "proxy-authorization"
        || name == "cookie"
        || name == "set-cookie"
        || name.starts_with("x-remote-")
}

fn redact_secret(obj: &mut Value) -> bool {
    let mut changed = false;
    for key in ["data", "stringData"] {
        if let Some(Value::Object(map)) = obj.get_mut(key) {
            for v in map.values_mut() {
                if v != REDACTED {
                    *v = Value::String(REDACTED.into());
                    changed = true;
                }
            }
        }
    }
    changed
}

/// Redacts Secrets anywhere in `value`: a Secret, a SecretList's items, a
/// watch event's object. `secrets_path` says the request addressed the
/// `secrets` resource, so objects without `kind` (list items) are Secrets.
pub fn redact_value(value: &mut Value, secrets_path: bool) -> bool {
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut changed = false;
    if kind == "Secret" || (kind.is_empty() && secrets_path && value.get("metadata").is_some()) {
        changed |= redact_secret(value);
    }
    let list_of_secrets = kind == "SecretList" || (secrets_path && kind.ends_with("List"));
    if let Some(Value::Array(items)) = value.get_mut("items") {
        for item in items {
            if list_of_secrets || item.get("kind").and_then(Value::as_str) == Some("Secret") {
                changed |= redact_secret(item);
            }
        }
    }
    if value.get("type").is_some()
        && let Some(object) = value.get_mut("object")
    {
        changed |= redact_value(object, secrets_path);
    }
    changed
}

/// True when a request path addresses the `secrets` resource.
pub fn is_secrets_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.iter().enumerate().any(|(i, p)| {
        *p == "secrets" && (i == 3 || parts.get(i.wrapping_sub(2)) == Some(&"namespaces"))
    })
}

/// Redacts newline-delimited JSON (or one JSON document) in bytes; `None`
/// when nothing changed.
fn redact_text(bytes: &[u8], secrets_path: bool) -> Option<Vec<u8>> {
    let mut changed = false;
    let mut out = Vec::with_capacity(bytes.len());
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        let (content, newline) = match line.strip_suffix(b"\n") {
            Some(c) => (c, true),
            None => (line, false),
        };
        let redacted = serde_json::from_slice::<Value>(content)
            .ok()
            .and_then(|mut v| redact_value(&mut v, secrets_path).then_some(v));
        match redacted {
            Some(v) => {
                changed = true;
                out.extend_from_slice(&serde_json::to_vec(&v).unwrap_or_default());
            }
            None => out.extend_from_slice(content),
        }
        if newline {
            out.push(b'\n');
        }
    }
    changed.then_some(out)
}

/// Redacts recorded chunks. Chunks are grouped up to line ends; a group
/// that holds no secret keeps its boundaries, a redacted group becomes one
/// chunk (boundaries are kept "modulo redaction").
pub fn redact_chunks(chunks: Vec<Chunk>, secrets_path: bool) -> Vec<Chunk> {
    let mut out = Vec::with_capacity(chunks.len());
    let mut group: Vec<Chunk> = Vec::new();
    let flush = |group: &mut Vec<Chunk>, out: &mut Vec<Chunk>| {
        if group.is_empty() {
            return;
        }
        let bytes: Vec<u8> = group.iter().flat_map(|c| c.bytes.iter().copied()).collect();
        match redact_text(&bytes, secrets_path) {
            Some(redacted) => out.push(Chunk {
                bytes: redacted,
                delay_ms: group[0].delay_ms,
            }),
            None => out.append(group),
        }
        group.clear();
    };
    for chunk in chunks {
        let ends_line = chunk.bytes.last() == Some(&b'\n');
        group.push(chunk);
        if ends_line {
            flush(&mut group, &mut out);
        }
    }
    flush(&mut group, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_secrets_in_every_shape() {
        let mut s = json!({"kind": "Secret", "data": {"a": "eA=="}, "stringData": {"b": "x"}});
        assert!(redact_value(&mut s, false));
        assert_eq!(s["data"]["a"], REDACTED);
        assert_eq!(s["stringData"]["b"], REDACTED);
        let mut list =
            json!({"kind": "SecretList", "items": [{"metadata": {}, "data": {"a": "eA=="}}]});
        assert!(redact_value(&mut list, false));
        assert_eq!(list["items"][0]["data"]["a"], REDACTED);
        let mut cm = json!({"kind": "ConfigMap", "data": {"a": "x"}});
        assert!(!redact_value(&mut cm, false));
        let event =
            "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Secret\",\"data\":{\"k\":\"eA==\"}}}\n";
        let chunks = vec![
            Chunk {
                bytes: event.as_bytes()[..10].to_vec(),
                delay_ms: 3,
            },
            Chunk {
                bytes: event.as_bytes()[10..].to_vec(),
                delay_ms: 0,
            },
            Chunk {
                bytes: b"{\"type\":\"BOOKMARK\",\"object\":{}}\n".to_vec(),
                delay_ms: 9,
            },
        ];
        let out = redact_chunks(chunks, false);
        assert_eq!(out.len(), 2);
        assert!(String::from_utf8_lossy(&out[0].bytes).contains(REDACTED));
        assert_eq!(out[0].delay_ms, 3);
        assert_eq!(out[1].delay_ms, 9);
        assert!(is_secrets_path("/api/v1/namespaces/demo/secrets/db-pass"));
        assert!(is_secrets_path("/api/v1/secrets"));
        assert!(!is_secrets_path("/api/v1/namespaces/secrets/pods"));
    }
}
