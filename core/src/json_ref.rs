//! A JSON value read where it lies: members, elements, strings and numbers
//! found by scanning the bytes, nothing built.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::item_scan::text_of;
use crate::json_scan::{Scanner, Stop};

/// One JSON value inside bytes it borrows — an item's `spec`, a container
/// of it, a string — read in place: finding a member scans the value's
/// text, and nothing is allocated except for a string with escapes.
///
/// Take one from [`Item::field`](crate::Item::field) or
/// [`Item::json`](crate::Item::json) to read a few fields of many objects
/// without building a `serde_json::Value` for each. A member given twice
/// reads as its last occurrence, as in a `serde_json::Value`. Text nested
/// deeper than 100 containers reads as absent.
///
/// `Debug` shows the text, except for a value read from a Secret: its
/// length only (`Display` and [`raw`](JsonRef::raw) give the text).
///
/// ```
/// let item = kubewire::request::decode_item(bytes::Bytes::from_static(
///     br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0"},
///          "spec":{"nodeName":"n1","containers":[{"name":"app","image":"nginx:1.27"}]}}"#)).unwrap();
/// let spec = item.field("spec").unwrap();
/// assert_eq!(spec.get("nodeName").and_then(|n| n.as_str()).as_deref(), Some("n1"));
/// let images: Vec<_> = spec.get("containers").unwrap().elements()
///     .filter_map(|c| c.get("image")?.as_str())
///     .collect();
/// assert_eq!(images, ["nginx:1.27"]);
/// assert_eq!(item.json().pointer("/spec/containers/0/name").unwrap().as_str().as_deref(), Some("app"));
/// ```
#[derive(Clone, Copy)]
pub struct JsonRef<'a> {
    /// Exactly one JSON value, checked, with no whitespace around it.
    text: &'a [u8],
    /// Read from a Secret: `Debug` hides the text.
    secret: bool,
}

impl<'a> JsonRef<'a> {
    /// The value `text` holds (whitespace around it allowed), checked to be
    /// JSON.
    ///
    /// ```
    /// let v = kubewire::model::JsonRef::parse(br#" {"replicas": 3} "#).unwrap();
    /// assert_eq!(v.get("replicas").and_then(|r| r.as_i64()), Some(3));
    /// assert!(kubewire::model::JsonRef::parse(b"{\"replicas\": }").is_err());
    /// ```
    pub fn parse(text: &'a [u8]) -> Result<JsonRef<'a>> {
        let mut s = Scanner::new(text, 0);
        s.ws();
        let start = s.at;
        let scanned = s.value(0).and_then(|()| {
            let end = s.at;
            s.end().map(|()| end)
        });
        match scanned {
            Ok(end) => Ok(JsonRef::checked(&text[start..end])),
            // The scanner stops on what it does not follow; serde_json's
            // verdict (and its words) stand.
            Err(Stop) => match crate::value_check::check(text) {
                Err(e) => Err(Error::decode("a JSON value", e)),
                Ok(_) => Err(Error::decode(
                    "a JSON value",
                    "nested deeper than 100 containers",
                )),
            },
        }
    }

    /// Text the caller knows is exactly one JSON value (a span a scan or
    /// `serde_json` checked).
    pub(crate) fn checked(text: &'a [u8]) -> JsonRef<'a> {
        JsonRef {
            text,
            secret: false,
        }
    }

    /// The same value, marked as read from a Secret when `secret` is
    /// true: `Debug` then shows its length only, and so do the values
    /// read from it.
    pub(crate) fn marked_secret(self, secret: bool) -> JsonRef<'a> {
        JsonRef { secret, ..self }
    }

    /// A value inside this one, marked as this one is.
    fn inner(self, text: &'a [u8]) -> JsonRef<'a> {
        JsonRef::checked(text).marked_secret(self.secret)
    }

    /// The value's JSON text, exactly as it was sent.
    pub fn raw(self) -> &'a [u8] {
        self.text
    }

    /// The member `key` of an object; `None` when it is absent or this is
    /// not an object.
    pub fn get(self, key: &str) -> Option<JsonRef<'a>> {
        self.members()
            .filter(|(k, _)| k == key)
            .last()
            .map(|(_, v)| v)
    }

