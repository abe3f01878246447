//! YAML parsing (kubeconfig, manifests) whose errors never quote the
//! input: no snippet of the lines around the error, no value that a serde
//! message would echo. A kubeconfig holds tokens and keys, a manifest a
//! Secret's `stringData`.

use serde::de::DeserializeOwned;

mod parser;

use parser::Typing;

/// The error's words with every double-quoted value elided: the line and
/// column stay, what stood there does not.
pub(crate) fn describe(err: &impl std::fmt::Display) -> String {
    elide_quoted(&err.to_string())
}

/// Replaces the content of every `"..."` in `text` with `…`.
pub(crate) fn elide_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    let mut escaped = false;
    for c in text.chars() {
        if inside {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => {
                    out.push_str("…\"");
                    inside = false;
                }
                _ => escaped = false,
            }
        } else {
            out.push(c);
            inside = c == '"';
        }
    }
    if inside {
        out.push('…');
    }
    out
}

/// One YAML document, read as configuration: plain scalars are strings
/// unless null or a boolean (a kubeconfig's names, addresses and arguments
/// stay text even when they look like numbers).
pub(crate) fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = match parser::documents(text, Typing::Strings)?.into_iter().next() {
        Some(value) => value,
        None => serde_json::Value::Null,
    };
    serde_json::from_value(value).map_err(|e| describe(&e))
}

/// Every document of a multi-document YAML stream (YAML 1.2's core schema:
/// `3` is a number, `"3"` a string).
pub(crate) fn from_multiple<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, String> {
    parser::documents(text, Typing::Core)?
        .into_iter()
        .map(|value| serde_json::from_value(value).map_err(|e| describe(&e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_the_place_and_lose_the_values() {
        let text =
            "users:\n- name: me\n  user:\n    token: MARKER-TOKEN\n    password: [unclosed\n";
        let err = from_str::<serde_json::Value>(text).unwrap_err();
        assert!(err.contains("line 5"), "{err}");
        assert!(!err.contains("MARKER"), "{err}");
        #[derive(Debug, serde::Deserialize)]
        struct Strict {
            #[allow(dead_code)] // only its type matters: a string is refused
            users: Vec<String>,
        }
        let err = from_str::<Strict>("users: MARKER-VALUE\n").unwrap_err();
        assert!(!err.contains("MARKER"), "{err}");
        assert_eq!(elide_quoted(r#"a "b\"c" d "e"#), r#"a "…" d "…"#);
    }
}
