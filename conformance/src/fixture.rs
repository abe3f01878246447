//! The fixture model of `fixtures/FORMAT.md`: load, validate, write.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::relaxed::Matching;
use base64::Engine as _;
use kubewire::stream::Opcode;
use serde_json::{Map, Value, json};

/// Where a fixture came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Recorded from a real apiserver.
    Recorded,
    /// Written by hand.
    Handwritten,
    /// Derived from other data (e.g. a recorded fixture with a fault added).
    Derived,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Recorded => "recorded",
            Source::Handwritten => "handwritten",
            Source::Derived => "derived",
        }
    }
}

/// One fixture: an ordered conversation between a client and an apiserver.
#[derive(Clone, Debug, PartialEq)]
pub struct Fixture {
    /// Unique kebab-case name, equal to the file name without `.json`.
    pub name: String,
    /// What the client does and what must happen.
    pub description: String,
    /// Where the fixture came from.
    pub source: Source,
    /// The apiserver version, e.g. `v1.36.2`.
    pub server_version: Option<String>,
    /// The exchanges, consumed strictly in order.
    pub exchanges: Vec<Exchange>,
    /// The fixture is about subprotocol negotiation: the WebSocket offer is
    /// compared whole (as a set), not only for the recorded choice.
    pub negotiation: bool,
    /// How its exchanges are matched unless one says otherwise (exactly,
    /// by default).
    pub matching: Matching,
}

/// One request and the response the server gives to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    /// What the client must send.
    pub request: ExpectedRequest,
    /// What the server sends back.
    pub response: RecordedResponse,
    /// May be skipped (a client may legitimately stop early).
    pub optional: bool,
    /// How its request is matched (the fixture's, with the exchange's own
    /// `matching` over it).
    pub matching: Matching,
}

/// The request a client must send.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedRequest {
    /// Upper-case method.
    pub method: String,
    /// Decoded path, starting with `/`.
    pub path: String,
    /// Query pairs, matched as a multiset.
    pub query: Vec<(String, String)>,
    /// Headers that must match (names lower-case, values exact; the
    /// WebSocket offer by [`ExpectedRequest::offer`]).
    pub headers: BTreeMap<String, String>,
    /// How `sec-websocket-protocol` is compared.
    pub offer: Offer,
    /// The body the client must send.
    pub body: RequestBody,
}

/// How a WebSocket upgrade's `sec-websocket-protocol` offer is compared
/// (`FORMAT-upgrade.md`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Offer {
    /// As a set of comma-separated protocols, order ignored.
    #[default]
    Set,
    /// The offer must contain this protocol (the one the server chose).
    Contains(String),
}

/// An expected request body.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestBody {
    /// No body.
    None,
    /// A JSON value, compared by JSON equality.
    Json(Value),
    /// A non-JSON body, compared exactly.
    Text(String),
}

/// The response the server sends.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers (lower-case names), in file order.
    pub headers: Vec<(String, String)>,
    /// The body, in one of three forms.
    pub body: ResponseBody,
    /// How the response ends.
    pub end: End,
    /// For a `101`: the WebSocket conversation that follows.
    pub upgrade: Option<Upgrade>,
}

/// An upgraded connection's conversation (`FORMAT-upgrade.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upgrade {
    /// The negotiated subprotocol, `""` for none.
    pub protocol: String,
    /// Every frame, in the order the client observed them.
    pub messages: Vec<WsMessage>,
    /// What happened to the connection after the last frame.
    pub end: UpgradeEnd,
}

/// Who sent a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The client (masked on the wire).
    Client,
    /// The server.
    Server,
}

/// One WebSocket frame of a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsMessage {
    /// Who sent it.
    pub from: Side,
    /// `text`, `binary`, `close`, `ping`, `pong` or `continuation`.
    pub opcode: Opcode,
    /// The unmasked payload.
    pub payload: Vec<u8>,
    /// False on a frame that is not the last of its message.
    pub fin: bool,
    /// Milliseconds since the previous entry.
    pub delay_ms: u64,
    /// A fault for derived fixtures: send only this many bytes of the
    /// encoded frame, then drop the connection.
    pub cut_after: Option<usize>,
}

