//! Validation and percent-encoding of everything that goes into a URL path.
//!
//! A name, namespace or other path segment is checked before any request is
//! built, so a bad value is an [`Error::InvalidInput`] naming it, never a
//! request to a different path.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::error::{Error, Result};

/// Characters percent-encoded in a path segment: everything outside RFC 3986
/// `pchar` (unreserved, sub-delims, `:` and `@`).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Characters percent-encoded in a query name or value (also `&`, `=`, `+`).
const QUERY: &AsciiSet = &SEGMENT.add(b'&').add(b'=').add(b'+').add(b';');

/// Appends one path segment (which must already be validated),
/// percent-encoded, to `out`.
pub(crate) fn push_segment(out: &mut String, seg: &str) {
    out.extend(utf8_percent_encode(seg, SEGMENT));
}

/// Appends a query name or value, percent-encoded, to `out`.
pub(crate) fn push_query(out: &mut String, s: &str) {
    out.extend(utf8_percent_encode(s, QUERY));
}

/// Checks a generic path segment: not empty, not `.` or `..`, no `/` or `%`
/// (the apiserver's own path-segment rule), no whitespace or control
/// characters, printable ASCII only.
pub(crate) fn check_path_component(value: &str, what: &str) -> Result<()> {
    let reason = if value.is_empty() {
        Some("is empty")
    } else if value == "." || value == ".." {
        Some("may not be '.' or '..'")
    } else if value.contains('/') {
        Some("may not contain '/'")
    } else if value.contains('%') {
        Some("may not contain '%'")
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        Some("may only hold printable ASCII characters without spaces")
    } else {
        None
    };
    match reason {
        Some(r) => Err(Error::InvalidInput(format!("{what} {value:?} {r}"))),
        None => Ok(()),
    }
}

/// Checks an object name. Names follow the generic path-segment rule (RBAC
/// objects may hold `:`), limited to 253 characters.
pub(crate) fn check_name(value: &str) -> Result<()> {
    check_path_component(value, "name")?;
    if value.len() > 253 {
        return Err(Error::InvalidInput(format!(
            "name {value:?} is longer than 253 characters"
        )));
    }
    Ok(())
}

/// Checks a namespace: an RFC 1123 label (lower-case alphanumerics and `-`,
/// starting and ending alphanumeric, at most 63 characters).
pub(crate) fn check_namespace(value: &str) -> Result<()> {
    check_path_component(value, "namespace")?;
    let b = value.as_bytes();
    let ok_char = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-';
    let valid = b.len() <= 63
        && b.iter().all(ok_char)
        && b.first().is_some_and(|c| *c != b'-')
        && b.last().is_some_and(|c| *c != b'-');
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "namespace {value:?} is not a valid RFC 1123 label \
             (lower-case alphanumerics and '-', at most 63 characters)"
        )))
    }
}

/// Checks a subresource or resource (plural) name: lower-case ASCII
/// letters, digits, `-` and `.`.
pub(crate) fn check_resource_word(value: &str, what: &str) -> Result<()> {
    check_path_component(value, what)?;
    if value
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
    {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "{what} {value:?} may only hold lower-case letters, digits, '-' and '.'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_path_tricks() {
        for bad in ["", ".", "..", "a/b", "a%2Fb", "a b", "a\nb", "ä"] {
            let err = check_name(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
        assert!(check_name("system:controller:job").is_ok());
        assert!(check_name(&"a".repeat(254)).is_err());
    }

    #[test]
    fn namespace_is_a_label() {
        assert!(check_namespace("kube-system").is_ok());
        for bad in ["Demo", "-a", "a-", "a.b", &"a".repeat(64), "a_b"] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encodes() {
        let segment = |s: &str| {
            let mut out = String::from("/");
            push_segment(&mut out, s);
            out
        };
        let query = |s: &str| {
            let mut out = String::from("?");
            push_query(&mut out, s);
            out
        };
        assert_eq!(segment("a:b@c"), "/a:b@c");
        assert_eq!(segment("a b/c%d"), "/a%20b%2Fc%25d");
        assert_eq!(query("tier in (a,b),app!=x"), "?tier%20in%20(a,b),app!%3Dx");
        assert_eq!(query("a+b&c"), "?a%2Bb%26c");
    }
}
