//! Strict request matching: method, path, query as a multiset, listed
//! headers, JSON-equal body.

use crate::relaxed::{Matching, is_subset};
use serde_json::{Value, json};

use crate::fixture::{ExpectedRequest, Offer, RequestBody};

/// A request as a client actually sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActualRequest {
    /// Method.
    pub method: String,
    /// Decoded path.
    pub path: String,
    /// Decoded query pairs, in the order sent.
    pub query: Vec<(String, String)>,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl ActualRequest {
    /// Builds one from a method, a request target (`/path?query`), headers
    /// and body.
    pub fn from_target(
        method: &str,
        target: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> ActualRequest {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        ActualRequest {
            method: method.to_string(),
            path: percent_decode(path, false),
            query: parse_query(query),
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            body,
        }
    }

    /// The value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The request as JSON, for mismatch reports.
    pub fn to_json(&self) -> Value {
        let body = match serde_json::from_slice::<Value>(&self.body) {
            _ if self.body.is_empty() => Value::Null,
            Ok(v) => v,
            Err(_) => json!(String::from_utf8_lossy(&self.body)),
        };
        let q: Vec<Value> = self.query.iter().map(|(k, v)| json!([k, v])).collect();
        let h: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        json!({"method": self.method, "path": self.path, "query": q, "headers": h, "body": body})
    }
}

/// Parses `a=1&b=x%20y` into decoded pairs (`+` is a space, as Go decodes it).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Percent-decodes `s`; with `plus_is_space`, `+` decodes to a space.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The differences between what was expected and what arrived; empty when
/// the request matches exactly.
pub fn differences(expected: &ExpectedRequest, actual: &ActualRequest) -> Vec<String> {
    differences_with(expected, actual, &Matching::default())
}

/// The differences under `matching` (relaxed where it says so); empty when
/// the request matches.
pub fn differences_with(
    expected: &ExpectedRequest,
    actual: &ActualRequest,
    matching: &Matching,
) -> Vec<String> {
    let mut diffs = Vec::new();
    if expected.method != actual.method {
        diffs.push(format!(
            "method: expected {}, got {}",
            expected.method, actual.method
        ));
    }
    if expected.path != actual.path {
        diffs.push(format!(
            "path: expected {:?}, got {:?}",
            expected.path, actual.path
        ));
    }
    let mut missing: Vec<(String, String)> = expected
        .query
        .iter()
        .filter(|(k, _)| matching.compares(k))
        .cloned()
        .collect();
    let mut extra = Vec::new();
    for pair in actual.query.iter().filter(|(k, _)| matching.compares(k)) {
        match missing.iter().position(|p| p == pair) {
            Some(i) => {
                missing.swap_remove(i);
            }
            None => extra.push(pair.clone()),
        }
    }
    // A watch's `timeoutSeconds` is the client's own choice (kubewire sends
    // 290 s unless told otherwise); a fixture that does not list it does not
    // compare it.
    let lists_timeout = expected.query.iter().any(|(k, _)| k == "timeoutSeconds");
    let is_watch = actual
        .query
        .iter()
        .any(|(k, v)| k == "watch" && v == "true");
    if is_watch && !lists_timeout {
        extra.retain(|(k, _)| k != "timeoutSeconds");
    }
    if !missing.is_empty() {
        diffs.push(format!("query: missing {missing:?}"));
    }
    // Exec's `command` pairs are the command's arguments: their order counts
    // (FORMAT-upgrade.md); every other parameter is a multiset.
    let command = |q: &[(String, String)]| -> Vec<String> {
        q.iter()
            .filter(|(k, _)| k == "command")
            .map(|(_, v)| v.clone())
            .collect()
    };
    let (want, got) = (command(&expected.query), command(&actual.query));
    if missing.is_empty() && extra.is_empty() && want != got {
        diffs.push(format!("query: command in the order {want:?}, got {got:?}"));
    }
    if !extra.is_empty() {
        diffs.push(format!("query: unexpected {extra:?}"));
    }
    for (name, value) in &expected.headers {
        if name == "sec-websocket-protocol" {
            diffs.extend(offer_difference(
                &expected.offer,
                value,
                actual.header(name),
            ));
            continue;
        }
        match actual.header(name) {
            Some(v) if v == value => {}
            Some(v) => diffs.push(format!("header {name}: expected {value:?}, got {v:?}")),
            None => diffs.push(format!("header {name}: expected {value:?}, not sent")),
        }
    }
    match &expected.body {
        RequestBody::None if actual.body.is_empty() => {}
        RequestBody::None => diffs.push(format!(
            "body: expected none, got {} bytes",
            actual.body.len()
        )),
        RequestBody::Json(v) => match serde_json::from_slice::<Value>(&actual.body) {
            Ok(got) if &got == v => {}
            Ok(got) if matching.body_subset && is_subset(v, &got) => {}
            Ok(got) if matching.body_subset => {
                diffs.push(format!("body: expected a body containing {v}, got {got}"))
            }
            Ok(got) => diffs.push(format!("body: expected {v}, got {got}")),
            Err(_) if actual.body.is_empty() => diffs.push("body: expected JSON, got none".into()),
            Err(e) => diffs.push(format!("body: expected JSON, got non-JSON ({e})")),
        },
        RequestBody::Text(t) => {
            if t.as_bytes() != actual.body.as_slice() {
                diffs.push(format!(
                    "body: expected {t:?}, got {:?}",
                    String::from_utf8_lossy(&actual.body)
                ));
            }
        }
    }
    diffs
}

/// The JSON body of a `599` answer describing a mismatch.
pub fn mismatch_body(
    index: Option<usize>,
    expected: Option<&ExpectedRequest>,
    actual: &ActualRequest,
    diffs: &[String],
) -> Value {
    let expected = expected.map(|e| {
        let q: Vec<Value> = e.query.iter().map(|(k, v)| json!([k, v])).collect();
        let body = match &e.body {
            RequestBody::None => Value::Null,
            RequestBody::Json(v) => v.clone(),
            RequestBody::Text(t) => json!(t),
        };
        json!({"method": e.method, "path": e.path, "query": q, "headers": e.headers, "body": body})
    });
    json!({
        "error": if expected.is_some() { "request does not match the fixture" } else { "unexpected request: no exchanges left" },
        "exchange": index,
        "expected": expected,
        "actual": actual.to_json(),
        "differences": diffs,
    })
}

/// The WebSocket offer's difference, by `FORMAT-upgrade.md`'s rules.
fn offer_difference(rule: &Offer, recorded: &str, sent: Option<&str>) -> Option<String> {
    let set = |s: &str| {
        let mut v: Vec<String> = s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        v.sort();
        v
    };
    let sent_set = set(sent.unwrap_or_default());
    let fine = match rule {
        Offer::Contains(chosen) => sent_set.contains(chosen),
        Offer::Set => sent_set == set(recorded),
    };
    (!fine).then(|| match rule {
        Offer::Contains(chosen) => {
            format!("header sec-websocket-protocol: expected an offer containing {chosen:?}, got {sent:?}")
        }
        Offer::Set => format!("header sec-websocket-protocol: expected {recorded:?}, got {sent:?}"),
    })
}
