#![allow(clippy::disallowed_methods)] // tests set up files and real instants for the code under test
//! Fault injection: seeded watch sessions drive the `Watcher` against a
//! simulated apiserver with random cut points (mid-event included), 410
//! Expired (as an ERROR event and as an HTTP status), server timeouts and
//! empty watches, bookmarks, 429/500 answers, ERROR events with and
//! without retryAfterSeconds, repeated changes, older versions replayed
//! after newer ones (backwards resourceVersions), undecodable lines and
//! expiring continue tokens. Events
//! delivered to the caller must be the server's history — none lost, none
//! duplicated, in order — and across a relist the caller's picture must
//! equal the server's state at every quiet point.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kubewire::http::{HeaderMap, HeaderValue, Request};
use kubewire::{
    WatchEventType,
    cache::Store,
    watch::{Backoff, WatchStart, Watcher, WatcherEvent, WatcherOptions},
};

mod common;
use common::Rng;

#[derive(Clone, Debug, PartialEq)]
struct Change {
    rv: u64,
    evtype: WatchEventType,
    name: String,
    uid: String,
    generation: u64,
}

/// The simulated apiserver: a history of changes to pods in `demo`.
struct Server {
    history: Vec<Change>,
    rv: u64,
    compacted: u64,
    next_uid: u64,
    /// How many names the history uses.
    objects: u64,
}

type State = BTreeMap<String, (String, u64)>; // name -> (uid, rv)

fn object(name: &str, uid: &str, rv: u64, generation: u64) -> String {
    format!(
        r#"{{"kind":"Pod","apiVersion":"v1","metadata":{{"name":"{name}","namespace":"demo","uid":"{uid}","resourceVersion":"{rv}","generation":{generation}}},"spec":{{"containers":[{{"name":"c","image":"img:{generation}"}}]}},"status":{{"phase":"Running"}}}}"#
    )
}

fn event_line(evtype: &str, obj: &str) -> String {
    format!("{{\"type\":\"{evtype}\",\"object\":{obj}}}\n")
}

impl Server {
    /// A server whose history touches up to `objects` names; with many,
    /// all of them exist from the start.
    fn new(rng: &mut Rng, objects: u64) -> Server {
        let mut s = Server {
            history: Vec::new(),
            rv: 100,
            compacted: 0,
            next_uid: 0,
            objects,
        };
        if objects > 100 {
            for n in 0..objects {
                s.add(format!("p{n}"));
            }
        }
        for _ in 0..rng.below(6) {
            s.mutate(rng);
        }
        s
    }

    fn add(&mut self, name: String) {
        self.rv += 1;
        self.next_uid += 1;
        self.history.push(Change {
            rv: self.rv,
            evtype: WatchEventType::Added,
            name,
            uid: format!("u{}", self.next_uid),
            generation: 1,
        });
    }

    fn state_at(&self, rv: u64) -> State {
        let mut state = State::new();
        for c in self.history.iter().take_while(|c| c.rv <= rv) {
            match c.evtype {
                WatchEventType::Deleted => {
                    state.remove(&c.name);
                }
                _ => {
                    state.insert(c.name.clone(), (c.uid.clone(), c.rv));
                }
            }
        }
        state
    }

    fn mutate(&mut self, rng: &mut Rng) {
        let state = self.state_at(self.rv);
        self.rv += 1 + rng.below(2);
        let name = format!("p{}", rng.below(self.objects));
        let change = match state.get(&name) {
            None => {
                self.next_uid += 1;
                Change {
                    rv: self.rv,
                    evtype: WatchEventType::Added,
                    name,
                    uid: format!("u{}", self.next_uid),
                    generation: 1,
                }
            }
            Some((uid, _)) if rng.chance(30) => Change {
                rv: self.rv,
                evtype: WatchEventType::Deleted,
                name,
                uid: uid.clone(),
                generation: 0,
            },
            Some((uid, _)) => {
                let generation = self.history.iter().filter(|c| c.uid == *uid).count() as u64 + 1;
                Change {
                    rv: self.rv,
                    evtype: WatchEventType::Modified,
                    name,
                    uid: uid.clone(),
                    generation,
                }
            }
        };
        self.history.push(change);
    }

