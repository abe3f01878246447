//! Label and field selectors, as strings Kubernetes understands or as
//! exact-match maps, validated before they are sent.

use std::collections::{BTreeMap, HashMap};

use crate::error::{Error, Result};

/// A selector: a string in Kubernetes syntax (set-based label expressions
/// included) or a map of exact matches.
///
/// ```
/// use kubewire::Selector;
/// assert_eq!(Selector::from("tier in (a, b),app!=api").labels().unwrap(), "tier in (a, b),app!=api");
/// assert_eq!(Selector::from([("app", "web"), ("tier", "fe")]).labels().unwrap(), "app=web,tier=fe");
/// assert!(Selector::from("").labels().is_err());              // selects everything: refused
/// assert!(Selector::from("app in (a").labels().is_err());     // not Kubernetes syntax
/// assert_eq!(Selector::from("status.phase=Running").fields().unwrap(), "status.phase=Running");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// A selector string.
    Expr(String),
    /// Exact matches: every key must have its value.
    Map(BTreeMap<String, String>),
}

impl From<&str> for Selector {
    fn from(s: &str) -> Selector {
        Selector::Expr(s.to_string())
    }
}

impl From<String> for Selector {
    fn from(s: String) -> Selector {
        Selector::Expr(s)
    }
}

impl From<BTreeMap<String, String>> for Selector {
    fn from(m: BTreeMap<String, String>) -> Selector {
        Selector::Map(m)
    }
}

impl From<HashMap<String, String>> for Selector {
    fn from(m: HashMap<String, String>) -> Selector {
        Selector::Map(m.into_iter().collect())
    }
}

impl<const N: usize> From<[(&str, &str); N]> for Selector {
    fn from(pairs: [(&str, &str); N]) -> Selector {
        Selector::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

fn empty(what: &str) -> Error {
    Error::InvalidInput(format!(
        "empty {what} selector: it would select everything; pass None instead"
    ))
}

fn bad(what: &str, selector: &str, why: &str) -> Error {
    Error::InvalidInput(format!("{what} selector {selector:?}: {why}"))
}

impl Selector {
    /// The selector as a `labelSelector` value, validated.
    pub fn labels(&self) -> Result<String> {
        match self {
            Selector::Map(m) => {
                if m.is_empty() {
                    return Err(empty("label"));
                }
                let mut out = Vec::with_capacity(m.len());
                for (k, v) in m {
                    check_label_key(k).map_err(|why| bad("label", k, &why))?;
                    check_label_value(v).map_err(|why| bad("label", v, &why))?;
                    out.push(format!("{k}={v}"));
                }
                Ok(out.join(","))
            }
            Selector::Expr(s) => {
                if s.trim().is_empty() {
                    return Err(empty("label"));
                }
                parse_label_selector(s).map_err(|why| bad("label", s, &why))?;
                Ok(s.clone())
            }
        }
    }

    /// The selector as a `fieldSelector` value, validated.
    pub fn fields(&self) -> Result<String> {
        match self {
            Selector::Map(m) => {
                if m.is_empty() {
                    return Err(empty("field"));
                }
                let mut out = Vec::with_capacity(m.len());
                for (k, v) in m {
                    check_field_key(k).map_err(|why| bad("field", k, &why))?;
                    out.push(format!("{k}={}", escape_field_value(v)));
                }
                Ok(out.join(","))
            }
            Selector::Expr(s) => {
                if s.trim().is_empty() {
                    return Err(empty("field"));
                }
                for term in split_unescaped(s).into_iter().filter(|t| !t.is_empty()) {
                    let (key, value) = split_field_term(term).ok_or_else(|| {
                        bad(
                            "field",
                            s,
                            &format!("{term:?} is not key=value, key==value or key!=value"),
                        )
                    })?;
                    check_field_key(key.trim()).map_err(|why| bad("field", s, &why))?;
                    check_field_value(value).map_err(|why| bad("field", s, &why))?;
                }
                Ok(s.clone())
            }
        }
    }
}

/// Field selector values escape `\`, `,` and `=` with a backslash.
fn escape_field_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn split_unescaped(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ',' => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Splits a term at its first operator, as apimachinery does.
fn split_field_term(term: &str) -> Option<(&str, &str)> {
    for (i, _) in term.char_indices() {
        for op in ["!=", "==", "="] {
            if term[i..].starts_with(op) {
                return Some((&term[..i], &term[i + op.len()..]));
            }
        }
    }
    None
}

/// A field selector value: `,` and `=` only escaped, and no escape but
/// `\\`, `\,` and `\=` (apimachinery's `UnescapeValue`).
fn check_field_value(value: &str) -> std::result::Result<(), String> {
    let mut escaped = false;
    for c in value.chars() {
        match (escaped, c) {
            (true, '\\' | ',' | '=') => escaped = false,
            (true, other) => return Err(format!("invalid escape sequence \\{other} in {value:?}")),
            (false, '\\') => escaped = true,
            (false, ',' | '=') => {
                return Err(format!("unescaped {c:?} in value {value:?} (write \\{c})"));
            }
            (false, _) => {}
        }
    }
    if escaped {
        return Err(format!("value {value:?} ends in an unfinished escape"));
    }
    Ok(())
}

fn check_field_key(key: &str) -> std::result::Result<(), String> {
    if !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(format!("{key:?} is not a field path such as status.phase"))
    }
}

fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn check_label_key(key: &str) -> std::result::Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        p.len() <= 253
            && p.split('.').all(|l| {
                let b = l.as_bytes();
                !b.is_empty()
                    && b.len() <= 63
                    && b.iter()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                    && b[0] != b'-'
                    && b[b.len() - 1] != b'-'
            })
    });
    if prefix_ok && is_name_part(name) {
        Ok(())
    } else {
        Err(format!("{key:?} is not a valid label key"))
    }
}

