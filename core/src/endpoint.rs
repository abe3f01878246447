//! Request builders for every verb on one resource in one scope.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request};
use serde::Serialize;

use crate::assemble::{self as request, JSON};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::params::{DeleteParams, GetParams, ListParams, LogParams, WatchParams, WriteParams};
use crate::patch::Patch;
use crate::query::Query;
use crate::resource::ApiResource;
use crate::segment;

/// Which objects of a resource an [`Endpoint`] addresses.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A cluster-scoped resource (nodes, namespaces, ...).
    Cluster,
    /// One namespace of a namespaced resource.
    Namespace(String),
    /// Every namespace of a namespaced resource (lists and watches only).
    AllNamespaces,
}

/// Builds the `http::Request` of every verb for one resource in one scope.
/// No IO: the caller sends the request however it likes.
///
/// ```
/// use std::sync::Arc;
/// use kubewire::{Config, Kind, ListParams, request::{Endpoint, Scope}};
/// let config = Arc::new(Config::default());
/// let pods = Endpoint::new(config, Kind::Pod.api_resource(0).unwrap(),
///                          Scope::Namespace("demo".into())).unwrap();
/// let req = pods.list(&ListParams::default().labels("app=web")).unwrap();
/// assert_eq!(req.uri().path(), "/api/v1/namespaces/demo/pods");
/// assert_eq!(req.uri().query(), Some("labelSelector=app%3Dweb&limit=500"));
/// ```
#[derive(Clone, Debug)]
pub struct Endpoint {
    config: Arc<Config>,
    resource: ApiResource,
    scope: Scope,
}

impl Endpoint {
    /// An endpoint for `resource` in `scope`.
    ///
    /// A namespace (or all namespaces) for a cluster-scoped resource, or
    /// [`Scope::Cluster`] for a namespaced one, is [`Error::Namespace`].
    pub fn new(config: Arc<Config>, resource: ApiResource, scope: Scope) -> Result<Endpoint> {
        match (&scope, resource.is_namespaced()) {
            (Scope::Namespace(ns), true) => segment::check_namespace(ns)?,
            (Scope::AllNamespaces, true) | (Scope::Cluster, false) => {}
            (Scope::Cluster, true) => {
                return Err(Error::Namespace(format!(
                    "{} are namespaced: name a namespace or all namespaces",
                    resource.plural()
                )));
            }
            (_, false) => {
                return Err(Error::Namespace(format!(
                    "{} are cluster-scoped: no namespace may be given",
                    resource.plural()
                )));
            }
        }
        Ok(Endpoint {
            config,
            resource,
            scope,
        })
    }

    /// The resource this endpoint addresses.
    pub fn resource(&self) -> &ApiResource {
        &self.resource
    }

    /// The scope of this endpoint.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The configuration requests are built with.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The encoded collection path, e.g. `/apis/apps/v1/namespaces/demo/deployments`.
    pub fn collection_path(&self) -> String {
        let mut p = String::with_capacity(96);
        self.push_collection_path(&mut p);
        p
    }

    fn push_collection_path(&self, p: &mut String) {
        p.push('/');
        self.resource.push_api_path(p);
        if let Scope::Namespace(ns) = &self.scope {
            p.push_str("/namespaces/");
            segment::push_segment(p, ns);
        }
        p.push('/');
        p.push_str(self.resource.plural());
    }

    /// The encoded path of one object (and optionally a subresource).
    pub fn object_path(&self, name: &str, subresource: Option<&str>) -> Result<String> {
        if self.scope == Scope::AllNamespaces {
            return Err(Error::Namespace(format!(
                "{} {name:?}: addressing one object of a namespaced kind needs a namespace",
                self.resource.plural()
            )));
        }
        segment::check_name(name)?;
        let mut p = String::with_capacity(128);
        self.push_collection_path(&mut p);
        p.push('/');
        segment::push_segment(&mut p, name);
        if let Some(sub) = subresource {
            segment::check_resource_word(sub, "subresource")?;
            p.push('/');
            p.push_str(sub);
        }
        Ok(p)
    }

