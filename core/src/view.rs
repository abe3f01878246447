//! Views: a collection of one kind (optionally in one namespace, optionally
//! filtered) and the requests that read and change it.

use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use http::Request;

use crate::config::Config;
use crate::endpoint::{Endpoint, Scope};
use crate::error::{Error, Result};
use crate::item::Item;
use crate::items::typed::TypedItem;
use crate::kind::Kind;
use crate::manifest::Manifest;
use crate::pager::Pager;
use crate::params::{DeleteParams, GetParams, ListParams, WriteParams};
use crate::resource::ApiResource;
use crate::segment;
use crate::selector::Selector;
use crate::watch::watcher::{WatchStart, Watcher, WatcherOptions};

/// What a view yields: a typed item of a seed kind, or the generic [`Item`]
/// for any other resource.
pub trait ViewItem: Sized + Clone + Send + Sync + 'static {
    /// The seed kind, for typed items.
    fn seed_kind() -> Option<Kind>;

    /// Converts a decoded item (checking its kind for typed items).
    fn from_view_item(item: Item) -> Result<Self>;

    /// The generic item.
    fn as_item(&self) -> &Item;
}

impl<T: TypedItem> ViewItem for T {
    fn seed_kind() -> Option<Kind> {
        Some(T::KIND)
    }

    fn from_view_item(item: Item) -> Result<T> {
        T::from_item(item)
    }

    fn as_item(&self) -> &Item {
        self.item()
    }
}

impl ViewItem for Item {
    fn seed_kind() -> Option<Kind> {
        None
    }

    fn from_view_item(item: Item) -> Result<Item> {
        Ok(item)
    }

    fn as_item(&self) -> &Item {
        self
    }
}

/// A collection of one kind: global or bound to a namespace, optionally
/// filtered. Pure data: it builds requests and decodes answers.
///
/// ```
/// use std::sync::Arc;
/// use kubewire::{Config, Pod, request::View};
/// let pods = View::<Pod>::new(Arc::new(Config::default()))
///     .namespace("demo").unwrap()
///     .filter(Some("app=web"), None).unwrap();
/// let page = pods.list_request(Some(500), None).unwrap();
/// assert_eq!(page.uri().to_string(),
///     "http://localhost:8001/api/v1/namespaces/demo/pods?labelSelector=app%3Dweb&limit=500");
/// // A global view never falls back to a default namespace for a fetch:
/// let all = View::<Pod>::new(Arc::new(Config::default()));
/// assert!(matches!(all.fetch_request("web-0", None), Err(kubewire::Error::Namespace(_))));
/// assert!(all.fetch_request("web-0", Some("demo")).is_ok());
/// ```
#[derive(Debug)]
pub struct View<T> {
    config: Arc<Config>,
    resource: ApiResource,
    api_paths: Arc<[String]>,
    namespace: Option<String>,
    label_selector: Option<String>,
    field_selector: Option<String>,
    item: PhantomData<fn() -> T>,
}

impl<T> Clone for View<T> {
    fn clone(&self) -> View<T> {
        View {
            config: self.config.clone(),
            resource: self.resource.clone(),
            api_paths: self.api_paths.clone(),
            namespace: self.namespace.clone(),
            label_selector: self.label_selector.clone(),
            field_selector: self.field_selector.clone(),
            item: PhantomData,
        }
    }
}

impl<T: TypedItem> View<T> {
    /// The global view of a seed kind, at its newest API path.
    pub fn new(config: Arc<Config>) -> View<T> {
        let kind = T::KIND;
        View {
            config,
            resource: kind
                .api_resource(0)
                .unwrap_or_else(|| unreachable!("every kind has an API path")),
            api_paths: kind.api_paths().iter().map(|p| p.to_string()).collect(),
            namespace: None,
            label_selector: None,
            field_selector: None,
            item: PhantomData,
        }
    }
}

impl View<Item> {
    /// The global view of any resource (custom resources included).
    pub fn dynamic(config: Arc<Config>, resource: ApiResource) -> View<Item> {
        View::of_resource(config, resource)
    }
}

impl<T> View<T> {
    /// The global view of `resource` at its one API path, whatever the
    /// item type.
    pub(crate) fn of_resource(config: Arc<Config>, resource: ApiResource) -> View<T> {
        View {
            config,
            api_paths: Arc::new([resource.api_path()]),
            resource,
            namespace: None,
            label_selector: None,
            field_selector: None,
            item: PhantomData,
        }
    }
}