    /// Element `index` of an array; `None` when it is out of range or this
    /// is not an array.
    pub fn element(self, index: usize) -> Option<JsonRef<'a>> {
        self.elements().nth(index)
    }

    /// The value a JSON Pointer (RFC 6901) names, as
    /// `serde_json::Value::pointer` reads it: `""` is the value itself,
    /// `~1` stands for `/` and `~0` for `~`.
    ///
    /// ```
    /// let v = kubewire::model::JsonRef::parse(br#"{"a/b":[{"~x":true}]}"#).unwrap();
    /// assert_eq!(v.pointer("/a~1b/0/~0x").and_then(|x| x.as_bool()), Some(true));
    /// assert!(v.pointer("/a~1b/01").is_none());
    /// assert!(v.pointer("a").is_none());
    /// ```
    pub fn pointer(self, pointer: &str) -> Option<JsonRef<'a>> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        rest.split('/').try_fold(self, |at, token| {
            let token: Cow<'_, str> = if token.contains('~') {
                Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(token)
            };
            if at.is_array() {
                at.element(pointer_index(&token)?)
            } else {
                at.get(&token)
            }
        })
    }

    /// An object's members in order (a key given twice comes twice); none
    /// when this is not an object.
    pub fn members(self) -> Members<'a> {
        let mut s = Scanner::new(self.text, 0);
        let open = self.is_object() && s.open(0, b'{', b'}').unwrap_or(false);
        Members {
            s,
            open,
            from: self,
        }
    }

    /// An array's elements in order; none when this is not an array.
    pub fn elements(self) -> Elements<'a> {
        let mut s = Scanner::new(self.text, 0);
        let open = self.is_array() && s.open(0, b'[', b']').unwrap_or(false);
        Elements {
            s,
            open,
            from: self,
        }
    }

    /// A string's text, borrowed unless it holds escapes; `None` when this
    /// is not a string.
    pub fn as_str(self) -> Option<Cow<'a, str>> {
        let mut s = Scanner::new(self.text, 0);
        let string = s.string().ok()?;
        text_of(self.text, &string).ok()
    }

    /// An integer that fits an `i64`; `None` for anything else (a
    /// fraction or exponent included, as `serde_json::Value::as_i64`).
    pub fn as_i64(self) -> Option<i64> {
        self.number()?.parse().ok()
    }

    /// A non-negative integer that fits a `u64`.
    pub fn as_u64(self) -> Option<u64> {
        self.number()?.parse().ok()
    }

    /// Any number, as the nearest `f64`.
    pub fn as_f64(self) -> Option<f64> {
        self.number()?.parse().ok()
    }

    /// `true` or `false`.
    pub fn as_bool(self) -> Option<bool> {
        match self.text {
            b"true" => Some(true),
            b"false" => Some(false),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(self) -> bool {
        self.text == b"null"
    }

    /// Whether this is an object.
    pub fn is_object(self) -> bool {
        self.text.first() == Some(&b'{')
    }

    /// Whether this is an array.
    pub fn is_array(self) -> bool {
        self.text.first() == Some(&b'[')
    }

    /// Deserializes the value into `T` — a `serde_json::Value`, a
    /// k8s-openapi type, a struct of the fields you read — borrowing
    /// strings where `T` does.
    ///
    /// ```
    /// let v = kubewire::model::JsonRef::parse(br#"{"replicas":3}"#).unwrap();
    /// let value: serde_json::Value = v.deserialize().unwrap();
    /// assert_eq!(value["replicas"], 3);
    /// ```
    pub fn deserialize<T: serde::Deserialize<'a>>(self) -> Result<T> {
        serde_json::from_slice(self.text).map_err(|e| Error::decode("the requested type", e))
    }

    /// The text of a number, `None` for anything else.
    fn number(self) -> Option<&'a str> {
        match self.text.first()? {
            b'-' | b'0'..=b'9' => std::str::from_utf8(self.text).ok(),
            _ => None,
        }
    }
}

/// An array index in a JSON Pointer: digits, without a leading zero.
fn pointer_index(token: &str) -> Option<usize> {
    let digits = token.bytes().all(|b| b.is_ascii_digit());
    if !digits || token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// The JSON text (invalid UTF-8, which a checked value cannot hold, shown
/// replaced).
impl std::fmt::Display for JsonRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.text))
    }
}

