//! What every typed item has in common, and the macro that defines them.

use crate::error::{Error, Result};
use crate::item::Item;
use crate::kind::Kind;

/// An item of one of the seed's kinds (`Pod`, `Node`, ...): the generic
/// [`Item`] plus the kind's status accessors.
pub trait TypedItem: Sized + Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static {
    /// The kind of this item type.
    const KIND: Kind;

    /// Wraps a generic item, checking its kind.
    fn from_item(item: Item) -> Result<Self>;

    /// The generic item underneath.
    fn item(&self) -> &Item;

    /// Unwraps the generic item.
    fn into_item(self) -> Item;
}

pub(crate) fn check_kind(item: &Item, kind: Kind) -> Result<()> {
    if item.kind() == kind.name() {
        Ok(())
    } else {
        Err(Error::Decode {
            expected: "an object of the view's kind",
            message: format!("expected a {kind}, got a {:?}", item.kind()),
        })
    }
}

/// Defines a typed item: a struct over [`Item`] (whose object is parsed
/// once, on the first status accessor), its [`TypedItem`] impl, and the common
/// inherent methods (`meta`, `raw`, `spec`, `kind`, `resource`, `link`).
macro_rules! typed_item {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            item: $crate::item::Item,
        }

        /// The item (a Secret's data is never printed).
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("item", &self.item)
                    .finish_non_exhaustive()
            }
        }

        impl $name {
            /// The kind of every item of this type.
            pub const KIND: $crate::kind::Kind = $crate::kind::Kind::$name;
            /// The plural resource name of this type (e.g. `pods`).
            pub const RESOURCE: &'static str = $crate::kind::Kind::$name.resource();

            /// The API paths that serve this type, newest first.
            pub fn api_paths() -> &'static [&'static str] {
                Self::KIND.api_paths()
            }

            /// The kind of this item.
            pub fn kind(&self) -> $crate::kind::Kind {
                Self::KIND
            }

            /// The plural resource name (e.g. `pods`).
            pub fn resource(&self) -> &'static str {
                Self::RESOURCE
            }

            /// The decoded metadata.
            pub fn meta(&self) -> &$crate::meta::ObjectMeta {
                self.item.meta()
            }

            /// The full JSON, exactly as the server sent it.
            pub fn raw(&self) -> &bytes::Bytes {
                self.item.raw()
            }

            /// `spec`, parsed on first use (an empty object when there is none).
            pub fn spec(&self) -> &serde_json::Value {
                self.item.spec()
            }

            /// A top-level member (`spec`, `status`, ...) read in place,
            /// nothing parsed (see [`Item::field`](crate::Item::field)).
            pub fn field(&self, name: &str) -> Option<$crate::model::JsonRef<'_>> {
                self.item.field(name)
            }

            /// The object's path on the server (what `selfLink` was).
            pub fn link(&self) -> $crate::error::Result<String> {
                self.item.link(Self::RESOURCE)
            }

            /// The generic item underneath.
            pub fn item(&self) -> &$crate::item::Item {
                &self.item
            }

            fn fields(&self) -> $crate::items::fields::Fields<'_> {
                $crate::items::fields::Fields::of(&self.item)
            }
        }

        impl $crate::items::typed::TypedItem for $name {
            const KIND: $crate::kind::Kind = $crate::kind::Kind::$name;

            fn from_item(item: $crate::item::Item) -> $crate::error::Result<Self> {
                $crate::items::typed::check_kind(&item, Self::KIND)?;
                Ok($name { item })
            }

            fn item(&self) -> &$crate::item::Item {
                &self.item
            }

            fn into_item(self) -> $crate::item::Item {
                self.item
            }
        }

        /// Same resource at the same version (uid and resourceVersion).
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.item == other.item
            }
        }
    };
}

pub(crate) use typed_item;
