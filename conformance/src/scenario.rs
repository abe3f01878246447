//! What a scenario is, and the context it drives the client through.

use std::sync::Arc;

use bytes::Bytes;
use kubewire::{
    Config, Item, Kind, ListParams, Result,
    model::Status,
    pager::Pager,
    request::{ApiResource, Endpoint, Scope},
    watch::{Watcher, WatcherEvent},
};

use crate::driver::{BodyError, Driver};

/// One scenario: fixtures, what the client does, what it must observe.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    /// The scenario's name.
    pub name: &'static str,
    /// The fixtures it replays, in order.
    pub fixtures: &'static [&'static str],
    /// Drives the client and asserts what it observed (panics on failure).
    pub run: fn(&mut Ctx<'_>),
}

/// The client side of a scenario: builds requests with the core, sends
/// them through the driver, decodes the answers with the core.
pub struct Ctx<'a> {
    driver: &'a mut dyn Driver,
    config: Arc<Config>,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("driver", &self.driver.name())
            .finish()
    }
}

impl<'a> Ctx<'a> {
    /// A context over `driver`.
    pub fn new(driver: &'a mut dyn Driver) -> Ctx<'a> {
        let config = driver.config();
        Ctx { driver, config }
    }

    /// The configuration requests are built with.
    pub fn config(&self) -> Arc<Config> {
        self.config.clone()
    }

    /// An endpoint for a seed kind at its newest API path: in `namespace`,
    /// or cluster-wide (all namespaces for a namespaced kind) when `None`.
    pub fn endpoint(&self, kind: Kind, namespace: Option<&str>) -> Endpoint {
        let resource = kind.api_resource(0).expect("every kind has an API path");
        let scope = match namespace {
            Some(ns) => Scope::Namespace(ns.to_string()),
            None if kind.is_namespaced() => Scope::AllNamespaces,
            None => Scope::Cluster,
        };
        self.resource(resource, scope)
    }

    /// An endpoint for any resource.
    pub fn resource(&self, resource: ApiResource, scope: Scope) -> Endpoint {
        Endpoint::new(self.config.clone(), resource, scope).expect("a valid endpoint")
    }

    /// Sends a request and reads the whole answer. A driver failure or a
    /// `599` from the replay server fails the scenario.
    pub fn send(&mut self, request: Result<http::Request<Bytes>>) -> http::Response<Bytes> {
        let request = request.expect("the core builds the request");
        let what = format!("{} {}", request.method(), request.uri());
        let response = self
            .driver
            .send(request)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let response = response
            .into_http()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_ne!(
            response.status(),
            599,
            "{what}: the replay server rejected the request: {}",
            String::from_utf8_lossy(response.body())
        );
        response
    }

    /// Opens a raw connection to the server for an upgrade.
    pub fn open_tunnel(&mut self, uri: &http::Uri) -> Box<dyn kubewire::Tunnel> {
        self.driver
            .open_tunnel(uri)
            .unwrap_or_else(|e| panic!("open a connection to {uri}: {e}"))
    }

    /// Sends a request and decodes the answer as an item.
    pub fn item(&mut self, request: Result<http::Request<Bytes>>) -> Result<Item> {
        kubewire::request::item_from_response(self.send(request))
    }

    /// Fetches one object through a view and decodes it as the view's type
    /// (fails the scenario on any error).
    pub fn fetch<T: kubewire::request::ViewItem>(
        &mut self,
        view: &kubewire::request::View<T>,
        name: &str,
        namespace: Option<&str>,
    ) -> T {
        let response = self.send(view.fetch_request(name, namespace));
        view.decode(response)
            .unwrap_or_else(|e| panic!("fetch {name}: {e}"))
    }

    /// Sends a request whose answer is a `Status` (or an error).
    pub fn status(&mut self, request: Result<http::Request<Bytes>>) -> Result<Status> {
        let (parts, body) = self.send(request).into_parts();
        kubewire::request::check_status(parts.status.as_u16(), &parts.headers, &body)?;
        kubewire::request::decode_status(&body)
    }

    /// Sends a request and decodes the answer as any JSON (discovery and
    /// other documents the core does not model yet).
    pub fn json(&mut self, request: Result<http::Request<Bytes>>) -> Result<serde_json::Value> {
        let (parts, body) = self.send(request).into_parts();
        kubewire::request::check_status(parts.status.as_u16(), &parts.headers, &body)?;
        serde_json::from_slice(&body).map_err(|e| kubewire::Error::Decode {
            expected: "a JSON document",
            message: e.to_string(),
        })
    }

    /// Resolves `kind` in `api_version` through discovery, filling
    /// `discovery` with what the server answers.
    pub fn discover(
        &mut self,
        discovery: &mut kubewire::discovery::Discovery,
        api_version: &str,
        kind: &str,
    ) -> Result<kubewire::discovery::DiscoveredResource> {
        let mut lookup = kubewire::discovery::Lookup::new(api_version, kind)?;
        loop {
            match lookup.next(discovery, &self.config)? {
                kubewire::discovery::LookupStep::Found(found) => return Ok(found),
                kubewire::discovery::LookupStep::Send(request) => {
                    let answer = self.send(Ok(request));
                    lookup.handle_response(discovery, answer)?;
                }
                _ => unreachable!("a new kind of lookup step"),
            }
        }
    }

    /// Lists every item of `endpoint` with the core's pager.
    pub fn list_all(
        &mut self,
        endpoint: Endpoint,
        params: ListParams,
    ) -> Result<(Vec<Item>, String)> {
        Pager::new(endpoint, params).collect(|req| Ok(self.send(Ok(req))))
    }
}

/// What a watch did so far, for a scenario's stop condition.
#[derive(Debug, Default)]
pub struct WatchTrace {
    /// Every event the watcher delivered, in order.
    pub events: Vec<WatcherEvent>,
    /// The request URIs sent, in order.
    pub requests: Vec<String>,
    /// Response heads received.
    pub heads: usize,
}

impl WatchTrace {
    /// One line per delivered event: `TYPE name version`, `relisted`,
    /// `synced VERSION` or `error MESSAGE`.
    pub fn summary(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| match e {
                WatcherEvent::Event(e) => format!(
                    "{} {} {}",
                    e.evtype,
                    e.item.meta().name(),
                    e.item.meta().version()
                ),
                WatcherEvent::Relisted => "relisted".into(),
                WatcherEvent::Synced { resource_version } => format!("synced {resource_version}"),
                WatcherEvent::Error(e) => format!("error {e}"),
                _ => "unknown".into(),
            })
            .collect()
    }
}