    fn collection_only(&self, verb: &str) -> Result<String> {
        if self.scope == Scope::AllNamespaces {
            return Err(Error::Namespace(format!(
                "cannot {verb} {} across all namespaces: name a namespace",
                self.resource.plural()
            )));
        }
        Ok(self.collection_path())
    }

    fn write_query(&self, params: &WriteParams, apply: bool) -> Result<Query> {
        let mut effective = params.clone();
        effective.dry_run |= self.config.dry_run;
        if effective.field_manager.is_none() {
            effective.field_manager = self.config.field_manager.clone();
        }
        let mut q = Query::default();
        effective.to_query(&mut q, apply)?;
        Ok(q)
    }

    fn json_body<T: Serialize + ?Sized>(&self, object: &T, name: Option<&str>) -> Result<Vec<u8>> {
        let value = serde_json::to_value(object)
            .map_err(|e| Error::InvalidInput(format!("cannot serialize object: {e}")))?;
        if !value.is_object() {
            return Err(Error::InvalidInput(
                "the object to send must be a JSON object".to_string(),
            ));
        }
        if let Some(name) = name {
            let body_name = value.pointer("/metadata/name").and_then(|v| v.as_str());
            if body_name.is_some_and(|n| n != name) {
                return Err(Error::InvalidInput(format!(
                    "the object's metadata.name {:?} differs from the name {name:?} addressed",
                    body_name.unwrap_or_default()
                )));
            }
        }
        if let Scope::Namespace(ns) = &self.scope {
            let body_ns = value
                .pointer("/metadata/namespace")
                .and_then(|v| v.as_str());
            if body_ns.is_some_and(|n| n != ns) {
                return Err(Error::Namespace(format!(
                    "the object's metadata.namespace {:?} contradicts namespace {ns:?}",
                    body_ns.unwrap_or_default()
                )));
            }
        }
        serde_json::to_vec(&value).map_err(|e| Error::InvalidInput(e.to_string()))
    }

    /// `GET` one object (or one of its subresources with [`Endpoint::get_subresource`]).
    pub fn get(&self, name: &str, params: &GetParams) -> Result<Request<Bytes>> {
        self.get_subresource(name, None, params)
    }

    /// `GET` a subresource (`status`, `scale`, or any other) of one object.
    pub fn get_subresource(
        &self,
        name: &str,
        subresource: Option<&str>,
        params: &GetParams,
    ) -> Result<Request<Bytes>> {
        let path = self.object_path(name, subresource)?;
        let mut q = Query::default();
        params.to_query(&mut q);
        request::build(&self.config, Method::GET, &path, &q, None)
    }

    /// `GET` the collection (one page of it, per `params.limit`).
    pub fn list(&self, params: &ListParams) -> Result<Request<Bytes>> {
        let mut q = Query::default();
        params.to_query(&mut q)?;
        request::build(&self.config, Method::GET, &self.collection_path(), &q, None)
    }

    /// `GET ?watch=true` on the collection.
    pub fn watch(&self, params: &WatchParams) -> Result<Request<Bytes>> {
        let mut q = Query::default();
        params.to_query(&mut q)?;
        request::build(&self.config, Method::GET, &self.collection_path(), &q, None)
    }

    /// `POST` a new object to the collection.
    pub fn create<T: Serialize + ?Sized>(
        &self,
        object: &T,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        let path = self.collection_only("create")?;
        let body = self.json_body(object, None)?;
        let q = self.write_query(params, false)?;
        request::build(&self.config, Method::POST, &path, &q, Some((body, JSON)))
    }

    /// `PUT` a whole object (its `metadata.resourceVersion`, when set, is a
    /// precondition: a stale one is answered `409 Conflict`).
    pub fn replace<T: Serialize + ?Sized>(
        &self,
        name: &str,
        object: &T,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        self.replace_subresource(name, None, object, params)
    }

    /// `PUT` a subresource (`status`, `scale`, ...).
    pub fn replace_subresource<T: Serialize + ?Sized>(
        &self,
        name: &str,
        subresource: Option<&str>,
        object: &T,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        let path = self.object_path(name, subresource)?;
        let body = self.json_body(object, Some(name))?;
        let q = self.write_query(params, false)?;
        request::build(&self.config, Method::PUT, &path, &q, Some((body, JSON)))
    }

