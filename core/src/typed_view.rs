//! Views of any `k8s-openapi` type (cargo feature `k8s-openapi`):
//! `cluster.typed::<Deployment>()` gives the views every kind has — fetch,
//! list, watch, cache, writes — whose items stay raw until
//! [`Typed::typed`] converts them.

use std::any::TypeId;
use std::marker::PhantomData;

use k8s_openapi::{NamespaceResourceScope, Resource};
use serde::de::DeserializeOwned;

use crate::client::{Cluster, ClusterView, Driver};
use crate::error::{Error, Result};
use crate::item::Item;
use crate::kind::Kind;
use crate::resource::ApiResource;
use crate::view::{View, ViewItem};

/// An item of the `k8s-openapi` type `K`: the raw object (every accessor
/// of [`Item`] through `Deref`), converted to `K` on demand.
///
/// ```
/// use k8s_openapi::api::apps::v1::Deployment;
/// use kubewire::{model::Typed, request::ViewItem};
/// let item = kubewire::request::decode_item(bytes::Bytes::from_static(br#"{"kind":"Deployment",
///   "apiVersion":"apps/v1","metadata":{"name":"web","namespace":"demo"},"spec":{"replicas":3,
///   "selector":{},"template":{}}}"#))?;
/// let web = Typed::<Deployment>::from_view_item(item)?;
/// assert_eq!(web.meta().name(), "web");               // no conversion yet
/// assert_eq!(web.typed()?.spec.unwrap().replicas, Some(3));
/// # Ok::<(), kubewire::Error>(())
/// ```
pub struct Typed<K> {
    item: Item,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Typed<K> {
    fn clone(&self) -> Self {
        Typed {
            item: self.item.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> std::fmt::Debug for Typed<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.item.fmt(f)
    }
}

impl<K> std::ops::Deref for Typed<K> {
    type Target = Item;

    fn deref(&self) -> &Item {
        &self.item
    }
}

impl<K: Resource + DeserializeOwned> Typed<K> {
    /// The object as `K` (parsed on each call: keep the result).
    pub fn typed(&self) -> Result<K> {
        self.item.to_typed()
    }
}

impl<K: Resource + Send + Sync + 'static> ViewItem for Typed<K> {
    fn seed_kind() -> Option<Kind> {
        None
    }

    fn from_view_item(item: Item) -> Result<Self> {
        if item.kind() != K::KIND {
            return Err(Error::Decode {
                expected: K::KIND,
                message: format!("got a {}", item.kind()),
            });
        }
        Ok(Typed {
            item,
            kind: PhantomData,
        })
    }

    fn as_item(&self) -> &Item {
        &self.item
    }
}

/// The API resource of `K`, from its `k8s-openapi` constants.
pub(crate) fn api_resource<K: Resource + 'static>() -> Result<ApiResource> {
    let namespaced = TypeId::of::<K::Scope>() == TypeId::of::<NamespaceResourceScope>();
    ApiResource::new(
        K::GROUP,
        K::VERSION,
        K::KIND,
        K::URL_PATH_SEGMENT,
        namespaced,
    )
}

impl<D: Driver> Cluster<D> {
    /// The views of any `k8s-openapi` type, like kube-rs's `Api<K>`:
    /// `cluster.typed::<Deployment>()?.namespace("demo")?.list()`.
    pub fn typed<K: Resource + Send + Sync + 'static>(&self) -> Result<ClusterView<D, Typed<K>>> {
        let view = View::of_resource(self.config().clone(), api_resource::<K>()?);
        Ok(self.view_of(view))
    }
}