fn check_label_value(value: &str) -> std::result::Result<(), String> {
    if value.is_empty() || is_name_part(value) {
        Ok(())
    } else {
        Err(format!("{value:?} is not a valid label value"))
    }
}

/// Tokens of a label selector.
#[derive(Debug, PartialEq)]
enum Tok<'a> {
    Word(&'a str),
    Op(&'a str),
    Open,
    Close,
    Comma,
    Not,
}

fn tokenize(s: &str) -> std::result::Result<Vec<Tok<'_>>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            b'(' => {
                out.push(Tok::Open);
                i += 1;
            }
            b')' => {
                out.push(Tok::Close);
                i += 1;
            }
            b',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                out.push(Tok::Op("!="));
                i += 2;
            }
            b'!' => {
                out.push(Tok::Not);
                i += 1;
            }
            b'=' if b.get(i + 1) == Some(&b'=') => {
                out.push(Tok::Op("=="));
                i += 2;
            }
            b'=' => {
                out.push(Tok::Op("="));
                i += 1;
            }
            b'<' | b'>' => {
                out.push(Tok::Op(if b[i] == b'<' { "<" } else { ">" }));
                i += 1;
            }
            _ => {
                let start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && !b"(),!=<>".contains(&b[i]) {
                    i += 1;
                }
                out.push(Tok::Word(&s[start..i]));
            }
        }
    }
    Ok(out)
}

/// Validates a label selector: comma-separated requirements `key`, `!key`,
/// `key=v`, `key==v`, `key!=v`, `key in (v1,v2)`, `key notin (v1)`,
/// `key>N`, `key<N`.
fn parse_label_selector(s: &str) -> std::result::Result<(), String> {
    let toks = tokenize(s)?;
    let mut i = 0;
    loop {
        let negated = toks.get(i) == Some(&Tok::Not);
        if negated {
            i += 1;
        }
        let Some(Tok::Word(key)) = toks.get(i) else {
            return Err("expected a label key".into());
        };
        check_label_key(key)?;
        i += 1;
        if !negated {
            match toks.get(i) {
                Some(Tok::Op(op)) => {
                    i += 1;
                    let value = match toks.get(i) {
                        Some(Tok::Word(v)) => {
                            i += 1;
                            *v
                        }
                        _ => "",
                    };
                    if matches!(*op, "<" | ">") {
                        if value.parse::<i64>().is_err() {
                            return Err(format!("{key}{op} needs an integer"));
                        }
                    } else {
                        check_label_value(value)?;
                    }
                }
                Some(Tok::Word(w)) if *w == "in" || *w == "notin" => {
                    i += 1;
                    if toks.get(i) != Some(&Tok::Open) {
                        return Err(format!("expected '(' after {w}"));
                    }
                    i += 1;
                    // Values may be empty, as may the list: apimachinery
                    // reads `x in (a,,b)` and `z notin ()` (the empty value).
                    loop {
                        if let Some(Tok::Word(v)) = toks.get(i) {
                            check_label_value(v)?;
                            i += 1;
                        }
                        match toks.get(i) {
                            Some(Tok::Comma) => i += 1,
                            Some(Tok::Close) => break,
                            _ => {
                                return Err(
                                    "expected ',' or ')' in a value list such as (a,b)".into()
                                );
                            }
                        }
                    }
                    i += 1;
                }
                _ => {}
            }
        }
        match toks.get(i) {
            None => return Ok(()),
            Some(Tok::Comma) => i += 1,
            Some(other) => return Err(format!("unexpected {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors_as_kubernetes_reads_them() {
        for good in [
            "app=web",
            "app==web",
            "app!=web",
            "tier in (frontend,backend),app!=api",
            "tier notin (a)",
            "app",
            "!app",
            "example.com/role=db, app in ( a , b )",
            "app=",
            "replicas>2",
            // apimachinery's own documented example, and what its String()
            // prints for a set holding the empty value.
            "x in (foo,,baz),y,z notin ()",
            "x notin (abc),y in (jkl,mno),z notin ()",
            "app in ()",
            "x in (a,,)",
        ] {
            assert!(Selector::from(good).labels().is_ok(), "{good}");
        }
        for bad in [
            "app in (a",
            "=web",
            "app=web,",
            "app in a",
            "a b",
            "app=-x",
            "Bad_/k=v",
            "x>y",
        ] {
            let err = Selector::from(bad).labels().unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
        let err = Selector::Map(BTreeMap::new())
            .labels()
            .unwrap_err()
            .to_string();
        assert!(err.contains("select everything"), "{err}");
    }

    #[test]
    fn field_selectors() {
        assert_eq!(
            Selector::from("metadata.name=web-1,status.phase!=Failed")
                .fields()
                .unwrap(),
            "metadata.name=web-1,status.phase!=Failed"
        );
        assert_eq!(
            Selector::from([("metadata.name", "a,b")]).fields().unwrap(),
            "metadata.name=a\\,b"
        );
        assert!(Selector::from("phase").fields().is_err());
        // apimachinery's UnescapeValue: `,` and `=` escaped, no other escape.
        assert!(Selector::from(r"metadata.name=a\=b\,c\\d").fields().is_ok());
        for bad in [
            "metadata.name=a=b",
            r"metadata.name=a\x",
            r"metadata.name=a\",
            "metadata.name==a=b",
        ] {
            let err = Selector::from(bad).fields().unwrap_err().to_string();
            assert!(
                err.contains("escape") || err.contains("unescaped"),
                "{bad}: {err}"
            );
        }
        assert!(
            Selector::from("a=b,,c=d").fields().is_ok(),
            "an empty term is skipped"
        );
        assert!(Selector::from(" ").fields().is_err());
    }
}