    fn status(code: u16, reason: &str) -> String {
        format!(
            r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"{reason}","reason":"{reason}","code":{code}}}"#
        )
    }

    /// Answers one request: status, headers, body, and whether the body
    /// ends properly.
    fn answer(
        &mut self,
        req: &Request<Bytes>,
        rng: &mut Rng,
        faults: bool,
    ) -> (u16, HeaderMap, Vec<u8>, bool) {
        let query: BTreeMap<String, String> = req
            .uri()
            .query()
            .unwrap_or("")
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), v.replace("%3D", "=")))
            .collect();
        assert_eq!(req.uri().path(), "/api/v1/namespaces/demo/pods");
        let mut headers = HeaderMap::new();
        if faults && rng.chance(4) {
            headers.insert("retry-after", HeaderValue::from_static("2"));
            let code = if rng.chance(50) { 429 } else { 500 };
            return (
                code,
                headers,
                Server::status(code, "TooManyRequests").into_bytes(),
                true,
            );
        }
        if query.get("watch").map(String::as_str) != Some("true") {
            return self.list(&query, rng, faults);
        }
        assert_eq!(
            query.get("allowWatchBookmarks").map(String::as_str),
            Some("true"),
            "bookmarks are always asked for"
        );
        let mut body = String::new();
        let from = if query.contains_key("sendInitialEvents") {
            assert!(!query.contains_key("resourceVersion"));
            let snapshot = self.rv;
            for (name, (uid, rv)) in self.state_at(snapshot) {
                let generation = self
                    .history
                    .iter()
                    .rfind(|c| c.uid == uid && c.rv == rv)
                    .map_or(1, |c| c.generation);
                body.push_str(&event_line("ADDED", &object(&name, &uid, rv, generation)));
            }
            body.push_str(&event_line(
                "BOOKMARK",
                &format!(r#"{{"kind":"Pod","apiVersion":"v1","metadata":{{"resourceVersion":"{snapshot}","annotations":{{"k8s.io/initial-events-end":"true"}}}}}}"#),
            ));
            snapshot
        } else {
            let from: u64 = query["resourceVersion"]
                .parse()
                .expect("a numeric resourceVersion");
            if from < self.compacted {
                if rng.chance(50) {
                    return (
                        410,
                        headers,
                        Server::status(410, "Expired").into_bytes(),
                        true,
                    );
                }
                return (
                    200,
                    headers,
                    event_line("ERROR", &Server::status(410, "Expired")).into_bytes(),
                    true,
                );
            }
            from
        };
        let pending: Vec<&Change> = self.history.iter().filter(|c| c.rv > from).collect();
        let send = if faults {
            rng.below(pending.len() as u64 + 1) as usize
        } else {
            pending.len()
        };
        for c in &pending[..send] {
            let obj = object(&c.name, &c.uid, c.rv, c.generation);
            body.push_str(&event_line(&c.evtype.to_string(), &obj));
            if faults && c.evtype != WatchEventType::Deleted && rng.chance(5) {
                // A proxy repeats a change: delivered once.
                body.push_str(&event_line(&c.evtype.to_string(), &obj));
            }
            if faults && rng.chance(5) {
                // A stale cache replays an older version of the same object
                // after a newer one: not delivered, and the resume point
                // does not move back.
                if let Some(old) = self
                    .history
                    .iter()
                    .rfind(|o| o.uid == c.uid && o.rv < c.rv && o.evtype != WatchEventType::Deleted)
                {
                    let stale = object(&old.name, &old.uid, old.rv, old.generation);
                    body.push_str(&event_line("MODIFIED", &stale));
                }
            }
            if faults && rng.chance(4) {
                // A line that is no watch event: skipped, the rest goes on.
                body.push_str("<html><body>proxy error</body></html>\n");
            }
            if faults && rng.chance(20) {
                body.push_str(&event_line("BOOKMARK", &format!(r#"{{"kind":"Pod","apiVersion":"v1","metadata":{{"resourceVersion":"{}"}}}}"#, c.rv)));
            }
        }
        if faults && rng.chance(8) {
            // The server gives up on the watch with an ERROR event, with or
            // without retryAfterSeconds: backed off, then resumed.
            let details = if rng.chance(50) {
                r#","details":{"retryAfterSeconds":3}"#
            } else {
                ""
            };
            body.push_str(&event_line(
                "ERROR",
                &format!(r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","reason":"InternalError","code":500{details}}}"#),
            ));
            return (200, headers, body.into_bytes(), true);
        }
        if faults && send < pending.len() && rng.chance(60) {
            // Cut in the middle of the next event.
            let c = pending[send];
            let line = event_line(
                &c.evtype.to_string(),
                &object(&c.name, &c.uid, c.rv, c.generation),
            );
            let cut = 1 + rng.below(line.len() as u64 - 1) as usize;
            body.push_str(&line[..cut]);
            return (200, headers, body.into_bytes(), false);
        }
        let complete = !faults || rng.chance(50);
        (200, headers, body.into_bytes(), complete)
    }

    fn list(
        &mut self,
        query: &BTreeMap<String, String>,
        rng: &mut Rng,
        faults: bool,
    ) -> (u16, HeaderMap, Vec<u8>, bool) {
        let limit: usize = query
            .get("limit")
            .map_or(usize::MAX, |l| l.parse().expect("limit"));
        let (snapshot, offset) = match query.get("continue") {
            Some(token) => {
                let (rv, off) = token.split_once('-').expect("our token");
                let rv: u64 = rv.parse().expect("rv");
                if rv < self.compacted || (faults && rng.chance(10)) {
                    return (
                        410,
                        HeaderMap::new(),
                        Server::status(410, "Expired").into_bytes(),
                        true,
                    );
                }
                (rv, off.parse::<usize>().expect("offset"))
            }
            None => (self.rv, 0),
        };
        let state: Vec<(String, (String, u64))> = self.state_at(snapshot).into_iter().collect();
        let page = &state[offset.min(state.len())..(offset.saturating_add(limit)).min(state.len())];
        let items: Vec<String> = page
            .iter()
            .map(|(name, (uid, rv))| {
                let generation = self
                    .history
                    .iter()
                    .rfind(|c| &c.uid == uid && c.rv == *rv)
                    .map_or(1, |c| c.generation);
                object(name, uid, *rv, generation)
            })
            .collect();
        let next = offset + page.len();
        let cont = if next < state.len() {
            format!("{snapshot}-{next}")
        } else {
            String::new()
        };
        let body = format!(
            r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{"resourceVersion":"{snapshot}","continue":"{cont}"}},"items":[{}]}}"#,
            items.join(",")
        );
        if faults && rng.chance(5) {
            let cut = rng.below(body.len() as u64) as usize;
            return (
                200,
                HeaderMap::new(),
                body.as_bytes()[..cut].to_vec(),
                false,
            );
        }
        (200, HeaderMap::new(), body.into_bytes(), true)
    }
}

