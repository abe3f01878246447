//! The watcher: a state machine that keeps a watch going — list for a
//! starting version, watch, resume after a cut or a server timeout from the
//! last version seen, relist after `410 Gone`, back off between failures.
//! No IO, no clock: the caller sends what it is told and passes `now`.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request};

use crate::cache::ObjectKey;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::item::Item;
use crate::pager::{PageOutcome, Pager};
use crate::params::{ListParams, WatchParams};
use crate::response;
use crate::watch::backoff::Backoff;
use crate::watch::decoder::WatchDecoder;
use crate::watch::event::{WatchEvent, WatchEventType};
use crate::watch::resource_version::compare_resource_versions;

/// Where a watch starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchStart {
    /// The seed library's "from now": a (paged) list for the current
    /// resourceVersion, then a watch from it. Listed objects are not
    /// delivered; they are the baseline a relist is compared against.
    Now,
    /// From a known resourceVersion (an item's watch starts from the item's
    /// own version): only later changes are delivered.
    Version(String),
    /// A streaming list (`sendInitialEvents=true`): every existing object
    /// arrives as `ADDED`, then changes.
    InitialEvents,
    /// A reflector's start: a (paged) list whose objects are delivered as
    /// `ADDED`, then [`WatcherEvent::Synced`], then a watch from the list's
    /// version. Works on every server (no streaming list needed).
    List,
}

/// What a watcher watches and how.
///
/// ```
/// use std::time::Duration;
/// use kubewire::watch::{OnError, WatchStart, WatcherOptions};
/// let mut options = WatcherOptions::default();
/// options.start = WatchStart::Version("7800".into()); // changes after a known version
/// options.timeout_seconds = Some(600);                 // the server ends each watch after that
/// options.on_error = OnError::Surface;                 // report failures, then retry
/// assert_eq!(options.idle_timeout, Some(Duration::from_secs(300)));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WatcherOptions {
    /// `labelSelector` for the list and the watch.
    pub label_selector: Option<String>,
    /// `fieldSelector` (an item's watch uses `metadata.name=NAME`).
    pub field_selector: Option<String>,
    /// Where to start.
    pub start: WatchStart,
    /// Page size of (re)lists; `None` lists in one request.
    pub page_size: Option<u32>,
    /// `timeoutSeconds` of each watch request: the server ends the watch
    /// cleanly after that long and the watcher resumes, so no watch outlives
    /// a half-open connection for long (290 s by default, as kube-runtime;
    /// `None` sends none).
    pub timeout_seconds: Option<u32>,
    /// The longest silence (not a byte, not even a bookmark) a watch stream
    /// may keep before the watcher declares the connection dead and
    /// resumes: by default `timeoutSeconds` plus a minute, or five minutes
    /// without one. `None` never gives up on a silent stream.
    pub idle_timeout: Option<Duration>,
    /// Waits between failed attempts.
    pub backoff: Backoff,
    /// What a recoverable failure does (retry quietly, by default).
    pub on_error: OnError,
    /// Drop a streamed change older than the resume point, when both
    /// resourceVersions are decimal numbers (as the built-in apiserver's
    /// are): a stale cache or proxy replaying it. True by default; turn it
    /// off for a server whose numeric versions are not ordered.
    pub ordered_versions: bool,
}

/// What a watcher does when something fails that it can recover from: a
/// lost or refused connection, `429`, `5xx`, an `ERROR` event other than
/// `410 Gone`, a listing that expired. Failures it cannot recover from
/// (`401`, `403`, `404`, ...) always end the watch with their error, and an
/// expired watch (`410`) is always answered by a relist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnError {
    /// Retry after a backoff without telling the caller (the default).
    #[default]
    Retry,
    /// Deliver the error as [`WatcherEvent::Error`], then retry after a
    /// backoff.
    Surface,
    /// Deliver the error and end the watch.
    Stop,
}

