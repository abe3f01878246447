//! One resource at one resourceVersion: raw JSON kept, metadata decoded.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::item_scan::ItemScan;
use crate::json_ref::JsonRef;
use crate::json_scan::{Scan, Scanner, Stop};
use crate::meta::ObjectMeta;

/// An immutable snapshot of one object. The raw JSON is kept exactly as the
/// server sent it (sharing the response's buffer); metadata is decoded
/// eagerly, everything else on access.
///
/// ```
/// let item = kubewire::request::decode_item(bytes::Bytes::from_static(
///     br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","namespace":"demo",
///          "uid":"u1","resourceVersion":"42","labels":{"app":"web"}},"spec":{}}"#)).unwrap();
/// assert_eq!(item.meta().name(), "web-0");
/// assert_eq!(item.meta().labels().get("app"), Some("web"));
/// assert_eq!(item.kind(), "Pod");
/// ```
#[derive(Clone)]
pub struct Item {
    raw: Bytes,
    // Shared, so that a clone (a cache and its change queue, a watcher's
    // picture and the caller's event) costs reference counts, not copies;
    // the items of one list or watch share their apiVersion and kind.
    api_version: Arc<str>,
    kind: Arc<str>,
    meta: Arc<ObjectMeta>,
    /// Where `spec` is in `raw`, when the decoding scan found out.
    spec_at: SpecAt,
    /// `spec`, parsed the first time it is read, then kept: an item is
    /// immutable, so each part is parsed at most once. Clones share it.
    spec: OnceLock<Arc<serde_json::Value>>,
    /// The other members except `metadata` (decoded already) and a
    /// located `spec`, parsed the first time one is read (`status`,
    /// `conditions()`, a typed accessor).
    rest: OnceLock<Arc<serde_json::Value>>,
}

/// Where an item's `spec` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SpecAt {
    /// Not looked for (the general decoding path): it is in `rest`.
    Unknown,
    /// The object has none.
    Absent,
    /// Its value's span in `raw`.
    At(u32, u32),
}

/// Shares the `apiVersion` and `kind` strings of the items of one list or
/// watch stream, and fills them in where items omit them (list items).
#[derive(Debug)]
pub(crate) struct Names {
    default_api_version: Arc<str>,
    default_kind: Arc<str>,
    api_version: Arc<str>,
    kind: Arc<str>,
}

impl Default for Names {
    fn default() -> Names {
        Names::new("", "")
    }
}

impl Names {
    /// Names whose defaults (for items that omit them) are these.
    pub(crate) fn new(api_version: &str, kind: &str) -> Names {
        let api_version: Arc<str> = api_version.into();
        let kind: Arc<str> = kind.into();
        Names {
            default_api_version: api_version.clone(),
            default_kind: kind.clone(),
            api_version,
            kind,
        }
    }

    fn share(last: &mut Arc<str>, default: &Arc<str>, own: &str) -> Arc<str> {
        if own.is_empty() {
            return default.clone();
        }
        if **last != *own {
            *last = own.into();
        }
        last.clone()
    }

    fn api_version(&mut self, own: &str) -> Arc<str> {
        Names::share(&mut self.api_version, &self.default_api_version, own)
    }

    fn kind(&mut self, own: &str) -> Arc<str> {
        Names::share(&mut self.kind, &self.default_kind, own)
    }
}

/// The object as JSON, except for a Secret: its name and version only
/// (its data, and annotations that may copy it, are never printed).
impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Item");
        d.field("api_version", &self.api_version)
            .field("kind", &self.kind);
        if self.is_secret() {
            return d
                .field("namespace", &self.meta.namespace())
                .field("name", &self.meta.name())
                .field("resource_version", &self.meta.version())
                .finish_non_exhaustive();
        }
        d.field("meta", &self.meta)
            .field("raw", &String::from_utf8_lossy(&self.raw))
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    metadata: Option<ObjectMeta>,
}

impl Item {
    /// Decodes an object. `api_version` and `kind` fill in what list items
    /// omit (they carry neither).
    pub(crate) fn decode(raw: Bytes, api_version: &str, kind: &str) -> Result<Item> {
        Item::decode_with(raw, &mut Names::new(api_version, kind))
    }