/// The caller: applies what the watcher delivers.
#[derive(Default)]
struct Caller {
    world: State,
    delivered: Vec<(String, u64)>,
    in_relist: bool,
    relists: usize,
}

fn rv_of(item: &kubewire::Item) -> u64 {
    item.meta().version().parse().expect("numeric rv")
}

/// The store's objects as the server's state type.
fn store_state(store: &Store) -> State {
    store
        .snapshot()
        .iter()
        .map(|i| {
            (
                i.meta().name().to_string(),
                (i.meta().uid().to_string(), rv_of(i)),
            )
        })
        .collect()
}

/// Hands one watcher event to the reflector store (when it gets the
/// listed objects) and to the caller. A ready store must equal the
/// server's state at the store's version after every event.
fn observe(
    caller: &mut Caller,
    store: Option<&mut Store>,
    server: &Server,
    event: WatcherEvent,
    seed: u64,
) {
    if let Some(store) = store {
        let copy = match &event {
            WatcherEvent::Event(e) => Some(WatcherEvent::Event(e.clone())),
            WatcherEvent::Relisted => Some(WatcherEvent::Relisted),
            WatcherEvent::Synced { resource_version } => Some(WatcherEvent::Synced {
                resource_version: resource_version.clone(),
            }),
            _ => None,
        };
        if let Some(copy) = copy {
            store.apply(copy);
        }
        if store.is_ready() {
            let rv: u64 = store.resource_version().unwrap().parse().unwrap();
            assert!(
                store_state(store) == server.state_at(rv),
                "seed {seed}: the store differs from the server at {rv}"
            );
        }
    }
    apply(caller, server, event, seed);
}