/// The fixture format's names of the WebSocket opcodes.
const OPCODES: [(Opcode, &str); 6] = [
    (Opcode::Continuation, "continuation"),
    (Opcode::Text, "text"),
    (Opcode::Binary, "binary"),
    (Opcode::Close, "close"),
    (Opcode::Ping, "ping"),
    (Opcode::Pong, "pong"),
];

/// The fixture's name of an opcode (`binary`, `close`, ...).
pub fn opcode_name(opcode: Opcode) -> &'static str {
    OPCODES
        .iter()
        .find(|(o, _)| *o == opcode)
        .map_or("", |(_, name)| name)
}

fn parse_opcode(name: &str) -> Option<Opcode> {
    OPCODES.iter().find(|(_, n)| *n == name).map(|(o, _)| *o)
}

/// How an upgraded connection ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpgradeEnd {
    /// The server closes TCP after the close handshake.
    Closed,
    /// The server drops TCP without (completing) the close handshake.
    Eof,
    /// The connection stays open; the client must stop on its own.
    Hang,
}

impl UpgradeEnd {
    fn as_str(self) -> &'static str {
        match self {
            UpgradeEnd::Closed => "closed",
            UpgradeEnd::Eof => "eof",
            UpgradeEnd::Hang => "hang",
        }
    }
}

impl RecordedResponse {
    /// The whole body as bytes.
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body.bytes()
    }
}

/// A response body.
#[derive(Clone, Debug, PartialEq)]
pub enum ResponseBody {
    /// A JSON value, served compact with `content-length`.
    Json(Value),
    /// A string served as is with `content-length`.
    Text(String),
    /// Chunks served with `transfer-encoding: chunked`, one HTTP chunk each.
    Chunks(Vec<Chunk>),
}

/// One chunk of a chunked response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The chunk's bytes.
    pub bytes: Vec<u8>,
    /// Milliseconds to wait before sending it.
    pub delay_ms: u64,
}

/// How a response ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum End {
    /// The response ends properly.
    #[default]
    Complete,
    /// The connection is closed after the last chunk, without the final
    /// zero-length chunk.
    Cut,
    /// Nothing more is sent; the connection stays open.
    Hang,
}

impl End {
    fn as_str(self) -> &'static str {
        match self {
            End::Complete => "complete",
            End::Cut => "cut",
            End::Hang => "hang",
        }
    }
}

impl RequestBody {
    /// The JSON value of a JSON body.
    pub fn json(&self) -> Option<serde_json::Value> {
        match self {
            RequestBody::Json(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl ResponseBody {
    /// The whole body as bytes (JSON served compact).
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            ResponseBody::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            ResponseBody::Text(t) => t.as_bytes().to_vec(),
            ResponseBody::Chunks(c) => c.iter().flat_map(|c| c.bytes.iter().copied()).collect(),
        }
    }
}

/// A fixture that failed to load: the file, the JSON path and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixtureError {
    /// The file (or `<memory>`).
    pub file: PathBuf,
    /// The JSON path of the offending value, e.g. `$.exchanges[2].response.status`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.file.display(),
            self.path,
            self.message
        )
    }
}

impl std::error::Error for FixtureError {}

struct Checker<'a> {
    file: &'a Path,
}

type Checked<T> = Result<T, FixtureError>;

