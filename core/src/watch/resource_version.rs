//! The order of two resourceVersions, where the server makes one.
//!
//! Kubernetes long told clients to treat resourceVersions as opaque. The
//! built-in apiserver writes them as decimal integers (etcd revisions), and
//! recent releases document that such versions may be compared as numbers.
//! Other servers (aggregated APIs) may write anything, so a version that is
//! not a plain decimal integer compares with nothing.

use std::cmp::Ordering;

/// The order of resourceVersions `a` and `b` when both are decimal
/// integers without leading zeros (of any length); `None` otherwise.
///
/// ```
/// use std::cmp::Ordering;
/// use kubewire::watch::compare_resource_versions as compare;
/// assert_eq!(compare("999", "1000"), Some(Ordering::Less));
/// assert_eq!(compare("18446744073709551616", "7"), Some(Ordering::Greater));
/// assert_eq!(compare("abc", "7"), None);
/// assert_eq!(compare("007", "7"), None);
/// ```
pub fn compare_resource_versions(a: &str, b: &str) -> Option<Ordering> {
    fn decimal(v: &str) -> bool {
        !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && (v == "0" || !v.starts_with('0'))
    }
    (decimal(a) && decimal(b)).then(|| a.len().cmp(&b.len()).then_with(|| a.cmp(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value_and_anything_else_not_at_all() {
        assert_eq!(compare_resource_versions("5", "5"), Some(Ordering::Equal));
        assert_eq!(compare_resource_versions("0", "1"), Some(Ordering::Less));
        assert_eq!(compare_resource_versions("", "1"), None);
        assert_eq!(compare_resource_versions("1", "-1"), None);
        assert_eq!(compare_resource_versions("1.5", "2"), None);
    }
}