/// One session over a server of up to `objects` names, starting as
/// `start` says (or as the seed picks).
fn run_session(seed: u64, objects: u64, start: Option<WatchStart>) -> (usize, usize) {
    let mut rng = Rng(seed);
    let mut server = Server::new(&mut rng, objects);
    let pick = rng.below(100);
    let start = start.unwrap_or(if pick < 25 {
        WatchStart::InitialEvents
    } else if pick < 50 {
        WatchStart::List
    } else {
        WatchStart::Now
    });
    // The store gets every object only when the start delivers them.
    let mut store = (start != WatchStart::Now).then(Store::new);
    let endpoint = common::demo_pods();
    let mut options = WatcherOptions::default();
    options.start = start.clone();
    options.page_size = Some(if objects > 100 {
        200 + rng.below(300) as u32
    } else {
        1 + rng.below(4) as u32
    });
    options.backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5), seed);
    let mut watcher = Watcher::new(endpoint, options);
    let mut caller = Caller::default();
    let mut baseline_taken = start != WatchStart::Now;
    let mut now = Instant::now();
    let mut saw_410 = false;
    let mut start_rv = None;
    let mut requests = 0;
    let faulty_requests = 8 + rng.below(20);
    let mut clean_rounds = 0;
    loop {
        while let Some(event) = watcher.poll_event() {
            observe(&mut caller, store.as_mut(), &server, event, seed);
        }
        let faults = requests < faulty_requests;
        if !faults {
            // Quiet point reached: the caller is in step with the server.
            if baseline_taken
                && clean_rounds > 0
                && watcher.resource_version() == Some(&server.rv.to_string())
                && !caller.in_relist
            {
                break;
            }
            clean_rounds += 1;
            assert!(clean_rounds < 50, "seed {seed}: no progress without faults");
        }
        let Some(req) = watcher.poll_transmit(now) else {
            match watcher.poll_timeout() {
                Some(t) => {
                    now = t;
                    continue;
                }
                None => panic!(
                    "seed {seed}: the watcher stopped: {:?}",
                    watcher.is_closed()
                ),
            }
        };
        requests += 1;
        if !baseline_taken && req.uri().query().is_some_and(|q| q.contains("watch=true")) {
            // The initial list is the caller's baseline ("from now").
            caller.world = watcher
                .known()
                .map(|i| {
                    (
                        i.meta().name().to_string(),
                        (i.meta().uid().to_string(), rv_of(i)),
                    )
                })
                .collect();
            start_rv = watcher
                .resource_version()
                .map(|v| v.parse::<u64>().unwrap());
            baseline_taken = true;
        }
        if faults && rng.chance(40) {
            for _ in 0..1 + rng.below(3) {
                server.mutate(&mut rng);
            }
        }
        if faults && rng.chance(8) {
            server.compacted = server.rv.saturating_sub(rng.below(3));
        }
        if faults && rng.chance(3) {
            watcher.handle_failure(now, kubewire::Error::Protocol("connection refused".into()));
            continue;
        }
        let (status, headers, body, complete) = server.answer(&req, &mut rng, faults);
        if std::env::var("TRACE").is_ok() {
            eprintln!(
                "{} -> {status} complete={complete} {}",
                req.uri(),
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(150)
                    .collect::<String>()
            );
        }
        if status == 410 || body.windows(7).any(|w| w == b"Expired") {
            saw_410 = true;
        }
        watcher.handle_head(status, &headers);
        let mut pos = 0;
        let mut kept = true;
        while pos < body.len() && kept {
            let n = 1 + rng.below(300) as usize;
            let end = (pos + n).min(body.len());
            kept = watcher.handle_body(&body[pos..end]);
            pos = end;
            while let Some(event) = watcher.poll_event() {
                observe(&mut caller, store.as_mut(), &server, event, seed);
            }
        }
        if kept {
            watcher.handle_end(now, complete);
        } else {
            watcher.handle_end(now, false);
        }
        now += Duration::from_millis(10);
    }
    // Final quiet point: the caller's world equals the server's state.
    let rv: u64 = watcher.resource_version().unwrap().parse().unwrap();
    assert_eq!(
        caller.world,
        server.state_at(rv),
        "seed {seed}: world differs at the end"
    );
    // None delivered twice.
    let mut seen = caller.delivered.clone();
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        caller.delivered.len(),
        "seed {seed}: an event was delivered twice"
    );
    if !saw_410 && start == WatchStart::Now {
        // Without 410 the delivered events are exactly the history.
        let from = start_rv.expect("a baseline");
        let expected: Vec<(String, u64)> = server
            .history
            .iter()
            .filter(|c| c.rv > from && c.rv <= rv)
            .map(|c| (c.name.clone(), c.rv))
            .collect();
        assert_eq!(
            caller.delivered, expected,
            "seed {seed}: delivered events differ from the history"
        );
    }
    (usize::from(saw_410), caller.relists)
}