    /// Decodes an object, sharing `names` with the other items of its list
    /// or stream.
    pub(crate) fn decode_with(raw: Bytes, names: &mut Names) -> Result<Item> {
        let mut s = Scanner::new(&raw, 0);
        s.ws();
        let scanned = if s.peek() == Some(b'{') {
            crate::item_scan::scan_object(&mut s).and_then(|found| s.end().map(|()| found))
        } else {
            Err(Stop)
        };
        if let Ok(found) = scanned {
            let span = 0..raw.len();
            if let Ok(item) = Item::from_scan(&raw, span, found, names) {
                return Ok(item);
            }
        }
        Item::decode_general(raw, names)
    }

    /// The item a scan found at `span` of `text`; stops where the general
    /// path must decide (a Status, a list, an escape that does not decode).
    pub(crate) fn from_scan(
        text: &Bytes,
        span: std::ops::Range<usize>,
        found: ItemScan,
        names: &mut Names,
    ) -> Scan<Item> {
        let string = |s: &Option<crate::json_scan::Str>| match s {
            Some(s) => crate::item_scan::text_of(text, s),
            None => Ok(std::borrow::Cow::Borrowed("")),
        };
        let kind = string(&found.kind)?;
        if kind == "Status" || kind.ends_with("List") {
            return Err(Stop);
        }
        let api_version = string(&found.api_version)?;
        let offset = |at: usize| u32::try_from(at - span.start).map_err(|_| Stop);
        let spec_at = match &found.spec {
            Some(spec) => SpecAt::At(offset(spec.start)?, offset(spec.end)?),
            None => SpecAt::Absent,
        };
        let api_version = names.api_version(&api_version);
        let kind = names.kind(&kind);
        let meta = ObjectMeta::from_scan(text, found.meta)?;
        Ok(Item::new(
            text.slice(span),
            api_version,
            kind,
            meta,
            spec_at,
        ))
    }

    /// An item whose parts are not parsed yet.
    fn new(
        raw: Bytes,
        api_version: Arc<str>,
        kind: Arc<str>,
        meta: ObjectMeta,
        spec_at: SpecAt,
    ) -> Item {
        Item {
            raw,
            api_version,
            kind,
            meta: Arc::new(meta),
            spec_at,
            spec: OnceLock::new(),
            rest: OnceLock::new(),
        }
    }

    /// Decodes an object with serde (any layout; the errors' words).
    fn decode_general(raw: Bytes, names: &mut Names) -> Result<Item> {
        let text = std::str::from_utf8(&raw)
            .map_err(|e| Error::decode("an object with metadata", format!("not UTF-8: {e}")))?;
        // Parsing from a validated `str` spares serde_json a second UTF-8
        // check of every string it decodes.
        let head: Head =
            serde_json::from_str(text).map_err(|e| Error::decode("an object with metadata", e))?;
        if head.kind == "Status" {
            let status = crate::status::Status::from_body(&raw).unwrap_or_default();
            return Err(Error::Decode {
                expected: "an object with metadata",
                message: format!("got a Status ({}: {})", status.status, status.message),
            });
        }
        if head.kind.ends_with("List") {
            return Err(Error::Decode {
                expected: "an object with metadata",
                message: format!("got a list ({}); decode it as a list", head.kind),
            });
        }
        let meta = head.metadata.ok_or_else(|| Error::Decode {
            expected: "an object with metadata",
            message: if head.kind.is_empty() {
                "the object has no metadata".to_string()
            } else {
                format!("a {} has no metadata", head.kind)
            },
        })?;
        // What the lazy accessors will parse must parse: a number beyond an
        // f64 or a lone surrogate anywhere is refused now, not lost later.
        crate::value_check::check(&raw).map_err(|e| Error::decode("an object with metadata", e))?;
        let (api_version, kind) = (names.api_version(&head.api_version), names.kind(&head.kind));
        Ok(Item::new(raw, api_version, kind, meta, SpecAt::Unknown))
    }