impl View<Item> {
    /// This dynamic view served at `api_paths` (newest first, e.g.
    /// `["apis/apps/v2", "apis/apps/v1"]`): the facade falls back along
    /// them when a path is not served.
    pub fn with_api_paths(mut self, api_paths: Vec<String>) -> Result<View<Item>> {
        if api_paths.is_empty() {
            return Err(Error::InvalidInput(
                "a view needs at least one API path".into(),
            ));
        }
        self.api_paths = api_paths.into();
        self.at_api_path(0)
    }
}

impl<T: ViewItem> View<T> {
    /// This view bound to `namespace`. A namespace for a cluster-scoped
    /// kind (nodes, namespaces) is [`Error::Namespace`].
    pub fn namespace(mut self, namespace: &str) -> Result<View<T>> {
        if !self.resource.is_namespaced() {
            return Err(Error::Namespace(format!(
                "{} are cluster-scoped: no namespace may be given (got {namespace:?})",
                self.resource.plural()
            )));
        }
        segment::check_namespace(namespace)?;
        self.namespace = Some(namespace.to_string());
        Ok(self)
    }

    /// This view filtered by label and/or field selector strings as
    /// Kubernetes understands them (`app=web`, `tier in (a,b)`,
    /// `status.phase=Running`). An empty selector is refused: it would
    /// select everything.
    pub fn filter(self, labels: Option<&str>, fields: Option<&str>) -> Result<View<T>> {
        self.filter_with(labels.map(Selector::from), fields.map(Selector::from))
    }

    /// Like [`View::filter`], with selectors as strings or exact-match maps.
    pub fn filter_with(
        mut self,
        labels: Option<Selector>,
        fields: Option<Selector>,
    ) -> Result<View<T>> {
        if labels.is_none() && fields.is_none() {
            return Err(Error::InvalidInput(
                "filter needs a label or a field selector".to_string(),
            ));
        }
        if let Some(l) = labels {
            self.label_selector = Some(l.labels()?);
        }
        if let Some(f) = fields {
            self.field_selector = Some(f.fields()?);
        }
        Ok(self)
    }

    /// The seed kind of this view (`None` for a dynamic view).
    pub fn kind(&self) -> Option<Kind> {
        T::seed_kind()
    }

    /// The configuration requests are built with.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The resource descriptor at the API path in use.
    pub fn api_resource(&self) -> &ApiResource {
        &self.resource
    }

    /// The plural resource name, e.g. `pods`.
    pub fn resource(&self) -> &str {
        self.resource.plural()
    }

    /// The namespace this view is bound to.
    pub fn bound_namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The API paths that serve this kind, newest first.
    pub fn api_paths(&self) -> &[String] {
        &self.api_paths
    }

    /// The label selector, when filtered.
    pub fn label_selector(&self) -> Option<&str> {
        self.label_selector.as_deref()
    }

    /// The field selector, when filtered.
    pub fn field_selector(&self) -> Option<&str> {
        self.field_selector.as_deref()
    }

    /// This view at `api_paths()[index]` (API-version fallback).
    pub fn at_api_path(mut self, index: usize) -> Result<View<T>> {
        let path = self.api_paths.get(index).ok_or_else(|| {
            Error::InvalidInput(format!(
                "{} has no API path number {index}",
                self.resource.plural()
            ))
        })?;
        let gv = path
            .strip_prefix("apis/")
            .or_else(|| path.strip_prefix("api/"))
            .unwrap_or(path);
        let (group, version) = gv.split_once('/').unwrap_or(("", gv));
        if (group, version) == (self.resource.group(), self.resource.version()) {
            // Already there (the usual case: the newest path, or the one
            // remembered): nothing to rebuild.
            return Ok(self);
        }
        self.resource = ApiResource::new(
            group,
            version,
            self.resource.kind(),
            self.resource.plural(),
            self.resource.is_namespaced(),
        )?;
        Ok(self)
    }

    /// The endpoint of the whole view: its namespace, or every namespace
    /// (cluster-wide for cluster-scoped kinds).
    pub fn endpoint(&self) -> Result<Endpoint> {
        let scope = match (&self.namespace, self.resource.is_namespaced()) {
            (Some(ns), _) => Scope::Namespace(ns.clone()),
            (None, true) => Scope::AllNamespaces,
            (None, false) => Scope::Cluster,
        };
        Endpoint::new(self.config.clone(), self.resource.clone(), scope)
    }

