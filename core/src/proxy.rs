//! Low-level requests on any path, like the seed library's `APIServerProxy`.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request};

use crate::assemble::{self as request, JSON};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::query::Query;
use crate::segment;

/// Builds requests from path components and query pairs, for objects
/// kubewire does not wrap.
///
/// Components are joined with `/`. The first may contain `/` (`"api/v1"`);
/// the others may not. A single component starting with `/` is an absolute
/// path (such as a `selfLink`) used as is. Empty components, `.` and `..`
/// are rejected everywhere.
///
/// ```
/// use std::sync::Arc;
/// use kubewire::{Config, request::Proxy};
/// let proxy = Proxy::new(Arc::new(Config::default()));
/// let req = proxy.get(&["api/v1", "namespaces", "default"], &[]).unwrap();
/// assert_eq!(req.uri().path(), "/api/v1/namespaces/default");
/// let req = proxy.get(&["/apis/apps/v1/namespaces/demo/deployments/web"], &[("pretty", "true")]).unwrap();
/// assert_eq!(req.uri().to_string(), "http://localhost:8001/apis/apps/v1/namespaces/demo/deployments/web?pretty=true");
/// assert!(proxy.get(&["api/v1", "..", "secrets"], &[]).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Proxy {
    config: Arc<Config>,
}

impl Proxy {
    /// A proxy on `config`'s server.
    pub fn new(config: Arc<Config>) -> Proxy {
        Proxy { config }
    }

    /// The encoded absolute path of `components`.
    pub fn path(components: &[&str]) -> Result<String> {
        let mut pieces: Vec<&str> = Vec::new();
        match components {
            [] => return Err(Error::InvalidInput("no path components given".to_string())),
            [absolute] if absolute.starts_with('/') => {
                pieces.extend(absolute[1..].split('/'));
            }
            [first, rest @ ..] => {
                pieces.extend(first.trim_start_matches('/').split('/'));
                for c in rest {
                    if c.contains('/') {
                        return Err(Error::InvalidInput(format!(
                            "path component {c:?} may not contain '/' (only the first may)"
                        )));
                    }
                    pieces.push(c);
                }
            }
        }
        let mut path = String::new();
        for piece in pieces {
            segment::check_path_component(piece, "path component")?;
            path.push('/');
            segment::push_segment(&mut path, piece);
        }
        Ok(path)
    }

    /// A request with any method, optional JSON body and content type.
    pub fn request(
        &self,
        method: Method,
        components: &[&str],
        query: &[(&str, &str)],
        body: Option<(Vec<u8>, &str)>,
    ) -> Result<Request<Bytes>> {
        let path = Proxy::path(components)?;
        let mut q = Query::default();
        for (k, v) in query {
            if k.is_empty() {
                return Err(Error::InvalidInput(
                    "empty query parameter name".to_string(),
                ));
            }
            q.push(k, *v);
        }
        request::build(&self.config, method, &path, &q, body)
    }

    /// `GET`.
    pub fn get(&self, components: &[&str], query: &[(&str, &str)]) -> Result<Request<Bytes>> {
        self.request(Method::GET, components, query, None)
    }

    /// `GET` with `watch=true` added to `query`.
    pub fn watch(&self, components: &[&str], query: &[(&str, &str)]) -> Result<Request<Bytes>> {
        let mut q = query.to_vec();
        q.push(("watch", "true"));
        self.request(Method::GET, components, &q, None)
    }

    /// `POST` a JSON body.
    pub fn post(
        &self,
        components: &[&str],
        query: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> Result<Request<Bytes>> {
        self.request(Method::POST, components, query, Some((json(body)?, JSON)))
    }

    /// `PUT` a JSON body.
    pub fn put(
        &self,
        components: &[&str],
        query: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> Result<Request<Bytes>> {
        self.request(Method::PUT, components, query, Some((json(body)?, JSON)))
    }

    /// `PATCH` with a [`crate::Patch`], whose type sets the content type.
    pub fn patch(
        &self,
        components: &[&str],
        query: &[(&str, &str)],
        patch: &crate::Patch,
    ) -> Result<Request<Bytes>> {
        self.request(
            Method::PATCH,
            components,
            query,
            Some((patch.body()?, patch.content_type())),
        )
    }

    /// `DELETE`.
    pub fn delete(&self, components: &[&str], query: &[(&str, &str)]) -> Result<Request<Bytes>> {
        self.request(Method::DELETE, components, query, None)
    }
}

fn json(body: &serde_json::Value) -> Result<Vec<u8>> {
    serde_json::to_vec(body).map_err(|e| Error::InvalidInput(e.to_string()))
}