impl Checker<'_> {
    fn err<T>(&self, path: &str, message: impl Into<String>) -> Checked<T> {
        Err(FixtureError {
            file: self.file.to_path_buf(),
            path: path.to_string(),
            message: message.into(),
        })
    }

    fn object<'v>(&self, v: &'v Value, path: &str) -> Checked<&'v Map<String, Value>> {
        match v.as_object() {
            Some(o) => Ok(o),
            None => self.err(path, format!("expected an object, found {}", kind_of(v))),
        }
    }

    fn only_keys(&self, o: &Map<String, Value>, path: &str, allowed: &[&str]) -> Checked<()> {
        match o.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => self.err(
                &format!("{path}.{k}"),
                format!("unknown field; allowed: {}", allowed.join(", ")),
            ),
            None => Ok(()),
        }
    }

    fn string(&self, o: &Map<String, Value>, key: &str, path: &str) -> Checked<String> {
        let p = format!("{path}.{key}");
        match o.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => self.err(&p, format!("expected a string, found {}", kind_of(other))),
            None => self.err(&p, "missing"),
        }
    }

    fn fixture(&self, v: &Value) -> Checked<Fixture> {
        let o = self.object(v, "$")?;
        self.only_keys(
            o,
            "$",
            &[
                "format",
                "name",
                "description",
                "source",
                "server_version",
                "exchanges",
                "negotiation",
                "matching",
            ],
        )?;
        if o.get("format") != Some(&json!(1)) {
            return self.err("$.format", "must be 1");
        }
        let name = self.string(o, "name", "$")?;
        let kebab = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !kebab {
            return self.err("$.name", format!("{name:?} is not kebab-case"));
        }
        if let Some(stem) = self.file.file_stem().and_then(|s| s.to_str())
            && self.file.extension().is_some_and(|e| e == "json")
            && stem != name
        {
            return self.err(
                "$.name",
                format!("{name:?} differs from the file name {stem:?}"),
            );
        }
        let description = self.string(o, "description", "$")?;
        let source = match self.string(o, "source", "$")?.as_str() {
            "recorded" => Source::Recorded,
            "handwritten" => Source::Handwritten,
            "derived" => Source::Derived,
            other => {
                return self.err(
                    "$.source",
                    format!("{other:?}: expected recorded, handwritten or derived"),
                );
            }
        };
        let server_version = match o.get("server_version") {
            None | Some(Value::Null) => None,
            Some(_) => Some(self.string(o, "server_version", "$")?),
        };
        let list = match o.get("exchanges") {
            Some(Value::Array(a)) => a,
            Some(other) => {
                return self.err(
                    "$.exchanges",
                    format!("expected an array, found {}", kind_of(other)),
                );
            }
            None => return self.err("$.exchanges", "missing"),
        };
        let matching = match o.get("matching") {
            None => Matching::default(),
            Some(m) => {
                Matching::read(m, &Matching::default()).or_else(|e| self.err("$.matching", e))?
            }
        };
        let mut exchanges = list
            .iter()
            .enumerate()
            .map(|(i, e)| self.exchange(e, &format!("$.exchanges[{i}]"), &matching))
            .collect::<Checked<Vec<_>>>()?;
        let negotiation = match o.get("negotiation") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return self.err(
                    "$.negotiation",
                    format!("expected a boolean, found {}", kind_of(other)),
                );
            }
        };
        for exchange in &mut exchanges {
            let chosen = exchange.response.upgrade.as_ref().map(|u| &u.protocol);
            if let Some(chosen) = chosen.filter(|c| !c.is_empty() && !negotiation) {
                exchange.request.offer = Offer::Contains(chosen.clone());
            }
        }
        Ok(Fixture {
            name,
            description,
            source,
            server_version,
            exchanges,
            negotiation,
            matching,
        })
    }

    fn exchange(&self, v: &Value, path: &str, base: &Matching) -> Checked<Exchange> {
        let o = self.object(v, path)?;
        self.only_keys(o, path, &["request", "response", "optional", "matching"])?;
        let matching = match o.get("matching") {
            None => base.clone(),
            Some(m) => {
                Matching::read(m, base).or_else(|e| self.err(&format!("{path}.matching"), e))?
            }
        };
        let optional = match o.get("optional") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return self.err(
                    &format!("{path}.optional"),
                    format!("expected a boolean, found {}", kind_of(other)),
                );
            }
        };
        let request = self.request(
            o.get("request").unwrap_or(&Value::Null),
            &format!("{path}.request"),
        )?;
        let response = self.response(
            o.get("response").unwrap_or(&Value::Null),
            &format!("{path}.response"),
        )?;
        Ok(Exchange {
            request,
            response,
            optional,
            matching,
        })
    }

    fn headers(&self, o: &Map<String, Value>, path: &str) -> Checked<Vec<(String, String)>> {
        let p = format!("{path}.headers");
        let Some(h) = o.get("headers") else {
            return Ok(Vec::new());
        };
        let h = self.object(h, &p)?;
        let mut out = Vec::new();
        for (k, v) in h {
            if k.is_empty()
                || k.bytes()
                    .any(|b| b.is_ascii_uppercase() || !b.is_ascii_graphic())
            {
                return self.err(
                    &format!("{p}.{k}"),
                    "header names must be lower-case tokens",
                );
            }
            match v {
                Value::String(s) => out.push((k.clone(), s.clone())),
                other => {
                    return self.err(
                        &format!("{p}.{k}"),
                        format!("expected a string, found {}", kind_of(other)),
                    );
                }
            }
        }
        Ok(out)
    }

    fn request(&self, v: &Value, path: &str) -> Checked<ExpectedRequest> {
        let o = self.object(v, path)?;
        self.only_keys(
            o,
            path,
            &["method", "path", "query", "headers", "body", "body_text"],
        )?;
        let method = self.string(o, "method", path)?;
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
            return self.err(
                &format!("{path}.method"),
                format!("{method:?} is not an upper-case method"),
            );
        }
        let req_path = self.string(o, "path", path)?;
        if !req_path.starts_with('/') {
            return self.err(&format!("{path}.path"), "must start with '/'");
        }
        let mut query = Vec::new();
        match o.get("query") {
            None | Some(Value::Null) => {}
            Some(Value::Array(pairs)) => {
                for (i, p) in pairs.iter().enumerate() {
                    let pp = format!("{path}.query[{i}]");
                    match p.as_array().map(Vec::as_slice) {
                        Some([Value::String(k), Value::String(v)]) => {
                            query.push((k.clone(), v.clone()))
                        }
                        _ => return self.err(&pp, "expected a [name, value] pair of strings"),
                    }
                }
            }
            Some(other) => {
                return self.err(
                    &format!("{path}.query"),
                    format!("expected an array of pairs, found {}", kind_of(other)),
                );
            }
        }
        let headers = self.headers(o, path)?.into_iter().collect();
        let body = match (o.get("body"), o.get("body_text")) {
            (Some(b), Some(_)) if !b.is_null() => {
                return self.err(
                    &format!("{path}.body_text"),
                    "give either body or body_text",
                );
            }
            (_, Some(Value::String(t))) => RequestBody::Text(t.clone()),
            (_, Some(other)) => {
                return self.err(
                    &format!("{path}.body_text"),
                    format!("expected a string, found {}", kind_of(other)),
                );
            }
            (None | Some(Value::Null), None) => RequestBody::None,
            (Some(b), None) => RequestBody::Json(b.clone()),
        };
        Ok(ExpectedRequest {
            method,
            path: req_path,
            query,
            headers,
            body,
            offer: Offer::Set,
        })
    }

    fn response(&self, v: &Value, path: &str) -> Checked<RecordedResponse> {
        let o = self.object(v, path)?;
        self.only_keys(
            o,
            path,
            &[
                "status",
                "headers",
                "body",
                "body_text",
                "chunks",
                "end",
                "upgrade",
            ],
        )?;
        let status = match o.get("status").and_then(Value::as_u64) {
            Some(s @ 100..=599) => s as u16,
            _ => {
                return self.err(
                    &format!("{path}.status"),
                    "expected an HTTP status code (100-599)",
                );
            }
        };
        let headers = self.headers(o, path)?;
        if status == 101 || o.contains_key("upgrade") {
            if status != 101 {
                return self.err(&format!("{path}.upgrade"), "only a 101 answer upgrades");
            }
            if let Some(k) = ["body", "body_text", "chunks", "end"]
                .into_iter()
                .find(|k| o.contains_key(*k))
            {
                return self.err(&format!("{path}.{k}"), "a 101 answer has no body");
            }
            let upgrade = match o.get("upgrade") {
                Some(u) => self.upgrade(u, &format!("{path}.upgrade"))?,
                None => return self.err(&format!("{path}.upgrade"), "missing (status 101)"),
            };
            return Ok(RecordedResponse {
                status,
                headers,
                body: ResponseBody::Text(String::new()),
                end: End::Complete,
                upgrade: Some(upgrade),
            });
        }
        let forms: Vec<&str> = ["body", "body_text", "chunks"]
            .into_iter()
            .filter(|k| o.contains_key(*k))
            .collect();
        let body = match forms.as_slice() {
            ["body"] => ResponseBody::Json(o["body"].clone()),
            ["body_text"] => match &o["body_text"] {
                Value::String(s) => ResponseBody::Text(s.clone()),
                other => {
                    return self.err(
                        &format!("{path}.body_text"),
                        format!("expected a string, found {}", kind_of(other)),
                    );
                }
            },
            ["chunks"] => {
                let Some(list) = o["chunks"].as_array() else {
                    return self.err(&format!("{path}.chunks"), "expected an array");
                };
                let chunks = list
                    .iter()
                    .enumerate()
                    .map(|(i, c)| self.chunk(c, &format!("{path}.chunks[{i}]")))
                    .collect::<Checked<Vec<_>>>()?;
                ResponseBody::Chunks(chunks)
            }
            [] => {
                return self.err(
                    path,
                    "needs exactly one of body, body_text, chunks; found none",
                );
            }
            many => {
                return self.err(
                    path,
                    format!(
                        "needs exactly one of body, body_text, chunks; found {}",
                        many.join(", ")
                    ),
                );
            }
        };
        let end = match o.get("end") {
            None => End::Complete,
            Some(Value::String(s)) => match s.as_str() {
                "complete" => End::Complete,
                "cut" => End::Cut,
                "hang" => End::Hang,
                other => {
                    return self.err(
                        &format!("{path}.end"),
                        format!("{other:?}: expected complete, cut or hang"),
                    );
                }
            },
            Some(other) => {
                return self.err(
                    &format!("{path}.end"),
                    format!("expected a string, found {}", kind_of(other)),
                );
            }
        };
        Ok(RecordedResponse {
            status,
            headers,
            body,
            end,
            upgrade: None,
        })
    }

    fn upgrade(&self, v: &Value, path: &str) -> Checked<Upgrade> {
        let o = self.object(v, path)?;
        self.only_keys(o, path, &["protocol", "messages", "end"])?;
        let protocol = self.string(o, "protocol", path)?;
        let end = match self.string(o, "end", path)?.as_str() {
            "closed" => UpgradeEnd::Closed,
            "eof" => UpgradeEnd::Eof,
            "hang" => UpgradeEnd::Hang,
            other => {
                return self.err(
                    &format!("{path}.end"),
                    format!("{other:?}: expected closed, eof or hang"),
                );
            }
        };
        let Some(list) = o.get("messages").and_then(Value::as_array) else {
            return self.err(&format!("{path}.messages"), "expected an array");
        };
        let messages = list
            .iter()
            .enumerate()
            .map(|(i, m)| self.ws_message(m, &format!("{path}.messages[{i}]")))
            .collect::<Checked<Vec<_>>>()?;
        Ok(Upgrade {
            protocol,
            messages,
            end,
        })
    }

    /// The optional `delay_ms` of a chunk or a message.
    fn delay_ms(&self, o: &Map<String, Value>, path: &str) -> Checked<u64> {
        match o.get("delay_ms") {
            None => Ok(0),
            Some(d) => match d.as_u64() {
                Some(ms) => Ok(ms),
                None => self.err(
                    &format!("{path}.delay_ms"),
                    "expected a non-negative integer",
                ),
            },
        }
    }

    fn ws_message(&self, v: &Value, path: &str) -> Checked<WsMessage> {
        let o = self.object(v, path)?;
        self.only_keys(
            o,
            path,
            &[
                "from",
                "opcode",
                "base64",
                "text",
                "fin",
                "delay_ms",
                "cut_after",
            ],
        )?;
        let from = match self.string(o, "from", path)?.as_str() {
            "client" => Side::Client,
            "server" => Side::Server,
            other => {
                return self.err(
                    &format!("{path}.from"),
                    format!("{other:?}: expected client or server"),
                );
            }
        };
        let name = self.string(o, "opcode", path)?;
        let Some(opcode) = parse_opcode(&name) else {
            return self.err(
                &format!("{path}.opcode"),
                format!("{name:?} is not an opcode"),
            );
        };
        let payload = match (o.get("base64"), o.get("text")) {
            (Some(Value::String(b)), None) => {
                match base64::engine::general_purpose::STANDARD.decode(b) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        return self.err(&format!("{path}.base64"), format!("invalid base64: {e}"));
                    }
                }
            }
            (None, Some(Value::String(t))) if opcode == Opcode::Text => t.as_bytes().to_vec(),
            _ => {
                return self.err(
                    path,
                    "a message needs exactly one of base64 or text (text only for text frames)",
                );
            }
        };
        let fin = match o.get("fin") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return self.err(
                    &format!("{path}.fin"),
                    format!("expected a boolean, found {}", kind_of(other)),
                );
            }
        };
        let delay_ms = self.delay_ms(o, path)?;
        let cut_after = match o.get("cut_after") {
            None => None,
            Some(n) => match n.as_u64() {
                Some(n) if from == Side::Server => Some(n as usize),
                _ => {
                    return self.err(
                        &format!("{path}.cut_after"),
                        "a byte count, on a server frame",
                    );
                }
            },
        };
        Ok(WsMessage {
            from,
            opcode,
            payload,
            fin,
            delay_ms,
            cut_after,
        })
    }

    fn chunk(&self, v: &Value, path: &str) -> Checked<Chunk> {
        let o = self.object(v, path)?;
        self.only_keys(o, path, &["text", "base64", "delay_ms"])?;
        let bytes = match (o.get("text"), o.get("base64")) {
            (Some(Value::String(t)), None) => t.as_bytes().to_vec(),
            (None, Some(Value::String(b))) => {
                match base64::engine::general_purpose::STANDARD.decode(b) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        return self.err(&format!("{path}.base64"), format!("invalid base64: {e}"));
                    }
                }
            }
            _ => {
                return self.err(
                    path,
                    "a chunk needs exactly one of text or base64, as a string",
                );
            }
        };
        let delay_ms = self.delay_ms(o, path)?;
        Ok(Chunk { bytes, delay_ms })
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Fixture {
    /// Loads and validates a fixture file.
    pub fn load(path: impl AsRef<Path>) -> Result<Fixture, FixtureError> {
        let path = path.as_ref();
        let text = std::fs::read(path).map_err(|e| FixtureError {
            file: path.to_path_buf(),
            path: "$".into(),
            message: format!("cannot read: {e}"),
        })?;
        Fixture::parse(&text, path)
    }

    /// Parses and validates fixture JSON; `file` names it in errors (its
    /// stem must equal the fixture's name when it ends in `.json`).
    pub fn parse(text: &[u8], file: &Path) -> Result<Fixture, FixtureError> {
        let value: Value = serde_json::from_slice(text).map_err(|e| FixtureError {
            file: file.to_path_buf(),
            path: "$".into(),
            message: format!("not valid JSON: {e}"),
        })?;
        Checker { file }.fixture(&value)
    }

    /// Loads every `*.json` fixture of a directory, sorted by name.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<Fixture>, FixtureError> {
        let dir = dir.as_ref();
        let entries = std::fs::read_dir(dir).map_err(|e| FixtureError {
            file: dir.to_path_buf(),
            path: "$".into(),
            message: format!("cannot read directory: {e}"),
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths.iter().map(Fixture::load).collect()
    }

    /// The fixture as JSON in the format of FORMAT.md.
    pub fn to_json(&self) -> Value {
        let mut top = Map::new();
        top.insert("format".into(), json!(1));
        top.insert("name".into(), json!(self.name));
        top.insert("description".into(), json!(self.description));
        top.insert("source".into(), json!(self.source.as_str()));
        if let Some(v) = &self.server_version {
            top.insert("server_version".into(), json!(v));
        }
        if self.negotiation {
            top.insert("negotiation".into(), json!(true));
        }
        if !self.matching.is_exact() {
            top.insert("matching".into(), self.matching.to_json());
        }
        let exchanges: Vec<Value> = self
            .exchanges
            .iter()
            .map(|e| e.to_json(&self.matching))
            .collect();
        top.insert("exchanges".into(), Value::Array(exchanges));
        Value::Object(top)
    }

    /// Writes the fixture, pretty-printed, to `path`.
    pub fn write(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let mut text = serde_json::to_vec_pretty(&self.to_json()).map_err(std::io::Error::other)?;
        text.push(b'\n');
        std::fs::write(path, text)
    }
}

impl Exchange {
    fn to_json(&self, fixture: &Matching) -> Value {
        let r = &self.request;
        let mut req = Map::new();
        req.insert("method".into(), json!(r.method));
        req.insert("path".into(), json!(r.path));
        if !r.query.is_empty() {
            let q: Vec<Value> = r.query.iter().map(|(k, v)| json!([k, v])).collect();
            req.insert("query".into(), Value::Array(q));
        }
        if !r.headers.is_empty() {
            req.insert("headers".into(), json!(r.headers));
        }
        match &r.body {
            RequestBody::None => {}
            RequestBody::Json(v) => {
                req.insert("body".into(), v.clone());
            }
            RequestBody::Text(t) => {
                req.insert("body_text".into(), json!(t));
            }
        }
        let s = &self.response;
        let mut resp = Map::new();
        resp.insert("status".into(), json!(s.status));
        let headers: Map<String, Value> = s
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        resp.insert("headers".into(), Value::Object(headers));
        if let Some(upgrade) = &s.upgrade {
            resp.insert("upgrade".into(), upgrade.to_json());
        } else {
            match &s.body {
                ResponseBody::Json(v) => {
                    resp.insert("body".into(), v.clone());
                }
                ResponseBody::Text(t) => {
                    resp.insert("body_text".into(), json!(t));
                }
                ResponseBody::Chunks(chunks) => {
                    let list: Vec<Value> = chunks.iter().map(Chunk::to_json).collect();
                    resp.insert("chunks".into(), Value::Array(list));
                }
            }
            if s.end != End::Complete {
                resp.insert("end".into(), json!(s.end.as_str()));
            }
        }
        let mut ex = Map::new();
        ex.insert("request".into(), Value::Object(req));
        ex.insert("response".into(), Value::Object(resp));
        if self.optional {
            ex.insert("optional".into(), json!(true));
        }
        if self.matching != *fixture {
            ex.insert("matching".into(), self.matching.to_json());
        }
        Value::Object(ex)
    }
}

impl Upgrade {
    fn to_json(&self) -> Value {
        let messages: Vec<Value> = self
            .messages
            .iter()
            .map(|m| {
                let mut o = Map::new();
                o.insert(
                    "from".into(),
                    json!(match m.from {
                        Side::Client => "client",
                        Side::Server => "server",
                    }),
                );
                o.insert("opcode".into(), json!(opcode_name(m.opcode)));
                o.insert(
                    "base64".into(),
                    json!(base64::engine::general_purpose::STANDARD.encode(&m.payload)),
                );
                if !m.fin {
                    o.insert("fin".into(), json!(false));
                }
                if m.delay_ms > 0 {
                    o.insert("delay_ms".into(), json!(m.delay_ms));
                }
                if let Some(n) = m.cut_after {
                    o.insert("cut_after".into(), json!(n));
                }
                Value::Object(o)
            })
            .collect();
        json!({"protocol": self.protocol, "messages": messages, "end": self.end.as_str()})
    }
}

impl Chunk {
    fn to_json(&self) -> Value {
        let mut c = Map::new();
        match std::str::from_utf8(&self.bytes) {
            Ok(text) => c.insert("text".into(), json!(text)),
            Err(_) => c.insert(
                "base64".into(),
                json!(base64::engine::general_purpose::STANDARD.encode(&self.bytes)),
            ),
        };
        if self.delay_ms > 0 {
            c.insert("delay_ms".into(), json!(self.delay_ms));
        }
        Value::Object(c)
    }
}