    /// The endpoint for one object: the seed's namespace rules. For a
    /// cluster-scoped kind any namespace is an error; for a namespaced one
    /// the argument, else the view's namespace, else an error (the default
    /// namespace is never silently used).
    pub fn object_endpoint(&self, namespace: Option<&str>) -> Result<Endpoint> {
        let ns = match (
            self.resource.is_namespaced(),
            namespace,
            self.namespace.as_deref(),
        ) {
            (false, None, _) => {
                return Endpoint::new(self.config.clone(), self.resource.clone(), Scope::Cluster);
            }
            (false, Some(ns), _) => {
                return Err(Error::Namespace(format!(
                    "{} are cluster-scoped: no namespace may be given (got {ns:?})",
                    self.resource.plural()
                )));
            }
            (true, Some(arg), Some(bound)) if arg != bound => {
                return Err(Error::Namespace(format!(
                    "namespace {arg:?} contradicts the view's namespace {bound:?}"
                )));
            }
            (true, Some(ns), _) | (true, None, Some(ns)) => ns.to_string(),
            (true, None, None) => {
                return Err(Error::Namespace(format!(
                    "{} are namespaced: fetching one from a global view needs a namespace",
                    self.resource.plural()
                )));
            }
        };
        Endpoint::new(
            self.config.clone(),
            self.resource.clone(),
            Scope::Namespace(ns),
        )
    }

    fn list_params(&self, limit: Option<u32>) -> ListParams {
        let mut p = ListParams::default().limit(limit);
        p.label_selector = self.label_selector.clone();
        p.field_selector = self.field_selector.clone();
        p
    }

    /// `GET` one object by name (see [`View::object_endpoint`] for the
    /// namespace rules).
    pub fn fetch_request(&self, name: &str, namespace: Option<&str>) -> Result<Request<Bytes>> {
        self.object_endpoint(namespace)?
            .get(name, &GetParams::default())
    }

    /// `GET` one page of the view.
    pub fn list_request(
        &self,
        limit: Option<u32>,
        continue_token: Option<&str>,
    ) -> Result<Request<Bytes>> {
        let mut p = self.list_params(limit);
        p.continue_token = continue_token.map(str::to_string);
        self.endpoint()?.list(&p)
    }

    /// A pager over the whole view (`limit`/`continue`).
    pub fn pager(&self, page_size: Option<u32>) -> Result<Pager> {
        Ok(Pager::new(self.endpoint()?, self.list_params(page_size)))
    }

    /// A watcher over the view: by default the seed's "from now" (list for
    /// the version, then watch); see [`WatcherOptions`].
    pub fn watcher(&self, mut options: WatcherOptions) -> Result<Watcher> {
        options.label_selector = self.label_selector.clone();
        options.field_selector = self.field_selector.clone();
        Ok(Watcher::new(self.endpoint()?, options))
    }

    /// A watcher over one item: only its changes after its own version
    /// (`fieldSelector=metadata.name=NAME` from the item's resourceVersion).
    pub fn item_watcher(&self, item: &Item, mut options: WatcherOptions) -> Result<Watcher> {
        let name = item.meta().name();
        segment::check_name(name)?;
        options.label_selector = None;
        // Escaped as a field selector value: a name cannot add terms.
        options.field_selector = Some(Selector::from([("metadata.name", name)]).fields()?);
        options.start = WatchStart::Version(item.meta().version().to_string());
        Ok(Watcher::new(
            self.object_endpoint(item.meta().namespace())?,
            options,
        ))
    }

    /// `POST` a manifest; its namespace follows lightkube's precedence (the
    /// argument, then `metadata.namespace`, then the view's namespace, then
    /// the cluster default).
    pub fn create_request(
        &self,
        manifest: serde_json::Value,
        namespace: Option<&str>,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        let manifest = Manifest::new(manifest)?;
        let explicit = namespace.or(self.namespace.as_deref());
        manifest.create_request(self.config.clone(), self.resource.clone(), explicit, params)
    }

    /// `DELETE` one object.
    pub fn delete_request(
        &self,
        name: &str,
        namespace: Option<&str>,
        params: &DeleteParams,
    ) -> Result<Request<Bytes>> {
        self.object_endpoint(namespace)?.delete(name, params)
    }

    /// Decodes an object answer into this view's item type.
    pub fn decode(&self, response: http::Response<Bytes>) -> Result<T> {
        T::from_view_item(crate::response::item_from_response(response)?)
    }

    /// Decodes a list answer into this view's item type.
    pub fn decode_list(&self, response: http::Response<Bytes>) -> Result<Vec<T>> {
        crate::response::list_from_response(response)?
            .into_items()
            .into_iter()
            .map(T::from_view_item)
            .collect()
    }
}
