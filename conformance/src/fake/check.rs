//! The differential check: the fake against real recordings.
//!
//! For a recorded fixture, a fresh fake is seeded with the state the
//! recording started from (each object the recording shows, as it first
//! shows it, unless the recording creates it), the recorded requests are
//! replayed in order, and each answer is compared with the recorded one —
//! status, `kind`, names, labels, spec, status, `reason` and `message` —
//! ignoring only values that are random or time-based: uids, timestamps,
//! resourceVersion numbers, managed fields, continue tokens. The
//! resourceVersions and continue tokens a recorded request carries are
//! translated into the fake's as the answers reveal them.
//!
//! What a recording shows beyond its client's requests is made to happen
//! as it happened: the writes other clients made while it ran are replayed
//! ([`FakeApiserver::replay_writers`]), a watch the recording left open is
//! compared as far as the recording goes, and [`PLAN`] says where the
//! recording's etcd compacted, its controllers finished, or its token was
//! refused.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use bytes::Bytes;
use serde_json::{Value, json};

use super::recorded::{self, json_lines, parse_body, recorded_body};
use super::verbs::{is_watch, text};
use super::{Controllers, FakeApiserver, Fault};
use crate::fixture::{End, Exchange, Fixture, RequestBody};

/// What to do around one recorded exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Forget the history before it (the recording's etcd compacted).
    CompactBefore,
    /// Run the controllers before it (the recording's controller finished).
    ControllersBefore,
    /// Answer it as an unknown token is answered (the recording sent one).
    Unauthorized,
    /// Answer it as RBAC refuses this user (the recording's token has no
    /// rights).
    ForbiddenFor(&'static str),
}

/// The steps that make a fixture comparable: `(fixture, exchange index,
/// step)`.
pub const PLAN: &[(&str, usize, Step)] = &[
    ("auth-errors", 0, Step::Unauthorized),
    (
        "auth-errors",
        1,
        Step::ForbiddenFor("system:serviceaccount:demo:nobody"),
    ),
    (
        "auth-errors",
        2,
        Step::ForbiddenFor("system:serviceaccount:demo:nobody"),
    ),
    ("list-continue-expired", 1, Step::CompactBefore),
    ("namespace-delete", 2, Step::ControllersBefore),
    ("watch-expired", 0, Step::CompactBefore),
];

/// Fixtures whose state needs another fixture's object first:
/// `(fixture, other fixture, exchange whose request body is seeded)`.
const PREREQUISITES: &[(&str, &str, usize)] = &[
    ("manifests-multi-document", "crd-discovery", 0),
    ("status-subresource", "crd-discovery", 0),
    ("discovery", "crd-discovery", 0),
    ("discovery-aggregated", "crd-discovery", 0),
];

/// Seeds what the fixture `name` needs from other recordings first (the
/// CRD a custom object's recording assumes); `body_of(fixture, exchange)`
/// gives the request body of another recording's exchange.
pub fn seed_prerequisites(
    fake: &FakeApiserver,
    name: &str,
    body_of: impl Fn(&str, usize) -> Option<Value>,
) -> Result<(), String> {
    for (_, other, index) in PREREQUISITES.iter().filter(|(n, _, _)| *n == name) {
        let body = body_of(other, *index)
            .ok_or_else(|| format!("{other}#{index} has no JSON request body to seed"))?;
        fake.seed(body).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The outcome for one fixture.
#[derive(Clone, Debug, Default)]
pub struct Row {
    /// Fixture name.
    pub fixture: String,
    /// Exchanges compared.
    pub compared: usize,
    /// Of those, equal.
    pub equal: usize,
    /// Of those, differing: a line each, saying where.
    pub differing: Vec<String>,
    /// Why the whole fixture is not compared, if it is not.
    pub unsupported: Option<String>,
}

/// Strings that are times (`2026-11-21T05:42:57Z`, with fractions).
fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && s.ends_with('Z')
}

/// Strings that are uids.
fn is_uid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Random and time-based values replaced by placeholders.
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "resourceVersion"
                            | "managedFields"
                            | "storageVersionHash"
                            | "serverAddressByClientCIDRs"
                            | "selfLink"
                    )
                })
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("continue", Value::String(s)) if !s.is_empty() => json!("<token>"),
                        ("message", Value::String(s))
                            if s.starts_with("too old resource version") =>
                        {
                            json!("too old resource version: <rv> (<rv>)")
                        }
                        _ => normalize(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::String(s) if is_time(s) => json!("<time>"),
        Value::String(s) if is_uid(s) => json!("<uid>"),
        other => other.clone(),
    }
}