impl WatcherOptions {
    /// The default `timeoutSeconds` of a watch request (kube-runtime's).
    pub const DEFAULT_TIMEOUT_SECONDS: u32 = 290;

    /// The default limit on a silent stream without `timeoutSeconds`.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

    /// The silence after which a stream is dead: the idle timeout, never
    /// less than the server's own `timeoutSeconds` plus a minute.
    fn idle_limit(&self) -> Option<Duration> {
        let server = self
            .timeout_seconds
            .map(|s| Duration::from_secs(u64::from(s) + 60));
        self.idle_timeout
            .map(|idle| server.map_or(idle, |s| s.max(idle)))
    }
}

/// A watch that ends sooner than this with no events counts as a failed
/// attempt (client-go's "very short watch").
const SHORT_WATCH: Duration = Duration::from_secs(1);

/// Failures this far apart start the backoff over (client-go resets its
/// backoff after two quiet minutes).
const BACKOFF_RESET: Duration = Duration::from_secs(120);

impl Default for WatcherOptions {
    fn default() -> WatcherOptions {
        WatcherOptions {
            label_selector: None,
            field_selector: None,
            start: WatchStart::Now,
            page_size: Some(ListParams::DEFAULT_LIMIT),
            timeout_seconds: Some(WatcherOptions::DEFAULT_TIMEOUT_SECONDS),
            idle_timeout: Some(WatcherOptions::DEFAULT_IDLE_TIMEOUT),
            backoff: Backoff::default(),
            on_error: OnError::default(),
            ordered_versions: true,
        }
    }
}

/// What the watcher tells its caller.
#[derive(Debug)]
#[non_exhaustive]
pub enum WatcherEvent {
    /// A change (or a bookmark) in the order the server made it.
    Event(WatchEvent),
    /// The watch history expired (`410 Gone`) and the watcher relisted: the
    /// events that follow, up to [`WatcherEvent::Synced`], are the
    /// differences between what the caller had seen and the server's
    /// current state (`ADDED`, `MODIFIED`, `DELETED` with the last known
    /// object), never an event the caller already has.
    Relisted,
    /// The caller's picture of the world equals the server's state at this
    /// resourceVersion (after an initial streaming list or a relist).
    Synced {
        /// The resourceVersion of the synced state.
        resource_version: String,
    },
    /// An error the server reported (an `ERROR` event other than `410`, or
    /// a failed request). The watcher retries after a backoff unless the
    /// error is final (`4xx` other than `410` and `429`), in which case it
    /// closes.
    Error(Error),
}

/// The kind of request in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flight {
    List,
    Watch,
}

#[derive(Debug)]
struct InFlight {
    kind: Flight,
    status: Option<u16>,
    headers: HeaderMap,
    body: Vec<u8>,
    delivered: usize,
    abandoned: bool,
    /// When the request went out.
    sent_at: Instant,
    /// When the last byte of its answer arrived (for the idle limit).
    active_at: Instant,
    /// Lines of the stream that did not decode.
    bad_lines: usize,
    /// Why the stream was abandoned, handled when it ends.
    outcome: Option<Outcome>,
}

/// Why a watch stream was abandoned.
#[derive(Debug)]
enum Outcome {
    /// `410 Gone` in the stream: relist.
    Expired,
    /// An `ERROR` event: retry after a backoff of at least the duration.
    Failed(Error, Option<Duration>),
}

#[derive(Debug)]
enum Phase {
    /// Paging through a list; `relist` says whether to diff.
    Listing {
        pager: Box<Pager>,
        items: Vec<Item>,
        relist: bool,
    },
    /// Ready to send the next watch request.
    Watching,
    /// Waiting until `until`, then listing or watching.
    Backoff {
        until: Instant,
        then: Then,
    },
    Closed,
}

/// What follows a backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    Watch,
    List { relist: bool },
}

