//! Where an object lives: its namespace and name.

use crate::item::Item;

/// An object's namespace (empty for a cluster-scoped object) and name.
/// Ordered by namespace first, so one namespace's objects are adjacent.
///
/// ```
/// use kubewire::cache::ObjectKey;
/// assert_eq!(ObjectKey::new("demo", "web-0").to_string(), "demo/web-0");
/// assert_eq!(ObjectKey::new("", "node-1").to_string(), "node-1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// The namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// The name.
    pub name: String,
}

impl ObjectKey {
    /// The key of `name` in `namespace` (`""` when cluster-scoped).
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> ObjectKey {
        ObjectKey {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The key of `item`.
    pub fn of(item: &Item) -> ObjectKey {
        ObjectKey::new(
            item.meta().namespace().unwrap_or_default(),
            item.meta().name(),
        )
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}