    /// Wraps the `Status` object of a watch `ERROR` event (kind `Status`,
    /// empty metadata), checking only that it is a JSON object.
    pub(crate) fn decode_status_object(raw: Bytes) -> Result<Item> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct StatusHead {
            #[serde(default)]
            api_version: String,
            #[serde(default)]
            kind: String,
        }
        let text = std::str::from_utf8(&raw)
            .map_err(|e| Error::decode("a Status object", format!("not UTF-8: {e}")))?;
        let head: StatusHead =
            serde_json::from_str(text).map_err(|e| Error::decode("a Status object", e))?;
        let kind = if head.kind.is_empty() {
            "Status".into()
        } else {
            head.kind.into()
        };
        Ok(Item::new(
            raw,
            head.api_version.into(),
            kind,
            ObjectMeta::default(),
            SpecAt::Absent,
        ))
    }

    /// The raw JSON of the whole object, as the server sent it.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The object as a `serde_json::Value` (a fresh copy).
    pub fn to_value(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.raw).map_err(|e| Error::decode("a JSON object", e))
    }

    /// The members other than `metadata` (decoded already, and often the
    /// largest part: `managedFields`) and a located `spec`, parsed once and
    /// kept; an empty object if the raw JSON does not parse, which a
    /// decoded item's cannot fail to (decoding refuses what a `Value`
    /// cannot hold).
    fn rest(&self) -> &serde_json::Value {
        self.rest.get_or_init(|| {
            #[cfg(test)]
            tests::PARSES.with(|n| n.set(n.get() + 1));
            let skip_spec = self.spec_at != SpecAt::Unknown;
            let body = std::str::from_utf8(&self.raw)
                .ok()
                .and_then(|text| {
                    let mut de = serde_json::Deserializer::from_str(text);
                    serde::Deserializer::deserialize_map(&mut de, Members { skip_spec }).ok()
                })
                .unwrap_or_default();
            Arc::new(serde_json::Value::Object(body))
        })
    }

    /// A top-level member other than `metadata`, `None` when absent.
    pub(crate) fn member(&self, name: &str) -> Option<&serde_json::Value> {
        if name == "spec" && self.spec_at != SpecAt::Unknown {
            let spec = self.spec.get_or_init(|| {
                #[cfg(test)]
                tests::PARSES.with(|n| n.set(n.get() + 1));
                let value = self
                    .located_spec()
                    .and_then(|text| std::str::from_utf8(text).ok())
                    .and_then(|text| serde_json::from_str(text).ok())
                    .unwrap_or_default();
                Arc::new(value)
            });
            return Some(&**spec).filter(|s| !s.is_null());
        }
        self.rest().get(name)
    }

    /// The text of the `spec` the decoding scan located; `None` when it
    /// found none, or did not look (then `spec` is in the rest).
    fn located_spec(&self) -> Option<&[u8]> {
        match self.spec_at {
            SpecAt::At(from, to) => Some(&self.raw[from as usize..to as usize]),
            SpecAt::Absent | SpecAt::Unknown => None,
        }
    }

    /// The whole object, read in place (see [`JsonRef`]).
    ///
    /// ```
    /// let item = kubewire::request::decode_item(bytes::Bytes::from_static(
    ///     br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0"},"status":{"phase":"Running"}}"#)).unwrap();
    /// assert_eq!(item.json().pointer("/status/phase").unwrap().as_str().as_deref(), Some("Running"));
    /// ```
    pub fn json(&self) -> JsonRef<'_> {
        // A decoded item's text is one JSON value, checked by the scan or
        // by serde_json.
        JsonRef::checked(self.raw.trim_ascii()).marked_secret(self.is_secret())
    }

    /// A Secret, whose text `Debug` never shows.
    fn is_secret(&self) -> bool {
        &*self.kind == "Secret"
    }

    /// A top-level member (`spec`, `status`, `data`, ...) read in place,
    /// without parsing anything else; `None` when the object has none.
    /// `spec` is found without a scan when the decoder located it.
    ///
    /// ```
    /// let item = kubewire::request::decode_item(bytes::Bytes::from_static(
    ///     br#"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web"},"spec":{"replicas":3}}"#)).unwrap();
    /// assert_eq!(item.field("spec").unwrap().get("replicas").unwrap().as_i64(), Some(3));
    /// assert!(item.field("status").is_none());
    /// ```
    pub fn field(&self, name: &str) -> Option<JsonRef<'_>> {
        if name == "spec" && self.spec_at != SpecAt::Unknown {
            return self
                .located_spec()
                .map(|spec| JsonRef::checked(spec).marked_secret(self.is_secret()));
        }
        self.json().get(name)
    }

    /// Deserializes the whole object into `T`.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T> {
        serde_json::from_slice(&self.raw).map_err(|e| Error::decode("the requested type", e))
    }

    /// `spec`, parsed on first use and kept; an empty object when the
    /// object has none (a Secret, a ConfigMap).
    ///
    /// ```
    /// let item = kubewire::request::decode_item(bytes::Bytes::from_static(
    ///     br#"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web"},"spec":{"replicas":3}}"#)).unwrap();
    /// assert_eq!(item.spec()["replicas"], 3);
    /// ```
    pub fn spec(&self) -> &serde_json::Value {
        static EMPTY: OnceLock<serde_json::Value> = OnceLock::new();
        self.member("spec")
            .filter(|s| !s.is_null())
            .unwrap_or_else(|| EMPTY.get_or_init(|| serde_json::Value::Object(Default::default())))
    }

    /// `spec` deserialized into `T` — k8s-openapi's `PodSpec`, or a struct
    /// of only the fields you read — straight from its bytes, without a
    /// `Value` in between (nothing is kept: each call decodes again).
    /// [`Error::StatusUnavailable`] when the object has no spec.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Replicas { replicas: i32 }
    /// let item = kubewire::request::decode_item(bytes::Bytes::from_static(
    ///     br#"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web"},"spec":{"replicas":3,"paused":false}}"#)).unwrap();
    /// assert_eq!(item.spec_as::<Replicas>().unwrap().replicas, 3);
    /// ```
    pub fn spec_as<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let err = |e: serde_json::Error| Error::decode("the requested spec type", e);
        let absent = || Error::StatusUnavailable {
            field: "spec".to_string(),
        };
        if self.spec_at == SpecAt::Unknown {
            return match self.member("spec") {
                Some(spec) => T::deserialize(spec).map_err(err),
                None => Err(absent()),
            };
        }
        match self.located_spec() {
            Some(text) if text != b"null" => serde_json::from_slice(text).map_err(err),
            _ => Err(absent()),
        }
    }

    /// The object's path on the server, computed from its `apiVersion`,
    /// `resource` (the plural, e.g. `pods`), namespace and name — what
    /// `selfLink` held before Kubernetes 1.20 stopped sending it.
    ///
    /// ```
    /// let item = kubewire::request::decode_item(bytes::Bytes::from_static(
    ///     br#"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"demo"}}"#)).unwrap();
    /// assert_eq!(item.link("deployments").unwrap(), "/apis/apps/v1/namespaces/demo/deployments/web");
    /// ```
    pub fn link(&self, resource: &str) -> Result<String> {
        let name = self.meta.name();
        if name.is_empty() || self.api_version.is_empty() {
            return Err(Error::StatusUnavailable {
                field: if name.is_empty() {
                    "metadata.name"
                } else {
                    "apiVersion"
                }
                .to_string(),
            });
        }
        crate::segment::check_name(name)?;
        crate::segment::check_resource_word(resource, "resource")?;
        for part in self.api_version.split('/') {
            crate::segment::check_resource_word(part, "apiVersion")?;
        }
        let mut link = if self.api_version.contains('/') {
            format!("/apis/{}", self.api_version)
        } else {
            format!("/api/{}", self.api_version)
        };
        if let Some(ns) = self.meta.namespace() {
            crate::segment::check_path_component(ns, "namespace")?;
            link.push_str("/namespaces/");
            crate::segment::push_segment(&mut link, ns);
        }
        link.push('/');
        link.push_str(resource);
        link.push('/');
        crate::segment::push_segment(&mut link, name);
        Ok(link)
    }

    /// `status.conditions` as (type, status, reason and message) — empty
    /// when there are none. Read in place: nothing else of the object is
    /// parsed (a `wait` reads them from every revision it sees).
    pub fn conditions(&self) -> Vec<(String, String, String)> {
        let text = |c: JsonRef<'_>, k: &str| {
            c.get(k)
                .and_then(JsonRef::as_str)
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_default()
        };
        self.field("status")
            .and_then(|status| status.get("conditions"))
            .into_iter()
            .flat_map(JsonRef::elements)
            .map(|c| {
                let why = format!("{}: {}", text(c, "reason"), text(c, "message"));
                (text(c, "type"), text(c, "status"), why)
            })
            .collect()
    }

    /// `apiVersion` (taken from the list for list items).
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// `kind` (taken from the list for list items).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The decoded metadata.
    pub fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
}

