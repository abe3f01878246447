//! Checks that JSON text parses into a `serde_json::Value` without building
//! one: numbers within an f64's range, strings without a lone UTF-16
//! surrogate (`serde::de::IgnoredAny` checks neither).
//!
//! An item's lazy accessors (`spec()`, the status fields) parse parts of
//! its text into `Value`s later, and cannot fail then: the general path of
//! decoding checks here first what the fast scan checks as it passes.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value, parsed as a `Value` would be and dropped as it goes.
pub(crate) struct Holdable;

impl<'de> Deserialize<'de> for Holdable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Holdable, D::Error> {
        deserializer.deserialize_any(Holdable)
    }
}

impl<'de> Visitor<'de> for Holdable {
    type Value = Holdable;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Holdable, E> {
        Ok(Holdable)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Holdable, E> {
        Ok(Holdable)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Holdable, E> {
        Ok(Holdable)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Holdable, E> {
        Ok(Holdable)
    }

    fn visit_str<E>(self, _: &str) -> Result<Holdable, E> {
        Ok(Holdable)
    }

    fn visit_unit<E>(self) -> Result<Holdable, E> {
        Ok(Holdable)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Holdable, A::Error> {
        while seq.next_element::<Holdable>()?.is_some() {}
        Ok(Holdable)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Holdable, A::Error> {
        while map.next_key::<Holdable>()?.is_some() {
            map.next_value::<Holdable>()?;
        }
        Ok(Holdable)
    }
}

/// `Ok` when `text` parses into a `serde_json::Value`; `serde_json`'s error
/// (with its line and column) when it does not.
pub(crate) fn check(text: &[u8]) -> Result<(), serde_json::Error> {
    serde_json::from_slice::<Holdable>(text).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refuses_what_a_value_cannot_hold_and_says_where() {
        for (text, words) in [
            (
                r#"{"spec":{"x":1e400}}"#,
                "number out of range at line 1 column 18",
            ),
            (r#"{"a":["\ud800"]}"#, "hex escape at line 1 column 14"),
            (r#"{"a":"\ud800\u0041"}"#, "lone leading surrogate"),
            (r#"{"\udc00":1}"#, "surrogate"),
            ("[1,]", "trailing comma"),
        ] {
            let error = check(text.as_bytes()).unwrap_err().to_string();
            assert!(error.contains(words), "{text}: {error}");
        }
        check(br#"{"a":[1e-400,-0,"\ud834\udd1e",null,true,{"b":1.5}]}"#).unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Accepts exactly what `serde_json::Value` accepts.
        #[test]
        fn agrees_with_value(text in r#"[\[\]{}",:0-9e.\-a\\u]{0,24}|"(\\u[dD][89a-fA-F][0-9a-f]{2}){0,3}""#) {
            prop_assert_eq!(
                check(text.as_bytes()).is_ok(),
                serde_json::from_str::<serde_json::Value>(&text).is_ok()
            );
        }
    }
}
