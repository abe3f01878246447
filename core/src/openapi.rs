//! Typed interop with the ecosystem's models (cargo feature `k8s-openapi`):
//! any item to and from the `k8s-openapi` type of its kind.

use bytes::Bytes;
use k8s_openapi::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::item::Item;

impl Item {
    /// This item as the `k8s-openapi` type of its kind, e.g.
    /// `item.to_typed::<k8s_openapi::api::core::v1::Pod>()`. An item of
    /// another kind or API version is an error, not a silent mis-decode.
    ///
    /// ```
    /// # use k8s_openapi::api::core::v1::{ConfigMap, Pod};
    /// let item = kubewire::request::decode_item(bytes::Bytes::from_static(br#"{"kind":"Pod",
    ///   "apiVersion":"v1","metadata":{"name":"web-0","namespace":"demo"},
    ///   "spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}"#))?;
    /// let pod: Pod = item.to_typed()?;
    /// assert_eq!(pod.spec.unwrap().containers[0].image.as_deref(), Some("nginx:1.27"));
    /// assert!(item.to_typed::<ConfigMap>().is_err());
    /// # Ok::<(), kubewire::Error>(())
    /// ```
    pub fn to_typed<K: Resource + DeserializeOwned>(&self) -> Result<K> {
        if self.kind() != K::KIND || self.api_version() != K::API_VERSION {
            return Err(Error::Decode {
                expected: "an item of the requested k8s-openapi type",
                message: format!(
                    "the item is a {} {}, the type a {} {}",
                    self.api_version(),
                    self.kind(),
                    K::API_VERSION,
                    K::KIND
                ),
            });
        }
        let mut value = self.to_value()?;
        // List items carry no kind or apiVersion of their own.
        value["apiVersion"] = K::API_VERSION.into();
        value["kind"] = K::KIND.into();
        serde_json::from_value(value).map_err(|e| Error::Decode {
            expected: K::KIND,
            message: e.to_string(),
        })
    }

    /// An item from a `k8s-openapi` object (e.g. to create it, or to use
    /// kubewire's accessors on it).
    ///
    /// ```
    /// # use k8s_openapi::api::core::v1::ConfigMap;
    /// let mut cm = ConfigMap::default();
    /// cm.metadata.name = Some("settings".into());
    /// let item = kubewire::Item::from_typed(&cm)?;
    /// assert_eq!((item.kind(), item.meta().name()), ("ConfigMap", "settings"));
    /// # Ok::<(), kubewire::Error>(())
    /// ```
    pub fn from_typed<K: Resource + Serialize>(object: &K) -> Result<Item> {
        let bytes = serde_json::to_vec(object).map_err(|e| Error::InvalidInput(e.to_string()))?;
        crate::response::decode_item(Bytes::from(bytes))
    }
}
