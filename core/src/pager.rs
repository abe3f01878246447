//! List pagination (`limit`/`continue`) as a state machine.

use bytes::Bytes;
use http::{HeaderMap, Request};

use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::item::Item;
use crate::list::ItemList;
use crate::params::ListParams;
use crate::response;

/// How many times an expired listing is restarted before giving up.
pub const MAX_RESTARTS: u32 = 3;

/// How many pages one listing may take before the pager gives up on a
/// server that keeps offering new continue tokens (5,000,000 objects at the
/// default page size).
pub const MAX_PAGES: usize = 10_000;

/// What a page answer meant.
#[derive(Debug)]
#[must_use]
#[non_exhaustive]
pub enum PageOutcome {
    /// A page of items. More follow while [`Pager::next_request`] gives a
    /// request. Items that did not decode are left out and listed in
    /// [`ItemList::skipped`].
    Page(ItemList),
    /// The continue token outlived the server's history (`410 Expired`):
    /// every page received so far must be discarded; the pager starts over
    /// from the first page, so the caller never holds a mixed list.
    Restarted {
        /// How many pages the caller must throw away.
        discarded_pages: usize,
    },
}

/// Pages through a list: `next_request`, send it, `handle_response`,
/// repeat until `next_request` gives `None`.
///
/// ```
/// use std::sync::Arc;
/// use kubewire::{Config, Kind, ListParams, pager::{PageOutcome, Pager}, request::{Endpoint, Scope}};
/// let pods = Endpoint::new(Arc::new(Config::default()), Kind::Pod.api_resource(0).unwrap(),
///                          Scope::Namespace("demo".into())).unwrap();
/// let mut pager = Pager::new(pods, ListParams::default().limit(Some(2)));
/// let req = pager.next_request().unwrap().unwrap();
/// assert_eq!(req.uri().query(), Some("limit=2"));
/// let body = br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[]}"#;
/// match pager.handle_response(200, &Default::default(), bytes::Bytes::from_static(body)).unwrap() {
///     PageOutcome::Page(page) => assert!(page.items().is_empty()),
///     other => panic!("{other:?}"),
/// }
/// assert!(pager.next_request().is_none());
/// ```
#[derive(Debug)]
pub struct Pager {
    endpoint: Endpoint,
    params: ListParams,
    state: State,
    pages: usize,
    restarts: u32,
    used_tokens: std::collections::HashSet<String>,
    resource_version: String,
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    /// The next request to send: `None` for the first page.
    Ready(Option<String>),
    /// A request is in flight; it carried this continue token.
    Waiting(Option<String>),
    Done,
}

impl Pager {
    /// A pager over `endpoint`'s collection with `params` (selectors, page
    /// size; a `continue_token` in `params` is ignored — paging starts at
    /// the beginning).
    pub fn new(endpoint: Endpoint, mut params: ListParams) -> Pager {
        params.continue_token = None;
        Pager {
            endpoint,
            params,
            state: State::Ready(None),
            pages: 0,
            restarts: 0,
            used_tokens: std::collections::HashSet::new(),
            resource_version: String::new(),
        }
    }

    /// The request to send next; `None` once the last page was handled (or
    /// while a request is in flight). Build errors (bad selector) are
    /// reported here.
    pub fn next_request(&mut self) -> Option<Result<Request<Bytes>>> {
        let State::Ready(token) = &self.state else {
            return None;
        };
        let token = token.clone();
        let mut params = self.params.clone();
        params.continue_token = token.clone();
        let req = self.endpoint.list(&params);
        self.state = if req.is_ok() {
            State::Waiting(token)
        } else {
            State::Done
        };
        Some(req)
    }

    /// Feeds the whole answer to the request from [`Pager::next_request`].
    pub fn handle_response(
        &mut self,
        status: u16,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<PageOutcome> {
        let sent = match std::mem::replace(&mut self.state, State::Done) {
            State::Waiting(token) => token,
            other => {
                self.state = other;
                return Err(Error::Protocol(
                    "pager got a response with no request in flight".to_string(),
                ));
            }
        };
        if let Err(err) = response::check_status(status, headers, &body) {
            let expired = err.api().is_some_and(|e| e.is_expired());
            if expired && sent.is_some() {
                if self.restarts >= MAX_RESTARTS {
                    return Err(Error::Protocol(format!(
                        "listing {} expired {} times in a row; giving up: {err}",
                        self.endpoint.resource().plural(),
                        self.restarts + 1
                    )));
                }
                self.restarts += 1;
                let discarded_pages = std::mem::take(&mut self.pages);
                self.used_tokens.clear();
                self.state = State::Ready(None);
                return Ok(PageOutcome::Restarted { discarded_pages });
            }
            return Err(err);
        }
        let page = crate::list::ItemList::decode_lenient(body)?;
        self.pages += 1;
        self.resource_version = page.resource_version().to_string();
        if let Some(next) = page.continue_token() {
            if self.pages >= MAX_PAGES {
                return Err(Error::Protocol(format!(
                    "listing {} took {MAX_PAGES} pages and the server offers more; stopping",
                    self.endpoint.resource().plural()
                )));
            }
            if !self.used_tokens.insert(next.to_string()) {
                return Err(Error::Protocol(format!(
                    "the server repeated continue token {next:?}; stopping instead of looping"
                )));
            }
            self.state = State::Ready(Some(next.to_string()));
        }
        Ok(PageOutcome::Page(page))
    }

    /// True once the last page was handled.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The resourceVersion of the last page handled (the list's snapshot).
    pub fn resource_version(&self) -> &str {
        &self.resource_version
    }

    /// Drives the pager to the end with `send`, which performs one request
    /// and returns the whole response. Returns every item (never a mixed
    /// list: expired listings are restarted) and the list's resourceVersion;
    /// an item that does not decode is an error.
    pub fn collect<F>(mut self, mut send: F) -> Result<(Vec<Item>, String)>
    where
        F: FnMut(Request<Bytes>) -> Result<http::Response<Bytes>>,
    {
        let mut items = Vec::new();
        while let Some(req) = self.next_request() {
            let (parts, body) = send(req?)?.into_parts();
            match self.handle_response(parts.status.as_u16(), &parts.headers, body)? {
                PageOutcome::Page(page) => {
                    if let Some(bad) = page.skipped().first() {
                        return Err(bad.to_error());
                    }
                    items.extend(page.into_items());
                }
                PageOutcome::Restarted { .. } => items.clear(),
            }
        }
        Ok((items, self.resource_version))
    }
}
