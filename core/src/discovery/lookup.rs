//! Finding a kind's resource: the discovery requests to send, in order.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{ACCEPT, HeaderValue};
use http::{Request, Response};

use crate::config::Config;
use crate::discovery::catalog::{Discovery, Root, RootDocument};
use crate::discovery::resource::DiscoveredResource;
use crate::error::{Error, Result};
use crate::proxy::Proxy;
use crate::response;
use crate::segment;

/// The `Accept` of root requests: aggregated discovery where the server
/// offers it, the plain documents otherwise.
pub const AGGREGATED_ACCEPT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// A state machine that resolves `(apiVersion, kind)` to a resource,
/// kubernetes_lite's `resource(api_version, kind)`. A cached answer costs
/// nothing; a miss refreshes the root once (aggregated discovery in one
/// request, else the root and then the group version), so a
/// CustomResourceDefinition created after the cache was filled is found.
/// A kind still missing is [`Error::UnknownKind`] with near matches.
///
/// ```
/// # use kubewire::{Config, discovery::{Discovery, Lookup, LookupStep}};
/// let config = std::sync::Arc::new(Config::new("http://localhost:8001")?);
/// let mut discovery = Discovery::default();
/// let mut lookup = Lookup::new("apps/v1", "Deployment")?;
/// let LookupStep::Send(request) = lookup.next(&discovery, &config)? else { panic!() };
/// assert_eq!(request.uri().path(), "/apis");
/// // ... send it, then:
/// let answer = http::Response::new(bytes::Bytes::from_static(
///     br#"{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","items":[
///     {"metadata":{"name":"apps"},"versions":[{"version":"v1","resources":[
///     {"resource":"deployments","responseKind":{"kind":"Deployment"},"scope":"Namespaced",
///      "verbs":["get"],"subresources":[{"subresource":"scale"}]}]}]}]}"#));
/// lookup.handle_response(&mut discovery, answer)?;
/// let LookupStep::Found(found) = lookup.next(&discovery, &config)? else { panic!() };
/// assert_eq!((found.plural(), found.subresources()), ("deployments", &["scale".to_string()][..]));
/// # Ok::<(), kubewire::Error>(())
/// ```
#[derive(Debug)]
pub struct Lookup {
    api_version: String,
    kind: String,
    stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    AwaitRoot,
    NeedGroupVersion,
    AwaitGroupVersion,
    Done,
}

/// What the lookup needs next.
#[derive(Debug)]
#[non_exhaustive]
pub enum LookupStep {
    /// Send this request and hand the answer to [`Lookup::handle_response`].
    Send(Request<Bytes>),
    /// The resource.
    Found(DiscoveredResource),
}

impl Lookup {
    /// Starts resolving `kind` in `api_version` (`v1`, `apps/v1`).
    pub fn new(api_version: &str, kind: &str) -> Result<Lookup> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        if !group.is_empty() {
            segment::check_resource_word(group, "API group")?;
        }
        segment::check_resource_word(version, "API version")?;
        if kind.is_empty() {
            return Err(Error::InvalidInput("kind must not be empty".into()));
        }
        Ok(Lookup {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            stage: Stage::Start,
        })
    }

    /// The next step: a cached resource, a request to send, or
    /// [`Error::UnknownKind`] once the server was asked.
    pub fn next(&mut self, discovery: &Discovery, config: &Arc<Config>) -> Result<LookupStep> {
        if let Some(found) = discovery.find(&self.api_version, &self.kind) {
            self.stage = Stage::Done;
            return Ok(LookupStep::Found(found.clone()));
        }
        let proxy = Proxy::new(config.clone());
        match self.stage {
            Stage::Start => {
                self.stage = Stage::AwaitRoot;
                let mut request = proxy.get(&[Root::of(&self.api_version).path()], &[])?;
                request
                    .headers_mut()
                    .insert(ACCEPT, HeaderValue::from_static(AGGREGATED_ACCEPT));
                Ok(LookupStep::Send(request))
            }
            Stage::NeedGroupVersion => {
                self.stage = Stage::AwaitGroupVersion;
                let path = format!(
                    "{}/{}",
                    Root::of(&self.api_version).path(),
                    self.api_version
                );
                Ok(LookupStep::Send(proxy.get(&[&path], &[])?))
            }
            Stage::Done => Err(Error::UnknownKind {
                api_version: self.api_version.clone(),
                kind: self.kind.clone(),
                near: discovery.near_matches(&self.api_version, &self.kind),
            }),
            Stage::AwaitRoot | Stage::AwaitGroupVersion => Err(Error::Protocol(
                "discovery lookup: next step asked before the answer was handled".into(),
            )),
        }
    }

    /// Feeds the answer of the request last sent into `discovery`.
    pub fn handle_response(
        &mut self,
        discovery: &mut Discovery,
        response: Response<Bytes>,
    ) -> Result<()> {
        let status = response.status().as_u16();
        match self.stage {
            Stage::AwaitRoot => {
                response::check_status(status, response.headers(), response.body())?;
                let root = Root::of(&self.api_version);
                self.stage = match discovery.absorb_root(root, response.body())? {
                    RootDocument::Versions if discovery.lists(&self.api_version) => {
                        Stage::NeedGroupVersion
                    }
                    _ => Stage::Done,
                };
                Ok(())
            }
            Stage::AwaitGroupVersion => {
                self.stage = Stage::Done;
                // Gone between the two requests: not served, so not found.
                if status == 404 {
                    return Ok(());
                }
                response::check_status(status, response.headers(), response.body())?;
                discovery.absorb_group_version(response.body())
            }
            _ => Err(Error::Protocol(
                "discovery lookup: an answer arrived with no request pending".into(),
            )),
        }
    }
}