    /// `PATCH` one object with any of the four patch types.
    pub fn patch(&self, name: &str, patch: &Patch, params: &WriteParams) -> Result<Request<Bytes>> {
        self.patch_subresource(name, None, patch, params)
    }

    /// `PATCH` a subresource (`status`, `scale`, ...).
    pub fn patch_subresource(
        &self,
        name: &str,
        subresource: Option<&str>,
        patch: &Patch,
        params: &WriteParams,
    ) -> Result<Request<Bytes>> {
        let path = self.object_path(name, subresource)?;
        let q = self.write_query(params, patch.is_apply())?;
        let body = patch.body()?;
        request::build(
            &self.config,
            Method::PATCH,
            &path,
            &q,
            Some((body, patch.content_type())),
        )
    }

    /// `DELETE` one object.
    pub fn delete(&self, name: &str, params: &DeleteParams) -> Result<Request<Bytes>> {
        let path = self.object_path(name, None)?;
        self.delete_at(&path, None, params)
    }

    /// `DELETE` the collection: every object the selectors of `selection`
    /// match (no selector: every object in the scope).
    pub fn delete_collection(
        &self,
        selection: &ListParams,
        params: &DeleteParams,
    ) -> Result<Request<Bytes>> {
        let path = self.collection_only("delete-collection")?;
        self.delete_at(&path, Some(selection), params)
    }

    fn delete_at(
        &self,
        path: &str,
        selection: Option<&ListParams>,
        params: &DeleteParams,
    ) -> Result<Request<Bytes>> {
        let mut q = Query::default();
        if let Some(sel) = selection {
            sel.selectors_to_query(&mut q)?;
        }
        let mut params = params.clone();
        params.dry_run |= self.config.dry_run;
        params.to_query(&mut q);
        let body = params
            .body()
            .map(|b| serde_json::to_vec(&b).map(|v| (v, JSON)))
            .transpose()
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        request::build(&self.config, Method::DELETE, path, &q, body)
    }

    /// The `GET` a pod `exec` starts with, to upgrade with
    /// [`crate::stream::Handshake`].
    pub fn exec(&self, name: &str, params: &crate::ExecParams) -> Result<Request<Bytes>> {
        let mut q = Query::default();
        params.to_query(&mut q)?;
        self.upgrade_request(name, "exec", &q)
    }

    /// The `GET` a pod `attach` starts with.
    pub fn attach(&self, name: &str, params: &crate::AttachParams) -> Result<Request<Bytes>> {
        let mut q = Query::default();
        params.to_query(&mut q)?;
        self.upgrade_request(name, "attach", &q)
    }

    /// The `GET` a pod `portforward` starts with, forwarding `ports`.
    pub fn port_forward(&self, name: &str, ports: &[u16]) -> Result<Request<Bytes>> {
        let mut q = Query::default();
        crate::stream_params::ports_to_query(&mut q, ports)?;
        self.upgrade_request(name, "portforward", &q)
    }

    fn upgrade_request(&self, name: &str, subresource: &str, q: &Query) -> Result<Request<Bytes>> {
        if self.resource.plural() != "pods" || !self.resource.group().is_empty() {
            return Err(Error::InvalidInput(format!(
                "{subresource} is a subresource of pods, not of {}",
                self.resource.plural()
            )));
        }
        let path = self.object_path(name, Some(subresource))?;
        let mut req = request::build(&self.config, Method::GET, &path, q, None)?;
        req.headers_mut().remove(http::header::ACCEPT);
        Ok(req)
    }

    /// `GET` a pod's log (`/log` subresource). The answer is plain text.
    pub fn logs(&self, name: &str, params: &LogParams) -> Result<Request<Bytes>> {
        let path = self.object_path(name, Some("log"))?;
        let mut q = Query::default();
        params.to_query(&mut q)?;
        let mut req = request::build(&self.config, Method::GET, &path, &q, None)?;
        req.headers_mut()
            .insert(http::header::ACCEPT, http::HeaderValue::from_static("*/*"));
        Ok(req)
    }
}