impl Ctx<'_> {
    /// Drives `watcher` through the driver until `stop` says so (checked
    /// after every response head and every event). Time is simulated:
    /// backoffs are skipped, not slept. Reading past a stream that hangs
    /// fails the scenario, as it would block a real client.
    pub fn watch(
        &mut self,
        watcher: &mut Watcher,
        mut stop: impl FnMut(&WatchTrace) -> bool,
    ) -> WatchTrace {
        let mut now = std::time::Instant::now();
        let mut trace = WatchTrace::default();
        loop {
            while let Some(e) = watcher.poll_event() {
                trace.events.push(e);
                if stop(&trace) {
                    return trace;
                }
            }
            let Some(request) = watcher.poll_transmit(now) else {
                match watcher.poll_timeout() {
                    Some(t) => {
                        now = t;
                        continue;
                    }
                    None => return trace,
                }
            };
            assert!(
                trace.requests.len() < 20,
                "the watcher keeps sending requests: {:?}",
                trace.requests
            );
            trace.requests.push(request.uri().to_string());
            if !self.driver.head_before_body() {
                // Would seeing this answer's head end the scenario? Then it
                // only needs the request to reach the server.
                trace.heads += 1;
                if stop(&trace) {
                    let uri = request.uri().to_string();
                    self.driver
                        .send_detached(request)
                        .unwrap_or_else(|e| panic!("{uri}: {e}"));
                    return trace;
                }
                trace.heads -= 1;
            }
            let what = format!("{} {}", request.method(), request.uri());
            let mut response = self
                .driver
                .send(request)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_ne!(
                response.status, 599,
                "{what}: the replay server rejected the request"
            );
            watcher.handle_head(response.status, &response.headers);
            trace.heads += 1;
            if stop(&trace) {
                return trace;
            }
            loop {
                match response.body.next_piece() {
                    Some(Ok(piece)) => {
                        let keep = watcher.handle_body(&piece);
                        while let Some(e) = watcher.poll_event() {
                            trace.events.push(e);
                            if stop(&trace) {
                                return trace;
                            }
                        }
                        if !keep {
                            watcher.handle_end(now, false);
                            break;
                        }
                    }
                    None => {
                        watcher.handle_end(now, true);
                        break;
                    }
                    Some(Err(BodyError::Cut)) => {
                        watcher.handle_end(now, false);
                        break;
                    }
                    Some(Err(BodyError::Hang)) => panic!(
                        "{what}: read past a stream that hangs; the scenario must stop earlier"
                    ),
                    Some(Err(BodyError::Io(e))) => {
                        watcher.handle_failure(now, kubewire::Error::Protocol(e));
                        break;
                    }
                }
            }
        }
    }
}

/// The names of `items`, in order.
pub fn names(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.meta().name()).collect()
}