/// Keeps a watch going over any transport.
///
/// Drive it like this (the caller owns the IO and the clock):
///
/// ```text
/// loop {
///     while let Some(event) = watcher.poll_event() { /* deliver */ }
///     if let Some(request) = watcher.poll_transmit(now) {
///         send it; watcher.handle_head(status, &headers);
///         for each body chunk { if !watcher.handle_body(chunk) { stop reading } ; deliver events }
///         watcher.handle_end(now, complete)      // or handle_failure(now, error)
///     } else if let Some(t) = watcher.poll_timeout() { wait until t }
///     else { break } // closed
/// }
/// ```
///
/// Guarantees: without `410 Gone`, the delivered `ADDED`/`MODIFIED`/`DELETED`
/// events are exactly the server's history after the start, in order, each
/// once — a cut mid-event or a server timeout resumes from the last
/// resourceVersion delivered (bookmarks included). After `410`, the caller's
/// picture (objects after applying what was delivered) equals the server's
/// state at every [`WatcherEvent::Synced`].
#[derive(Debug)]
pub struct Watcher {
    endpoint: Endpoint,
    options: WatcherOptions,
    phase: Phase,
    in_flight: Option<InFlight>,
    decoder: WatchDecoder,
    last_version: Option<String>,
    known: BTreeMap<ObjectKey, Item>,
    /// During a streaming list: objects received before the end bookmark.
    syncing: Option<BTreeMap<ObjectKey, Item>>,
    events: VecDeque<WatcherEvent>,
    /// When the backoff last counted a failure.
    last_failure: Option<Instant>,
}

impl Watcher {
    /// A watcher over `endpoint`'s collection.
    pub fn new(endpoint: Endpoint, options: WatcherOptions) -> Watcher {
        let (phase, last_version) = match &options.start {
            WatchStart::Now | WatchStart::List => (
                Phase::Listing {
                    pager: Box::new(Pager::new(endpoint.clone(), Self::list_params(&options))),
                    items: Vec::new(),
                    relist: false,
                },
                None,
            ),
            WatchStart::Version(v) => (Phase::Watching, Some(v.clone())),
            WatchStart::InitialEvents => (Phase::Watching, None),
        };
        Watcher {
            endpoint,
            options,
            phase,
            in_flight: None,
            decoder: WatchDecoder::new(),
            last_version,
            known: BTreeMap::new(),
            syncing: None,
            events: VecDeque::new(),
            last_failure: None,
        }
    }

    fn list_params(options: &WatcherOptions) -> ListParams {
        let mut p = ListParams::default().limit(options.page_size);
        p.label_selector = options.label_selector.clone();
        p.field_selector = options.field_selector.clone();
        p
    }

    /// The last resourceVersion delivered (the resume point).
    pub fn resource_version(&self) -> Option<&str> {
        self.last_version.as_deref()
    }

    /// The objects as the caller sees them after applying every delivered
    /// event (and, for [`WatchStart::Now`], the initial list).
    pub fn known(&self) -> impl Iterator<Item = &Item> {
        self.known.values()
    }

    /// True once closed (by [`Watcher::close`] or a final error).
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// Stops: no more requests; events already decoded stay available.
    pub fn close(&mut self) {
        self.phase = Phase::Closed;
        self.in_flight = None;
    }

    /// The next thing to tell the caller.
    pub fn poll_event(&mut self) -> Option<WatcherEvent> {
        self.events.pop_front()
    }

