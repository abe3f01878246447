//! Relaxed matching, opted into per fixture or per exchange: any order
//! within a group of exchanges, query parameters left out of the
//! comparison, and JSON bodies compared as a subset. The exact difference
//! is still what a failure reports.

use serde_json::{Map, Value, json};

/// How a recorded request is matched; the default is exactly.
///
/// In a fixture file it is a `matching` object, on the fixture (for every
/// exchange) or on one exchange (replacing the fields it names):
/// `{"order": "any", "ignore_query": ["limit"], "body": "subset"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matching {
    /// Consecutive exchanges that all allow it may be requested in any
    /// order among themselves.
    pub any_order: bool,
    /// Query parameters compared on neither side (`limit`, say).
    pub ignore_query: Vec<String>,
    /// The recorded JSON body need only be contained in the one sent:
    /// every recorded member present with a matching value, arrays
    /// element by element.
    pub body_subset: bool,
}

impl Matching {
    /// Whether it is the exact default.
    pub fn is_exact(&self) -> bool {
        *self == Matching::default()
    }

    /// Reads a `matching` object over `base`: the fields it names replace
    /// the base's. The error says what is wrong.
    pub fn read(value: &Value, base: &Matching) -> Result<Matching, String> {
        let o = value
            .as_object()
            .ok_or("expected an object with order, ignore_query or body")?;
        if let Some(k) = o
            .keys()
            .find(|k| !["order", "ignore_query", "body"].contains(&k.as_str()))
        {
            return Err(format!(
                "unknown field {k:?}; allowed: order, ignore_query, body"
            ));
        }
        let mut m = base.clone();
        match o.get("order").map(Value::as_str) {
            None => {}
            Some(Some("any")) => m.any_order = true,
            Some(Some("recorded")) => m.any_order = false,
            Some(_) => return Err("order: expected \"any\" or \"recorded\"".into()),
        }
        if let Some(q) = o.get("ignore_query") {
            m.ignore_query = q
                .as_array()
                .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect())
                .ok_or("ignore_query: expected an array of parameter names")?;
        }
        match o.get("body").map(Value::as_str) {
            None => {}
            Some(Some("subset")) => m.body_subset = true,
            Some(Some("exact")) => m.body_subset = false,
            Some(_) => return Err("body: expected \"subset\" or \"exact\"".into()),
        }
        Ok(m)
    }

    /// The `matching` object of this (every field, as a fixture writes it).
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert(
            "order".into(),
            json!(if self.any_order { "any" } else { "recorded" }),
        );
        if !self.ignore_query.is_empty() {
            o.insert("ignore_query".into(), json!(self.ignore_query));
        }
        o.insert(
            "body".into(),
            json!(if self.body_subset { "subset" } else { "exact" }),
        );
        Value::Object(o)
    }

    /// Whether query parameter `name` is compared.
    pub fn compares(&self, name: &str) -> bool {
        !self.ignore_query.iter().any(|q| q == name)
    }
}

/// Whether `part` is contained in `whole`: objects by member, arrays
/// element by element (same length), anything else equal.
pub fn is_subset(part: &Value, whole: &Value) -> bool {
    match (part, whole) {
        (Value::Object(p), Value::Object(w)) => p
            .iter()
            .all(|(k, v)| w.get(k).is_some_and(|x| is_subset(v, x))),
        (Value::Array(p), Value::Array(w)) => {
            p.len() == w.len() && p.iter().zip(w).all(|(a, b)| is_subset(a, b))
        }
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matching_object_reads_over_its_base_and_refuses_what_it_does_not_know() {
        let fixture = Matching::read(
            &json!({"order": "any", "ignore_query": ["limit"]}),
            &Matching::default(),
        )
        .unwrap();
        assert!(fixture.any_order && !fixture.body_subset && !fixture.compares("limit"));
        let exchange =
            Matching::read(&json!({"body": "subset", "order": "recorded"}), &fixture).unwrap();
        assert_eq!(
            exchange,
            Matching {
                any_order: false,
                ignore_query: vec!["limit".into()],
                body_subset: true
            }
        );
        assert_eq!(
            Matching::read(&exchange.to_json(), &Matching::default()).unwrap(),
            exchange
        );
        assert!(Matching::read(&json!({"order": "sometimes"}), &fixture).is_err());
        assert!(
            Matching::read(&json!({"ignore": []}), &fixture)
                .unwrap_err()
                .contains("unknown field")
        );
    }

    #[test]
    fn subsets_are_by_member_and_by_element() {
        let sent = json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "data": {"k": "v"}, "list": [1, {"a": 1, "b": 2}]});
        assert!(is_subset(&json!({"metadata": {"name": "a"}}), &sent));
        assert!(is_subset(&json!({"list": [1, {"a": 1}]}), &sent));
        assert!(
            !is_subset(&json!({"list": [1]}), &sent),
            "arrays keep their length"
        );
        assert!(!is_subset(&json!({"data": {"k": "w"}}), &sent));
        assert!(!is_subset(&json!({"missing": null}), &sent));
    }
}
