//! One resource at one resourceVersion: raw JSON kept, metadata decoded.

use bytes::Bytes;
use serde::Deserialize;

use crate::error::{Error, Result};
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
    // picture and the caller's event) costs reference counts, not copies.
    api_version: std::sync::Arc<str>,
    kind: std::sync::Arc<str>,
    meta: std::sync::Arc<ObjectMeta>,
    /// The whole object, parsed the first time a field beyond the
    /// metadata is read (`spec()`, `conditions()`, a typed status
    /// accessor), then kept: an item is immutable, so it is parsed at most
    /// once. Clones share it.
    parsed: std::sync::OnceLock<std::sync::Arc<serde_json::Value>>,
}

/// The object as JSON, except for a Secret: its name and version only
/// (its data, and annotations that may copy it, are never printed).
impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Item");
        d.field("api_version", &self.api_version)
            .field("kind", &self.kind);
        if &*self.kind == "Secret" {
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
        Ok(Item {
            raw,
            api_version: if head.api_version.is_empty() {
                api_version.into()
            } else {
                head.api_version.into()
            },
            kind: if head.kind.is_empty() {
                kind.into()
            } else {
                head.kind.into()
            },
            meta: std::sync::Arc::new(meta),
            parsed: std::sync::OnceLock::new(),
        })
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
        Ok(Item {
            raw,
            api_version: head.api_version.into(),
            kind: if head.kind.is_empty() {
                "Status".into()
            } else {
                head.kind.into()
            },
            meta: std::sync::Arc::default(),
            parsed: std::sync::OnceLock::new(),
        })
    }

    /// The raw JSON of the whole object, as the server sent it.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The object as a `serde_json::Value` (a fresh copy).
    pub fn to_value(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.raw).map_err(|e| Error::decode("a JSON object", e))
    }

    /// The object without its metadata (decoded already, and often the
    /// largest part: `managedFields`), parsed once and kept; an empty object
    /// if the raw JSON does not parse, which a decoded item's cannot fail to.
    pub(crate) fn parsed(&self) -> &serde_json::Value {
        self.parsed.get_or_init(|| {
            #[cfg(test)]
            tests::PARSES.with(|n| n.set(n.get() + 1));
            let body = serde_json::from_slice::<WithoutMetadata>(&self.raw).unwrap_or_default();
            std::sync::Arc::new(serde_json::Value::Object(body.0))
        })
    }

    /// Deserializes the whole object into `T`.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T> {
        serde_json::from_slice(&self.raw).map_err(|e| Error::decode("the requested type", e))
    }

    /// A copy of `spec`; an empty object when the object has none (a
    /// Secret, a ConfigMap).
    pub fn spec(&self) -> serde_json::Value {
        self.parsed()
            .get("spec")
            .filter(|s| !s.is_null())
            .cloned()
            .unwrap_or_else(|| serde_json::Value::Object(Default::default()))
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
            link.push_str(&crate::segment::encode_segment(ns));
        }
        link.push('/');
        link.push_str(resource);
        link.push('/');
        link.push_str(&crate::segment::encode_segment(name));
        Ok(link)
    }

    /// `status.conditions` as (type, status, reason and message) — empty
    /// when there are none.
    pub fn conditions(&self) -> Vec<(String, String, String)> {
        let text = |c: &serde_json::Value, k: &str| {
            c.get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        self.parsed()
            .pointer("/status/conditions")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
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

/// A JSON object's fields except `metadata`, which is skipped unparsed.
#[derive(Default)]
struct WithoutMetadata(serde_json::Map<String, serde_json::Value>);

impl<'de> Deserialize<'de> for WithoutMetadata {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
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
                    if key == "metadata" {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    } else {
                        fields.insert(key, map.next_value()?);
                    }
                }
                Ok(fields)
            }
        }
        d.deserialize_map(Fields).map(WithoutMetadata)
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

    thread_local! {
        /// How many times this thread parsed an item's whole object.
        pub(super) static PARSES: Cell<usize> = const { Cell::new(0) };
    }

    #[test]
    fn an_item_is_parsed_at_most_once_however_its_fields_are_read() {
        let item = crate::request::decode_item(bytes::Bytes::from_static(
            br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","uid":"u","resourceVersion":"1"},
                "spec":{"nodeName":"n1"},"status":{"phase":"Running","conditions":[
                {"type":"Ready","status":"True","reason":"R","message":"ok"}]}}"#,
        ))
        .unwrap();
        let before = PARSES.with(Cell::get);
        assert_eq!(item.spec()["nodeName"], "n1");
        assert_eq!(item.spec()["nodeName"], "n1");
        assert_eq!(
            item.conditions(),
            [("Ready".to_string(), "True".to_string(), "R: ok".to_string())]
        );
        use crate::items::typed::TypedItem as _;
        let pod = crate::items::pod::Pod::from_item(item.clone()).unwrap();
        assert_eq!(pod.phase().unwrap(), crate::items::pod::PodPhase::Running);
        assert_eq!(pod.spec()["nodeName"], "n1");
        assert_eq!(item.to_value().unwrap()["status"]["phase"], "Running");
        // One parse: the clone for the typed pod carried the parsed object
        // (to_value is a fresh, whole copy).
        assert_eq!(PARSES.with(Cell::get) - before, 1);
        // Metadata alone never parses the object.
        let fresh = crate::request::decode_item(item.raw().clone()).unwrap();
        assert_eq!(fresh.meta().name(), "web-0");
        assert_eq!(PARSES.with(Cell::get) - before, 1);
    }
}