    /// When the watcher wants to be asked again for a request (the end of a
    /// backoff); `None` when nothing is waiting on time.
    ///
    /// While a watch stream is open, it is the instant its silence becomes
    /// too long: past it, [`Watcher::handle_timeout`] declares the
    /// connection dead.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if let Some(f) = &self.in_flight {
            let streaming = f.kind == Flight::Watch && f.status.is_some();
            return self
                .options
                .idle_limit()
                .filter(|_| streaming)
                .map(|limit| f.active_at + limit);
        }
        match self.phase {
            Phase::Backoff { until, .. } => Some(until),
            _ => None,
        }
    }

    /// Time passed: a watch stream silent beyond its limit is declared
    /// dead (as if cut) and the watch resumes. Returns true when the caller
    /// must drop the connection it is reading.
    pub fn handle_timeout(&mut self, now: Instant) -> bool {
        let dead = self.in_flight.as_ref().is_some_and(|f| {
            f.kind == Flight::Watch
                && f.status.is_some()
                && self
                    .options
                    .idle_limit()
                    .is_some_and(|limit| now >= f.active_at + limit)
        });
        if dead {
            self.handle_end(now, false);
        }
        dead
    }

    /// Body bytes that arrived at `now` (see [`Watcher::handle_body`]);
    /// the time keeps a live stream from being declared idle.
    pub fn handle_data(&mut self, now: Instant, chunk: &[u8]) -> bool {
        if let Some(f) = &mut self.in_flight {
            f.active_at = f.active_at.max(now);
        }
        self.handle_body(chunk)
    }

    /// The request to send now, if any: none while one is in flight, during
    /// a backoff (see [`Watcher::poll_timeout`]) or once closed.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Request<Bytes>> {
        if self.in_flight.is_some() {
            return None;
        }
        if let Phase::Backoff { until, then } = self.phase {
            if now < until {
                return None;
            }
            self.phase = match then {
                Then::List { relist } => self.listing(relist),
                Then::Watch => Phase::Watching,
            };
        }
        let (kind, request) = match &mut self.phase {
            Phase::Closed | Phase::Backoff { .. } => return None,
            Phase::Listing { pager, .. } => (Flight::List, pager.next_request()?),
            Phase::Watching => {
                let params = self.watch_params();
                (Flight::Watch, self.endpoint.watch(&params))
            }
        };
        match request {
            Ok(request) => {
                self.decoder = WatchDecoder::new();
                self.in_flight = Some(InFlight {
                    kind,
                    status: None,
                    headers: HeaderMap::new(),
                    body: Vec::new(),
                    delivered: 0,
                    abandoned: false,
                    sent_at: now,
                    active_at: now,
                    bad_lines: 0,
                    outcome: None,
                });
                Some(request)
            }
            Err(e) => {
                self.fail_final(e);
                None
            }
        }
    }

    fn listing(&self, relist: bool) -> Phase {
        Phase::Listing {
            pager: Box::new(Pager::new(
                self.endpoint.clone(),
                Self::list_params(&self.options),
            )),
            items: Vec::new(),
            relist,
        }
    }

    fn watch_params(&mut self) -> WatchParams {
        let mut p = WatchParams {
            label_selector: self.options.label_selector.clone(),
            field_selector: self.options.field_selector.clone(),
            timeout_seconds: self.options.timeout_seconds,
            ..WatchParams::default()
        };
        if self.options.start == WatchStart::InitialEvents
            && (self.last_version.is_none() || self.syncing.is_some())
        {
            // (Re)start the streaming list; everything up to its end bookmark
            // is compared with what the caller has.
            p.send_initial_events = true;
            self.syncing = Some(BTreeMap::new());
        } else {
            p.resource_version = self.last_version.clone();
        }
        p
    }

    /// The status and headers of the answer to the request in flight.
    pub fn handle_head(&mut self, status: u16, headers: &HeaderMap) {
        if let Some(f) = &mut self.in_flight {
            f.status = Some(status);
            f.headers = headers.clone();
        }
    }

    /// The next body bytes of the answer. Returns false when the watcher
    /// needs no more of this body (the caller should close it): after a
    /// `410` ERROR event, or when nothing is in flight.
    pub fn handle_body(&mut self, chunk: &[u8]) -> bool {
        let Some(f) = &mut self.in_flight else {
            return false;
        };
        if f.abandoned {
            return false;
        }
        let streaming =
            f.kind == Flight::Watch && f.status.is_some_and(|s| (200..300).contains(&s));
        if !streaming {
            f.body.extend_from_slice(chunk);
            return true;
        }
        self.decoder.feed(chunk);
        while let Some(decoded) = self.decoder.next_event() {
            let keep = match decoded {
                Ok(event) => self.apply(event),
                Err(e) => self.undecodable(e),
            };
            if !keep {
                if let Some(f) = &mut self.in_flight {
                    f.abandoned = true;
                }
                return false;
            }
        }
        true
    }

    /// A line or object that does not decode: skipped, and handled per
    /// [`WatcherOptions::on_error`] (quiet, reported, or the end). False
    /// when the stream must be dropped.
    fn undecodable(&mut self, err: Error) -> bool {
        if let Some(f) = &mut self.in_flight {
            f.bad_lines += 1;
        }
        match self.options.on_error {
            OnError::Retry => true,
            OnError::Surface => {
                self.events.push_back(WatcherEvent::Error(err));
                true
            }
            OnError::Stop => {
                self.fail_final(err);
                false
            }
        }
    }

    /// Applies one streamed event; false when the stream must be dropped.
    fn apply(&mut self, event: WatchEvent) -> bool {
        if event.evtype == WatchEventType::Error {
            // The apiserver ends a watch after an ERROR event: expired, it
            // relists; otherwise it backs off (at least `retryAfterSeconds`)
            // and resumes.
            let outcome = match event.status() {
                Some(status) if status.is_expired() => Outcome::Expired,
                Some(status) => {
                    let wait = status
                        .details
                        .as_ref()
                        .and_then(|d| d.retry_after_seconds)
                        .map(|s| Duration::from_secs(u64::from(s)));
                    let err = Error::Api(Box::new(crate::error::ApiError {
                        http_status: if status.code == 0 { 500 } else { status.code },
                        body: crate::error::ErrorBody::Status(Box::new(status)),
                        retry_after: None,
                    }));
                    Outcome::Failed(err, wait)
                }
                None => Outcome::Failed(
                    Error::decode(
                        "the Status of an ERROR event",
                        String::from_utf8_lossy(event.item.raw())
                            .chars()
                            .take(200)
                            .collect::<String>(),
                    ),
                    None,
                ),
            };
            if let Some(f) = &mut self.in_flight {
                f.outcome = Some(outcome);
            }
            return false;
        }
        let version = event.item.meta().version().to_string();
        if let Some(f) = &mut self.in_flight {
            f.delivered += 1;
        }
        if let Some(snapshot) = &mut self.syncing {
            match event.evtype {
                WatchEventType::Bookmark if event.is_initial_events_end() => {
                    let snapshot = self.syncing.take().unwrap_or_default();
                    self.last_version = Some(version.clone());
                    self.install(snapshot, version);
                }
                WatchEventType::Bookmark => {}
                WatchEventType::Deleted => {
                    snapshot.remove(&ObjectKey::of(&event.item));
                }
                _ => {
                    snapshot.insert(ObjectKey::of(&event.item), event.item);
                }
            }
            return true;
        }
        let key = ObjectKey::of(&event.item);
        // A change the caller already has (the same object at the same
        // resourceVersion, as a proxy or a buggy server may repeat it) is
        // not delivered twice. Versions are compared for equality only:
        // their order is the server's business.
        let repeated = matches!(
            event.evtype,
            WatchEventType::Added | WatchEventType::Modified
        ) && !version.is_empty()
            && self.known.get(&key).is_some_and(|had| {
                had.meta().version() == version && had.meta().uid() == event.item.meta().uid()
            });
        // A watch sends changes in resourceVersion order: a change older
        // than the resume point (a stale cache or proxy replaying it) is
        // not delivered, and the resume point never moves back. Only
        // versions the server writes as numbers are ordered.
        let behind = self.options.ordered_versions
            && self.last_version.as_deref().is_some_and(|last| {
                compare_resource_versions(&version, last) == Some(std::cmp::Ordering::Less)
            });
        if repeated || (behind && event.evtype != WatchEventType::Bookmark) {
            return true;
        }
        if !version.is_empty() && !behind {
            self.last_version = Some(version);
        }
        match event.evtype {
            WatchEventType::Added | WatchEventType::Modified => {
                self.known.insert(key, event.item.clone());
            }
            WatchEventType::Deleted => {
                self.known.remove(&key);
            }
            _ => {}
        }
        self.events.push_back(WatcherEvent::Event(event));
        true
    }

    /// Replaces the caller's picture with `snapshot`, delivering the
    /// differences, then `Synced`.
    fn install(&mut self, snapshot: BTreeMap<ObjectKey, Item>, version: String) {
        let old = std::mem::take(&mut self.known);
        for (k, item) in &snapshot {
            let evtype = match old.get(k) {
                None => WatchEventType::Added,
                Some(before)
                    if before.meta().version() != item.meta().version()
                        || before.meta().uid() != item.meta().uid() =>
                {
                    WatchEventType::Modified
                }
                Some(_) => continue,
            };
            self.events.push_back(WatcherEvent::Event(WatchEvent {
                evtype,
                item: item.clone(),
            }));
        }
        for (k, item) in old {
            if !snapshot.contains_key(&k) {
                self.events.push_back(WatcherEvent::Event(WatchEvent {
                    evtype: WatchEventType::Deleted,
                    item,
                }));
            }
        }
        self.known = snapshot;
        self.events.push_back(WatcherEvent::Synced {
            resource_version: version,
        });
    }

    /// The history expired: list again (or restart the streaming list)
    /// after a backoff, so that a server answering `410` forever is not
    /// relisted in a loop.
    fn relist(&mut self, now: Instant) {
        self.events.push_back(WatcherEvent::Relisted);
        let then = if self.options.start == WatchStart::InitialEvents {
            self.last_version = None;
            self.syncing = None;
            Then::Watch
        } else {
            Then::List { relist: true }
        };
        let until = now + self.next_backoff(now);
        self.phase = Phase::Backoff { until, then };
    }

    /// The next backoff, counting one more failure; failures further apart
    /// than two minutes start it over.
    fn next_backoff(&mut self, now: Instant) -> Duration {
        if self
            .last_failure
            .is_some_and(|t| now.saturating_duration_since(t) > BACKOFF_RESET)
        {
            self.options.backoff.reset();
        }
        self.last_failure = Some(now);
        self.options.backoff.next_delay()
    }

    /// The answer ended: `complete` when it ended properly, false when the
    /// connection was cut.
    pub fn handle_end(&mut self, now: Instant, complete: bool) {
        let Some(f) = self.in_flight.take() else {
            return;
        };
        let status = f.status.unwrap_or(0);
        if !(200..300).contains(&status) {
            if !complete || status == 0 {
                return self.retry(now, None);
            }
            let err = response::error_from_response(status, &f.headers, &f.body);
            return self.failed(now, err, f.kind);
        }
        match f.kind {
            Flight::List => self.list_page(now, status, &f.headers, f.body, complete),
            Flight::Watch => self.watch_end(now, f, complete),
        }
    }

    fn watch_end(&mut self, now: Instant, mut f: InFlight, complete: bool) {
        if complete
            && !f.abandoned
            && let Some(last) = self.decoder.finish()
        {
            // The last line, without its newline.
            self.in_flight = Some(f);
            let keep = match last {
                Ok(event) => self.apply(event),
                Err(e) => self.undecodable(e),
            };
            let Some(back) = self.in_flight.take() else {
                return;
            };
            f = back;
            f.abandoned |= !keep;
        }
        match f.outcome.take() {
            Some(Outcome::Expired) => return self.relist(now),
            Some(Outcome::Failed(err, wait)) => return self.recover(now, err, wait),
            None if f.abandoned || self.is_closed() => return,
            None => {}
        }
        let short = now.saturating_duration_since(f.sent_at) < SHORT_WATCH;
        if f.delivered > 0 || (complete && !short && f.bad_lines == 0) {
            // Progress, or a server timeout after a quiet while: resume now.
            self.phase = Phase::Watching;
        } else {
            // A cut before any event, an empty watch that ended within a
            // second, or a stream of nothing but undecodable lines: a
            // failed attempt, backed off.
            self.retry(now, None);
        }
    }

    /// The request in flight failed before or during its answer (connect
    /// refused, reset, timeout): retried after a backoff.
    pub fn handle_failure(&mut self, now: Instant, error: Error) {
        self.in_flight = None;
        self.recover(now, error, None);
    }

    /// A recoverable failure, handled per [`WatcherOptions::on_error`].
    fn recover(&mut self, now: Instant, err: Error, at_least: Option<Duration>) {
        match self.options.on_error {
            OnError::Retry => self.retry(now, at_least),
            OnError::Surface => {
                self.events.push_back(WatcherEvent::Error(err));
                self.retry(now, at_least);
            }
            OnError::Stop => self.fail_final(err),
        }
    }

    fn list_page(
        &mut self,
        now: Instant,
        status: u16,
        headers: &HeaderMap,
        body: Vec<u8>,
        complete: bool,
    ) {
        if !complete {
            return self.retry(now, None);
        }
        let Phase::Listing { pager, items, .. } = &mut self.phase else {
            return;
        };
        let skipped = match pager.handle_response(status, headers, Bytes::from(body)) {
            Ok(PageOutcome::Page(page)) => {
                let skipped: Vec<Error> = page.skipped().iter().map(|s| s.to_error()).collect();
                items.extend(page.into_items());
                skipped
            }
            Ok(PageOutcome::Restarted { .. }) => {
                items.clear();
                Vec::new()
            }
            Err(e) => return self.failed(now, e, Flight::List),
        };
        let done = pager.is_done();
        // An object that does not decode is reported and left out; the
        // others are listed.
        for err in skipped {
            if !self.undecodable(err) {
                return;
            }
        }
        let Phase::Listing {
            pager,
            items,
            relist,
        } = &mut self.phase
        else {
            return;
        };
        if !done {
            return;
        }
        let version = pager.resource_version().to_string();
        let relist = *relist;
        let snapshot = std::mem::take(items)
            .into_iter()
            .map(|i| (ObjectKey::of(&i), i))
            .collect();
        self.last_version = Some(version.clone());
        if relist || self.options.start == WatchStart::List {
            self.install(snapshot, version);
        } else {
            self.known = snapshot;
        }
        self.phase = Phase::Watching;
    }

    fn failed(&mut self, now: Instant, err: Error, kind: Flight) {
        let api = err.api().cloned();
        match api {
            Some(api) if api.is_expired() => {
                if kind == Flight::Watch {
                    self.relist(now);
                } else {
                    // The list itself expired: start it over.
                    self.phase = self.listing(true);
                    self.recover(now, err, None);
                }
            }
            Some(api) if api.http_status == 429 || api.http_status >= 500 => {
                let wait = api
                    .retry_after_seconds()
                    .map(|s| Duration::from_secs(u64::from(s)));
                self.recover(now, err, wait);
            }
            _ => self.fail_final(err),
        }
    }

    fn fail_final(&mut self, err: Error) {
        self.events.push_back(WatcherEvent::Error(err));
        self.close();
    }

    /// Waits a backoff (at least `at_least`), then repeats what was being
    /// done: the listing restarts from its first page, a watch resumes.
    fn retry(&mut self, now: Instant, at_least: Option<Duration>) {
        let then = match &self.phase {
            Phase::Closed => return,
            Phase::Listing { relist, .. } => Then::List { relist: *relist },
            Phase::Backoff { then, .. } => *then,
            Phase::Watching => Then::Watch,
        };
        let wait = self.next_backoff(now).max(at_least.unwrap_or_default());
        self.phase = Phase::Backoff {
            until: now + wait,
            then,
        };
    }
}