/// The first difference between two values, as `path: recorded ≠ fake`.
fn difference(path: &str, recorded: &Value, fake: &Value) -> Option<String> {
    match (recorded, fake) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|k| {
                difference(
                    &format!("{path}.{k}"),
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                )
            })
        }
        (Value::Array(a), Value::Array(b)) => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| difference(&format!("{path}[{i}]"), x, y))
            .or_else(|| {
                (a.len() != b.len())
                    .then(|| format!("{path}: recorded {} elements ≠ fake {}", a.len(), b.len()))
            }),
        (a, b) if a == b => None,
        (a, b) => {
            let cut = |v: &Value| {
                let s = v.to_string();
                if s.len() > 120 {
                    format!("{}…", s.chars().take(120).collect::<String>())
                } else {
                    s
                }
            };
            Some(format!(
                "{}: recorded {} ≠ fake {}",
                if path.is_empty() { "." } else { path },
                cut(a),
                cut(b)
            ))
        }
    }
}

/// resourceVersions and continue tokens: recorded → the fake's.
#[derive(Debug, Default)]
struct Translation {
    tokens: BTreeMap<String, String>,
    versions: BTreeMap<u64, String>,
}

impl Translation {
    /// Learns from a recorded answer and the fake's, walked side by side.
    fn learn(&mut self, recorded: &Value, fake: &Value) {
        match (recorded, fake) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in a {
                    let Some(w) = b.get(k) else { continue };
                    match (k.as_str(), v, w) {
                        ("resourceVersion", Value::String(r), Value::String(f)) => {
                            if let Ok(n) = r.parse() {
                                self.versions.insert(n, f.clone());
                            }
                        }
                        ("continue", Value::String(r), Value::String(f)) if !r.is_empty() => {
                            self.tokens.insert(r.clone(), f.clone());
                        }
                        _ => self.learn(v, w),
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
                for (v, w) in a.iter().zip(b) {
                    self.learn(v, w);
                }
            }
            _ => {}
        }
    }