fn apply(caller: &mut Caller, server: &Server, event: WatcherEvent, seed: u64) {
    match event {
        WatcherEvent::Event(e) => {
            let name = e.item.meta().name().to_string();
            match e.evtype {
                WatchEventType::Bookmark => return,
                WatchEventType::Added | WatchEventType::Modified => {
                    caller.world.insert(
                        name.clone(),
                        (e.item.meta().uid().to_string(), rv_of(&e.item)),
                    );
                }
                WatchEventType::Deleted => {
                    assert!(
                        caller.world.remove(&name).is_some(),
                        "seed {seed}: DELETED for an unknown object"
                    );
                }
                WatchEventType::Error => {
                    panic!("seed {seed}: ERROR events surface as WatcherEvent::Error")
                }
            }
            if !caller.in_relist {
                caller.delivered.push((name, rv_of(&e.item)));
            }
        }
        WatcherEvent::Relisted => {
            caller.in_relist = true;
            caller.relists += 1;
        }
        WatcherEvent::Synced { resource_version } => {
            caller.in_relist = false;
            let rv: u64 = resource_version.parse().unwrap();
            assert_eq!(
                caller.world,
                server.state_at(rv),
                "seed {seed}: world differs after a sync at {rv}"
            );
        }
        WatcherEvent::Error(_) => {}
        _ => {}
    }
}

#[test]
fn ten_thousand_seeded_sessions_lose_nothing_and_duplicate_nothing() {
    let mut expired = 0;
    let mut relists = 0;
    let first: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    for seed in first..10_000u64 {
        let (e, r) = run_session(seed, 8, None);
        expired += e;
        relists += r;
    }
    // The faults really happened.
    assert!(
        expired > 1000 && relists > 1000,
        "expired {expired}, relists {relists}"
    );
}

#[test]
fn stores_of_ten_thousand_objects_equal_the_server_after_every_event() {
    // Cuts, 410 relists, bookmarks, repeats and stale replays over 10,000
    // pods, from a paged list and from a streaming list.
    let mut relists = 0;
    for seed in 0..12u64 {
        let start = if seed % 2 == 0 {
            WatchStart::List
        } else {
            WatchStart::InitialEvents
        };
        relists += run_session(1_000_000 + seed, 10_000, Some(start)).1;
    }
    assert!(
        relists >= 2,
        "the faults really happened: {relists} relists"
    );
}