impl std::fmt::Debug for JsonRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_tuple("JsonRef");
        if self.secret {
            d.field(&format_args!("<{} bytes of a Secret>", self.text.len()))
        } else {
            d.field(&String::from_utf8_lossy(self.text))
        }
        .finish()
    }
}

/// The members of an object, from [`JsonRef::members`].
pub struct Members<'a> {
    s: Scanner<'a>,
    /// More members follow.
    open: bool,
    /// The object read.
    from: JsonRef<'a>,
}

/// The object read (`Debug` of a [`JsonRef`]).
impl std::fmt::Debug for Members<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Members").field("of", &self.from).finish()
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = (Cow<'a, str>, JsonRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if !self.open {
            return None;
        }
        let text = self.s.text;
        let member = (|| {
            let key = self.s.key()?;
            let value = self.s.span(1)?;
            self.open = self.s.separator(b'}')?;
            let key =
                text_of(text, &key).unwrap_or_else(|Stop| String::from_utf8_lossy(&text[key.span]));
            Ok::<_, Stop>((key, self.from.inner(&text[value])))
        })();
        if member.is_err() {
            self.open = false;
        }
        member.ok()
    }
}

// Once a scan ends (the closing brace, or text it cannot follow), it
// stays ended.
impl std::iter::FusedIterator for Members<'_> {}

/// The elements of an array, from [`JsonRef::elements`].
pub struct Elements<'a> {
    s: Scanner<'a>,
    /// More elements follow.
    open: bool,
    /// The array read.
    from: JsonRef<'a>,
}

/// The array read (`Debug` of a [`JsonRef`]).
impl std::fmt::Debug for Elements<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elements").field("of", &self.from).finish()
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = JsonRef<'a>;

    fn next(&mut self) -> Option<JsonRef<'a>> {
        if !self.open {
            return None;
        }
        let element = self.s.span(1).and_then(|span| {
            self.open = self.s.separator(b']')?;
            Ok(self.from.inner(&self.s.text[span]))
        });
        if element.is_err() {
            self.open = false;
        }
        element.ok()
    }
}