    /// The fake's version for a recorded one: the one learned for it, else
    /// the fake's at the nearest learned version below it, else `1` (older
    /// than any the fake has), or the fake's newest when above them all.
    fn version(&self, recorded: &str, newest: u64) -> String {
        let Ok(n) = recorded.parse::<u64>() else {
            return recorded.to_string();
        };
        if n == 0 {
            return "0".into();
        }
        if let Some(v) = self.versions.get(&n) {
            return v.clone();
        }
        if self.versions.keys().next_back().is_none_or(|&max| n > max) {
            return newest.to_string();
        }
        self.versions
            .range(..n)
            .next_back()
            .map_or_else(|| "1".to_string(), |(_, v)| v.clone())
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The recorded request, its versions and tokens translated.
fn request(exchange: &Exchange, t: &Translation, newest: u64) -> http::Request<Bytes> {
    let r = &exchange.request;
    let watch = is_watch(&r.method, &r.query);
    let mut query: Vec<(String, String)> = r
        .query
        .iter()
        .map(|(k, v)| {
            let v = match k.as_str() {
                "resourceVersion" => t.version(v, newest),
                "continue" => t.tokens.get(v).cloned().unwrap_or_else(|| v.clone()),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    if watch && !query.iter().any(|(k, _)| k == "timeoutSeconds") {
        query.push(("timeoutSeconds".into(), "1".into()));
    }
    let mut uri = r.path.split('/').map(encode).collect::<Vec<_>>().join("/");
    if !query.is_empty() {
        let q: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        uri = format!("{uri}?{}", q.join("&"));
    }
    let body = match &r.body {
        RequestBody::None => Bytes::new(),
        RequestBody::Json(v) => {
            let mut v = v.clone();
            if let Some(rv) = v["metadata"]["resourceVersion"].as_str() {
                v["metadata"]["resourceVersion"] = json!(t.version(rv, newest));
            }
            Bytes::from(v.to_string())
        }
        RequestBody::Text(s) => Bytes::from(s.clone()),
    };
    let mut builder = http::Request::builder()
        .method(r.method.as_str())
        .uri(uri)
        .header("user-agent", "kubewire-recorder/1");
    for (k, v) in &r.headers {
        builder = builder.header(k, v);
    }
    builder
        .body(body)
        .expect("a recorded request is a valid request")
}

/// Seeds what the recording started from; the translation learns the
/// seeded objects' versions.
fn seed(
    fake: &FakeApiserver,
    fixture: &Fixture,
    others: &[Fixture],
    t: &mut Translation,
) -> Result<(), String> {
    seed_prerequisites(fake, &fixture.name, |other, index| {
        let f = others.iter().find(|f| f.name == other)?;
        f.exchanges.get(index)?.request.body.json()
    })?;
    for object in recorded::seed_from(fake, fixture)? {
        let m = &object["metadata"];
        if let Some(stored) = fake.get(
            &text(&object["apiVersion"]),
            &text(&object["kind"]),
            &text(&m["namespace"]),
            &text(&m["name"]),
        ) {
            t.learn(&object, &stored);
        }
    }
    Ok(())
}

/// Replays one fixture against a fresh fake; `others` supplies the
/// prerequisites some fixtures have.
pub fn check(fixture: &Fixture, others: &[Fixture]) -> Row {
    let mut row = Row {
        fixture: fixture.name.clone(),
        ..Row::default()
    };
    let fake = FakeApiserver::new();
    fake.set_controllers(Controllers::Manual);
    let mut t = Translation::default();
    if let Err(e) = seed(&fake, fixture, others, &mut t) {
        row.unsupported = Some(format!("its state cannot be seeded: {e}"));
        return row;
    }
    fake.replay_writers(fixture);
    let mut watches = Vec::new();
    for (i, exchange) in fixture.exchanges.iter().enumerate() {
        let steps = PLAN
            .iter()
            .filter(|(n, at, _)| *n == fixture.name && *at == i)
            .map(|(_, _, s)| *s);
        for step in steps {
            match step {
                Step::CompactBefore => fake.compact(),
                Step::ControllersBefore => fake.run_controllers(),
                Step::Unauthorized => fake.inject(Fault::Unauthorized, 1),
                Step::ForbiddenFor(user) => fake.inject(
                    Fault::Forbidden {
                        user: user.to_string(),
                    },
                    1,
                ),
            }
        }
        let request = request(exchange, &t, fake.resource_version());
        let kind = if is_watch(&exchange.request.method, &exchange.request.query) {
            kubewire::RequestKind::Stream
        } else {
            kubewire::RequestKind::Normal
        };
        let response = match kubewire::Transport::send(&fake, request, kind) {
            Ok(r) => r,
            Err(e) => {
                row.compared += 1;
                row.differing.push(format!("#{i}: the fake failed: {e}"));
                continue;
            }
        };
        let status = response.status().as_u16();
        let mut body = response.into_body();
        if kind == kubewire::RequestKind::Stream {
            // Read to its end (its timeout) beside the exchanges that follow.
            watches.push((
                i,
                status,
                std::thread::spawn(move || {
                    let mut bytes = Vec::new();
                    let _ = body.read_to_end(&mut bytes);
                    bytes
                }),
            ));
            continue;
        }
        let mut bytes = Vec::new();
        let _ = body.read_to_end(&mut bytes);
        compare(&mut row, &mut t, i, exchange, status, &bytes, false);
    }
    for (i, status, reader) in watches {
        let bytes = reader.join().unwrap_or_default();
        compare(
            &mut row,
            &mut t,
            i,
            &fixture.exchanges[i],
            status,
            &bytes,
            true,
        );
    }
    row
}

fn compare(
    row: &mut Row,
    t: &mut Translation,
    i: usize,
    exchange: &Exchange,
    status: u16,
    bytes: &[u8],
    watch: bool,
) {
    row.compared += 1;
    let (recorded, fake) = if watch {
        // A watch the recording left open (or saw cut) shows the first
        // events only: the fake's are compared as far as it goes.
        let recorded = json_lines(&exchange.response.body.bytes());
        let mut fake = json_lines(bytes);
        if exchange.response.end != End::Complete {
            fake.truncate(recorded.len());
        }
        (Value::Array(recorded), Value::Array(fake))
    } else {
        (recorded_body(exchange), parse_body(bytes))
    };
    t.learn(&recorded, &fake);
    let what = format!("#{i} {} {}", exchange.request.method, exchange.request.path);
    if status != exchange.response.status {
        row.differing.push(format!(
            "{what}: status recorded {} ≠ fake {status} ({})",
            exchange.response.status,
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        ));
        return;
    }
    match difference("", &normalize(&recorded), &normalize(&fake)) {
        None => row.equal += 1,
        Some(d) => row.differing.push(format!("{what}: {d}")),
    }
}

/// Checks every fixture in `dir`.
pub fn check_dir(dir: &Path) -> Result<Vec<Row>, crate::fixture::FixtureError> {
    let fixtures = Fixture::load_dir(dir)?;
    Ok(fixtures.iter().map(|f| check(f, &fixtures)).collect())
}

/// The table: fixture, exchanges compared, equal, differing; then the
/// fixtures that could not be seeded, and every difference.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<28} {:>8} {:>6} {:>9}\n",
        "fixture", "compared", "equal", "differing"
    );
    let mut notes = String::new();
    for r in rows {
        match &r.unsupported {
            Some(why) => notes.push_str(&format!("unsupported {}: {why}\n", r.fixture)),
            None => out.push_str(&format!(
                "{:<28} {:>8} {:>6} {:>9}\n",
                r.fixture,
                r.compared,
                r.equal,
                r.differing.len()
            )),
        }
        for d in &r.differing {
            notes.push_str(&format!("DIFFERS {} {d}\n", r.fixture));
        }
    }
    let (c, e, d) = rows.iter().fold((0, 0, 0), |(c, e, d), r| {
        (c + r.compared, e + r.equal, d + r.differing.len())
    });
    out.push_str(&format!("{:<28} {c:>8} {e:>6} {d:>9}\n", "total"));
    out + &notes
}