/// A JSON object's members except `metadata` (and `spec` when
/// `skip_spec`), which are skipped unparsed.
struct Members {
    skip_spec: bool,
}

impl<'de> serde::de::Visitor<'de> for Members {
    type Value = serde_json::Map<String, serde_json::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut fields = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "metadata" || (self.skip_spec && key == "spec") {
                map.next_value::<serde::de::IgnoredAny>()?;
            } else {
                fields.insert(key, map.next_value()?);
            }
        }
        Ok(fields)
    }
}

/// Same resource at the same version: uid and resourceVersion are equal.
impl PartialEq for Item {
    fn eq(&self, other: &Item) -> bool {
        self.meta.uid() == other.meta.uid() && self.meta.version() == other.meta.version()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use proptest::prelude::*;

    use super::*;

    /// An outcome both decoding paths must agree on. (The spec and status
    /// only when the object parses as a `Value`: a lone surrogate escape
    /// elsewhere leaves the general path's members empty, while the fast
    /// path still reads a located spec.)
    fn outcome(item: Result<Item>) -> std::result::Result<String, String> {
        item.map(|item| {
            let parses = serde_json::from_slice::<serde_json::Value>(item.raw()).is_ok();
            let in_place = |name| item.field(name).map(|v| v.to_string());
            format!(
                "{:?} {} {} {:?} {:?} {:?} {:?}",
                item.raw(),
                item.api_version(),
                item.kind(),
                item.meta(),
                parses.then(|| (item.spec().clone(), item.member("status").cloned())),
                in_place("spec"),
                in_place("status"),
            )
        })
        .map_err(|e| e.to_string())
    }

    fn object() -> impl Strategy<Value = String> {
        let string = prop::sample::select(vec![
            r#""web-0""#,
            r#""a\"b""#,
            r#""\u00e9t\u00e9""#,
            r#""\ud800""#,
            "null",
            "5",
            r#""""#,
            r#""2026-11-21T05:42:50Z""#,
            r#""2026-11-21T05:42:50.123456Z""#,
            "[]",
            "{}",
        ]);
        let map = prop::sample::select(vec![
            r#"{"app":"web","tier":"x"}"#,
            r#"{"b":"1","a":"2","a":"3"}"#,
            r#"{"k":"v\n\u003c"}"#,
            r#"{"k":5}"#,
            r#"{"k":"\udc00"}"#,
            "null",
            "{}",
            "[]",
        ]);
        let field = prop::sample::select(vec![
            "name",
            "generateName",
            "namespace",
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
            "labels",
            "annotations",
            "ownerReferences",
            "finalizers",
            "managedFields",
            r"n\u0061me",
        ]);
        let member = (field, string, map, prop::sample::select(vec![
            "1", "-3", "1.0", "1e3", "99999999999999999999", "null", r#""1""#,
            r#"[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"r","uid":"u","controller":true}]"#,
            r#"[{"name":5}]"#, r#"["f1","f2"]"#, r#"[{"manager":"m","fieldsV1":{"f:x":{}}}]"#,
        ]))
            .prop_map(|(field, string, map, other)| {
                let value = match field {
                    "labels" | "annotations" => map,
                    "generation" | "ownerReferences" | "finalizers" | "managedFields" => other,
                    _ => string,
                };
                format!(r#""{field}":{value}"#)
            });
        let top = prop::sample::select(vec![
            r#""kind":"Pod""#,
            r#""kind":"Status""#,
            r#""kind":"PodList""#,
            r#""kind":null"#,
            r#""apiVersion":"v1""#,
            r#""apiVersion":"apps/v1""#,
            r#""spec":{"replicas":3}"#,
            r#""spec":null"#,
            r#""spec":[1]"#,
            r#""status":{"phase":"Running"}"#,
            r#""data":{"k":"v"}"#,
            r#""metadata":null"#,
            r#""metadata":{"name":"dup"}"#,
        ]);
        (
            prop::collection::vec(member, 0..8),
            prop::collection::vec(top, 0..5),
            any::<bool>(),
        )
            .prop_map(|(members, top, meta_first)| {
                let meta = format!(r#""metadata":{{{}}}"#, members.join(","));
                let mut parts: Vec<String> = top.into_iter().map(str::to_string).collect();
                if meta_first {
                    parts.insert(0, meta)
                } else {
                    parts.push(meta)
                }
                format!("{{{}}}", parts.join(","))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// The fast scan and serde give the same item, or the same error,
        /// for objects of every shape and for damaged ones.
        #[test]
        fn the_fast_path_decodes_as_serde_does(
            bytes in crate::damage::damaged(object().prop_map(String::into_bytes), b"{}[]\",:\\ x0\xff"),
        ) {
            let raw = Bytes::from(bytes);
            let fast = Item::decode_with(raw.clone(), &mut Names::new("v9", "Default"));
            let general = Item::decode_general(raw, &mut Names::new("v9", "Default"));
            prop_assert_eq!(outcome(fast), outcome(general));
        }
    }

    thread_local! {
        /// How many times this thread parsed part of an item (its spec, or
        /// the rest beyond the metadata).
        pub(super) static PARSES: Cell<usize> = const { Cell::new(0) };
    }

    #[test]
    fn conditions_read_in_place_as_a_value_reads_them() {
        let reference = |text: &str| -> Vec<(String, String, String)> {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            let s = |c: &serde_json::Value, k: &str| c[k].as_str().unwrap_or_default().to_string();
            v.pointer("/status/conditions")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| {
                    (
                        s(c, "type"),
                        s(c, "status"),
                        format!("{}: {}", s(c, "reason"), s(c, "message")),
                    )
                })
                .collect()
        };
        for status in [
            r#"{"conditions":[{"type":"Ready","status":"True","reason":"R","message":"a \"quoted\" \u00e9"}]}"#,
            r#"{"conditions":[{"type":"Ready","status":true,"reason":3},{"status":"False","status":"True"}]}"#,
            r#"{"conditions":{"type":"Ready"}}"#,
            r#"{"conditions":null,"phase":"Running"}"#,
            r#"{"conditions":[],"conditions":[{"type":"Later"}]}"#,
            r#"{"conditions":[null,7,{"type":"Ready"}]}"#,
            r#""Running""#,
        ] {
            let text = format!(
                r#"{{"kind":"Pod","apiVersion":"v1","metadata":{{"name":"p"}},"status":{status}}}"#
            );
            let item = crate::request::decode_item(bytes::Bytes::from(text.clone())).unwrap();
            assert_eq!(item.conditions(), reference(&text), "{status}");
        }
    }

    #[test]
    fn each_part_of_an_item_is_parsed_at_most_once_however_its_fields_are_read() {
        let item = crate::request::decode_item(bytes::Bytes::from_static(
            br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","uid":"u","resourceVersion":"1"},
                "spec":{"nodeName":"n1"},"status":{"phase":"Running","conditions":[
                {"type":"Ready","status":"True","reason":"R","message":"ok"}]}}"#,
        ))
        .unwrap();
        let before = PARSES.with(Cell::get);
        assert_eq!(item.spec()["nodeName"], "n1");
        assert_eq!(item.spec()["nodeName"], "n1");
        // Reading the spec parsed the spec only.
        assert_eq!(PARSES.with(Cell::get) - before, 1);
        assert_eq!(
            item.conditions(),
            [("Ready".to_string(), "True".to_string(), "R: ok".to_string())]
        );
        // The conditions are read in place.
        assert_eq!(PARSES.with(Cell::get) - before, 1);
        use crate::items::typed::TypedItem as _;
        let pod = crate::items::pod::Pod::from_item(item.clone()).unwrap();
        assert_eq!(pod.phase().unwrap(), crate::items::pod::PodPhase::Running);
        assert_eq!(pod.spec()["nodeName"], "n1");
        assert_eq!(item.to_value().unwrap()["status"]["phase"], "Running");
        // Two parses, the spec and the rest: the clone for the typed pod
        // carried both (to_value is a fresh, whole copy).
        assert_eq!(PARSES.with(Cell::get) - before, 2);
        // Metadata alone never parses the object.
        let fresh = crate::request::decode_item(item.raw().clone()).unwrap();
        assert_eq!(fresh.meta().name(), "web-0");
        assert_eq!(PARSES.with(Cell::get) - before, 2);
    }
}