impl std::iter::FusedIterator for Elements<'_> {}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    /// What `JsonRef` reads, as a `Value`, for comparison with serde_json.
    fn read(v: JsonRef<'_>) -> Value {
        if v.is_object() {
            let mut map = serde_json::Map::new();
            for (k, member) in v.members() {
                map.insert(k.into_owned(), read(member));
            }
            return Value::Object(map);
        }
        if v.is_array() {
            return Value::Array(v.elements().map(read).collect());
        }
        if let Some(s) = v.as_str() {
            return Value::String(s.into_owned());
        }
        if let Some(b) = v.as_bool() {
            return Value::Bool(b);
        }
        if v.is_null() {
            return Value::Null;
        }
        v.as_u64()
            .map(Value::from)
            .or_else(|| v.as_i64().map(Value::from))
            .or_else(|| v.as_f64().map(Value::from))
            .expect("a number")
    }

    fn json() -> impl Strategy<Value = String> {
        let leaf = prop::sample::select(vec![
            "null",
            "true",
            "false",
            "0",
            "-7",
            "3.25",
            "1e3",
            "18446744073709551615",
            r#""""#,
            r#""web""#,
            r#""a\"b\\c""#,
            r#""\u00e9t\u00e9""#,
            r#""é ☃""#,
        ])
        .prop_map(str::to_string);
        leaf.prop_recursive(4, 32, 5, |inner| {
            let key = prop::sample::select(vec!["a", "spec", "n\\u0061me", "a/b", "~", ""]);
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|vs| format!("[ {} ]", vs.join(" , "))),
                prop::collection::vec((key, inner), 0..5).prop_map(|ms| {
                    let members: Vec<_> = ms.iter().map(|(k, v)| format!("\"{k}\" :{v}")).collect();
                    format!("{{{}}}", members.join(",\n"))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Read in place, a value is what serde_json makes of it (a
        /// duplicate key's last value included), at every pointer.
        #[test]
        fn reads_what_serde_json_reads(text in json()) {
            let v = JsonRef::parse(text.as_bytes()).expect("JSON");
            let value: Value = serde_json::from_str(&text).expect("JSON");
            prop_assert_eq!(read(v), value.clone());
            for pointer in ["", "/a", "/spec", "/0", "/1/a", "/name", "/a~1b", "/~0", "/", "/a/0/spec"] {
                prop_assert_eq!(v.pointer(pointer).map(read), value.pointer(pointer).cloned(), "{}", pointer);
            }
        }

        /// Arbitrary bytes: accepted exactly when serde_json parses them
        /// into a `Value` (short of deep nesting), and reading never panics.
        #[test]
        fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..48)) {
            let ours = JsonRef::parse(&bytes);
            let serde = serde_json::from_slice::<serde_json::Value>(&bytes);
            prop_assert_eq!(ours.is_ok(), serde.is_ok());
            if let Ok(v) = ours {
                let _ = read(v);
            }
        }
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test reads the fixture corpus
    fn every_upstream_object_reads_in_place_as_serde_json_parses_it() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/upstream-objects");
        let mut objects = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let raw = std::fs::read(&path).unwrap();
            let value: Value = serde_json::from_slice(&raw).unwrap();
            let Ok(item) = crate::request::decode_item(bytes::Bytes::from(raw)) else {
                continue; // lists and objects without metadata
            };
            objects += 1;
            assert_eq!(read(item.json()), value, "{}", path.display());
            for (name, member) in value.as_object().unwrap() {
                let field = item.field(name).expect("every member is found");
                assert_eq!(read(field), *member, "{name}");
            }
            assert!(item.field("noSuchMember").is_none());
            if let Some(spec) = value.get("spec") {
                assert_eq!(item.json().pointer("/spec").map(read).as_ref(), Some(spec));
            }
        }
        assert!(objects > 150, "the upstream objects were read: {objects}");
    }

    #[test]
    fn wrong_shapes_read_as_absent() {
        let v = JsonRef::parse(br#"{"s":"x","n":-1.5,"list":[1,2]}"#).unwrap();
        assert!(v.get("missing").is_none());
        assert!(v.element(0).is_none(), "an object has no elements");
        let s = v.get("s").unwrap();
        assert!(s.get("x").is_none() && s.as_i64().is_none() && s.as_bool().is_none());
        assert_eq!(v.get("n").unwrap().as_i64(), None);
        assert_eq!(v.get("n").unwrap().as_f64(), Some(-1.5));
        assert_eq!(v.get("n").unwrap().as_str(), None);
        assert!(v.get("list").unwrap().element(2).is_none());
        assert_eq!(v.get("list").unwrap().elements().count(), 2);
        assert!(v.pointer("/list/-").is_none());
        assert!(v.pointer("/list/+1").is_none());
        assert_eq!(v.get("list").unwrap().to_string(), "[1,2]");
    }

    #[test]
    fn what_a_value_cannot_hold_is_refused_as_serde_json_refuses_it() {
        for (text, words) in [
            (&br#"{"\ud800":"v"}"#[..], "escape"),
            (br#"{"k":"\udc00"}"#, "escape"),
            (
                br#"{"n":[1,2e400]}"#,
                "number out of range at line 1 column 13",
            ),
        ] {
            let err = JsonRef::parse(text).unwrap_err().to_string();
            assert!(err.contains(words), "{err}");
        }
        let v = JsonRef::parse(br#"{"\ud834\udd1e":"\uD834\uDD1E","n":1e-400}"#).unwrap();
        let (key, value) = v.members().next().unwrap();
        assert_eq!(key, "\u{1D11E}");
        assert_eq!(value.as_str().as_deref(), Some("\u{1D11E}"));
        assert_eq!(v.get("n").unwrap().as_f64(), Some(0.0));
    }

    #[test]
    fn deep_nesting_is_refused_with_a_reason() {
        let deep = format!("{}{}", "[".repeat(110), "]".repeat(110));
        let err = JsonRef::parse(deep.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("deeper than 100"), "{err}");
        let bad = JsonRef::parse(b"{\"a\":}").unwrap_err().to_string();
        assert!(bad.contains("expected value"), "serde_json's words: {bad}");
    }
}
