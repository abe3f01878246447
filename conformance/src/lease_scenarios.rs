//! Leader election against the recorded Leases: each scenario drives the
//! core's `LeaderElector` with a clock set to the recorded times, so its
//! requests (whole Leases, MicroTimes to the microsecond) equal the
//! recorded ones. Where the recording client did what client-go's rules
//! forbid (take a lease it saw 56 ms earlier, renew after its deadline),
//! the scenario sends that request itself and checks the server's answer.

use std::time::{Duration, Instant, SystemTime};

use kubewire::{
    Error, WatchEventType, WriteParams,
    leader::{LeaderElector, LeaderEvent, LeaseParams, LeaseRecord, lease_endpoint},
    model::Timestamp,
    request::{Endpoint, GetParams},
    watch::{WatchStart, Watcher, WatcherEvent, WatcherOptions},
};
use serde_json::{Value, json};

use crate::scenario::{Ctx, Scenario};

/// The lease scenarios.
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "lease-acquire-and-renew",
            fixtures: &["lease-acquire-renew"],
            run: acquire_and_renew,
        },
        Scenario {
            name: "lease-held-by-another",
            fixtures: &["lease-conflict"],
            run: held_by_another,
        },
        Scenario {
            name: "lease-takeover-after-expiry",
            fixtures: &["lease-takeover"],
            run: takeover,
        },
        Scenario {
            name: "lease-release",
            fixtures: &["lease-release"],
            run: release,
        },
        Scenario {
            name: "lease-observed-by-watch",
            fixtures: &["lease-watch"],
            run: observed_by_watch,
        },
        Scenario {
            name: "lease-microtime-is-strict",
            fixtures: &["lease-microtime-strict"],
            run: microtime_strict,
        },
    ]
}

const NAME: &str = "my-controller";

/// A virtual clock: the recorded wall times and an `Instant` that moves
/// with them.
struct Clock {
    base: Instant,
    origin: SystemTime,
}

impl Clock {
    fn new(origin: &str) -> Clock {
        Clock {
            base: Instant::now(),
            origin: wall(origin),
        }
    }

    /// The instant and wall time of a recorded moment.
    fn at(&self, time: &str) -> (Instant, SystemTime) {
        let t = wall(time);
        let since = t
            .duration_since(self.origin)
            .expect("recorded times move forward");
        (self.base + since, t)
    }
}

fn wall(time: &str) -> SystemTime {
    time.parse::<Timestamp>()
        .expect("a recorded time")
        .to_system_time()
}

fn leases(cx: &Ctx<'_>) -> Endpoint {
    lease_endpoint(cx.config(), "demo").expect("leases in demo")
}

fn elector(cx: &Ctx<'_>, identity: &str, params: LeaseParams) -> LeaderElector {
    LeaderElector::new(leases(cx), NAME, identity, params, 7).expect("an elector")
}

/// Sends the elector's next request at `at` and feeds back the answer;
/// returns its method and the answer's JSON.
fn step(
    cx: &mut Ctx<'_>,
    elector: &mut LeaderElector,
    at: (Instant, SystemTime),
) -> (String, Value) {
    let request = elector
        .poll_transmit(at.0, at.1)
        .expect("the elector has a request due");
    let method = request.method().to_string();
    let answer = cx.send(Ok(request));
    let json = serde_json::from_slice(answer.body()).unwrap_or(Value::Null);
    elector.handle_response(at.0, answer);
    (method, json)
}

/// The recordings that start with the POST were made by a client that
/// knew the lease was absent; the elector asks first. Its opening GET is
/// answered here with the 404 `lease-acquire-renew` recorded.
fn absent(elector: &mut LeaderElector, at: (Instant, SystemTime)) {
    let request = elector.poll_transmit(at.0, at.1).expect("a first request");
    assert_eq!(request.method(), "GET");
    let not_found = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "leases.coordination.k8s.io \"my-controller\" not found",
        "reason": "NotFound",
        "details": {"name": "my-controller", "group": "coordination.k8s.io", "kind": "leases"},
        "code": 404
    });
    let answer = http::Response::builder()
        .status(404)
        .header("content-type", "application/json")
        .body(bytes::Bytes::from(not_found.to_string()))
        .expect("a response");
    elector.handle_response(at.0, answer);
}

fn events(elector: &mut LeaderElector) -> Vec<String> {
    std::iter::from_fn(|| elector.poll_event())
        .map(|e| match e {
            LeaderEvent::BecameLeader => "leader".to_string(),
            LeaderEvent::LostLeadership => "lost".to_string(),
            LeaderEvent::NewLeader(who) => format!("new leader {who}"),
            LeaderEvent::Failed(e) => format!("failed {e}"),
            _ => "unknown".to_string(),
        })
        .collect()
}

/// Params with a retry period short enough for the recorded pace.
fn params(retry_ms: u64) -> LeaseParams {
    let mut p = LeaseParams::default();
    p.retry_period = Duration::from_millis(retry_ms);
    p
}

/// Reads the Lease with a plain GET (what the recording client did between
/// the elector's steps) and lets `elector` observe it.
fn observe(cx: &mut Ctx<'_>, elector: &mut LeaderElector, at: Instant) -> LeaseRecord {
    let lease = cx
        .json(leases(cx).get(NAME, &GetParams::default()))
        .expect("the lease");
    elector.observe(at, &lease).expect("a Lease");
    LeaseRecord::from_lease(&lease).expect("a Lease")
}

/// A write the elector would not send (it breaks client-go's rules), sent
/// as recorded: the lease last seen with `record`.
fn stale_write(cx: &mut Ctx<'_>, lease: &Value, record: LeaseRecord) -> Error {
    let mut lease = lease.clone();
    record.write_into(&mut lease);
    cx.item(leases(cx).replace(NAME, &lease, &WriteParams::default()))
        .expect_err("a stale write is refused")
}

/// The 409 a stale write gets, worded as the apiserver words it.
fn assert_conflict(err: Error) {
    let api = err.api().expect("an apiserver error");
    assert_eq!(api.http_status, 409);
    assert_eq!(
        api.status().map(|s| s.reason.as_str()),
        Some("Conflict"),
        "{err}"
    );
    assert!(
        err.to_string().contains(
            "Operation cannot be fulfilled on leases.coordination.k8s.io \"my-controller\": the object has been modified"
        ),
        "{err}"
    );
}

fn record(holder: &str, acquire: &str, renew: &str, transitions: i64) -> LeaseRecord {
    LeaseRecord {
        holder: holder.into(),
        duration_seconds: 15,
        acquire_time: Some(acquire.into()),
        renew_time: Some(renew.into()),
        transitions,
    }
}

fn acquire_and_renew(cx: &mut Ctx<'_>) {
    let clock = Clock::new("2026-12-01T04:21:06.318025Z");
    let mut a = elector(cx, "kubewire-a", params(1000));
    let t0 = clock.at("2026-12-01T04:21:06.318025Z");
    assert_eq!(step(cx, &mut a, t0).0, "GET");
    assert_eq!(step(cx, &mut a, t0).0, "POST");
    assert_eq!(events(&mut a), ["new leader kubewire-a", "leader"]);
    assert!(a.is_leader(t0.0));
    let seen = observe(cx, &mut a, t0.0 + Duration::from_millis(50));
    assert_eq!(seen.holder, "kubewire-a");
    // Two renewals: the whole Lease last seen, only renewTime moved.
    for time in ["2026-12-01T04:21:07.427035Z", "2026-12-01T04:21:08.484845Z"] {
        let at = clock.at(time);
        assert_eq!(step(cx, &mut a, at).0, "PUT");
        assert!(a.is_leader(at.0));
    }
    assert!(events(&mut a).is_empty());
    // Leadership lasts the renew deadline from the last renewal's sending.
    let last = clock.at("2026-12-01T04:21:08.484845Z").0;
    assert_eq!(a.leader_until(), Some(last + Duration::from_secs(10)));
    assert!(!a.is_leader(last + Duration::from_secs(10)));
}

fn held_by_another(cx: &mut Ctx<'_>) {
    let clock = Clock::new("2026-12-01T04:21:08.645996Z");
    let mut a = elector(cx, "kubewire-a", params(500));
    let mut b = elector(cx, "kubewire-b", params(500));
    let created = clock.at("2026-12-01T04:21:08.645996Z");
    absent(&mut a, created);
    let (_, lease) = step(cx, &mut a, created);
    assert_eq!(events(&mut a), ["new leader kubewire-a", "leader"]);
    // B reads it 56 ms later: held, and not expired by B's own clock.
    let read = (created.0 + Duration::from_millis(56), created.1);
    assert_eq!(step(cx, &mut b, read).0, "GET");
    assert_eq!(events(&mut b), ["new leader kubewire-a"]);
    assert!(!b.is_leader(read.0));
    // A renews optimistically.
    assert_eq!(
        step(cx, &mut a, clock.at("2026-12-01T04:21:09.261956Z")).0,
        "PUT"
    );
    // B taking it anyway, with the version it read, is refused.
    assert_conflict(stale_write(
        cx,
        &lease,
        LeaseRecord {
            transitions: 1,
            ..record(
                "kubewire-b",
                "2026-12-01T04:21:09.311816Z",
                "2026-12-01T04:21:09.311816Z",
                1,
            )
        },
    ));
    // B's next attempt reads the renewed lease and waits.
    let later = clock.at("2026-12-01T04:21:10.500000Z");
    assert_eq!(step(cx, &mut b, later).0, "GET");
    assert!(events(&mut b).is_empty());
    assert_eq!(b.holder(), Some("kubewire-a"));
    assert!(
        b.poll_transmit(later.0, later.1).is_none(),
        "B waits its retry period"
    );
}

fn takeover(cx: &mut Ctx<'_>) {
    let clock = Clock::new("2026-12-01T04:21:09.526070Z");
    let mut a = elector(cx, "kubewire-a", params(2000));
    let mut b = elector(cx, "kubewire-b", params(2000));
    let created = clock.at("2026-12-01T04:21:09.526070Z");
    absent(&mut a, created);
    let (_, lease) = step(cx, &mut a, created);
    assert_eq!(events(&mut a), ["new leader kubewire-a", "leader"]);
    // B saw the lease when it was created (a watch, say); A then stops.
    b.observe(created.0, &lease).expect("a Lease");
    assert_eq!(events(&mut b), ["new leader kubewire-a"]);
    // 16.6 s later the lease has not changed for longer than its 15 s:
    // B reads it and takes it over.
    let at = clock.at("2026-12-01T04:21:26.130250Z");
    assert_eq!(step(cx, &mut b, at).0, "GET");
    assert_eq!(step(cx, &mut b, at).0, "PUT");
    assert_eq!(events(&mut b), ["new leader kubewire-b", "leader"]);
    // A's client-go renewal after its deadline (stale version) is refused.
    assert_conflict(stale_write(
        cx,
        &lease,
        record(
            "kubewire-a",
            "2026-12-01T04:21:09.526070Z",
            "2026-12-01T04:21:26.180204Z",
            0,
        ),
    ));
    // A itself, waking up, knows its deadline passed: it reads, sees B.
    let woke = clock.at("2026-12-01T04:21:26.200000Z");
    assert!(!a.is_leader(woke.0));
    assert_eq!(step(cx, &mut a, woke).0, "GET");
    assert_eq!(events(&mut a), ["lost", "new leader kubewire-b"]);
    assert!(
        a.poll_transmit(woke.0, woke.1).is_none(),
        "A waits its retry period"
    );
}

fn release(cx: &mut Ctx<'_>) {
    let clock = Clock::new("2026-12-01T04:21:26.389593Z");
    let mut a = elector(cx, "kubewire-a", params(2000));
    let created = clock.at("2026-12-01T04:21:26.389593Z");
    absent(&mut a, created);
    assert_eq!(step(cx, &mut a, created).0, "POST");
    observe(cx, &mut a, created.0 + Duration::from_millis(300));
    let at = clock.at("2026-12-01T04:21:26.990037Z");
    a.release(at.0);
    assert_eq!(events(&mut a), ["new leader kubewire-a", "leader", "lost"]);
    assert!(!a.is_leader(at.0));
    // One write: empty holder, 1 s, acquire = renew = now.
    assert_eq!(step(cx, &mut a, at).0, "PUT");
    assert!(a.is_done());
    assert!(a.poll_transmit(at.0, at.1).is_none());
    let lease = cx
        .json(leases(cx).get(NAME, &GetParams::default()))
        .expect("the lease");
    let released = LeaseRecord::from_lease(&lease).expect("a Lease");
    assert_eq!(
        (released.holder.as_str(), released.duration_seconds),
        ("", 1)
    );
    // The next contender need not wait: an empty holder is free.
    let mut b = elector(cx, "kubewire-b", params(2000));
    b.observe(at.0, &lease).expect("a Lease");
    assert!(events(&mut b).is_empty(), "nobody holds it");
}

fn observed_by_watch(cx: &mut Ctx<'_>) {
    let mut options = WatcherOptions::default();
    options.start = WatchStart::Now;
    let mut watcher = Watcher::new(leases(cx), options);
    let trace = cx.watch(&mut watcher, |t| {
        t.events
            .iter()
            .filter(|e| matches!(e, WatcherEvent::Event(e) if e.evtype == WatchEventType::Modified))
            .count()
            == 2
    });
    let mut b = elector(cx, "kubewire-b", LeaseParams::default());
    let now = Instant::now();
    let mut renewals = Vec::new();
    for event in &trace.events {
        if let WatcherEvent::Event(e) = event {
            let lease = e.item.to_value().expect("JSON");
            b.observe(now, &lease).expect("a Lease");
            renewals.push(LeaseRecord::from_lease(&lease).expect("a Lease"));
        }
    }
    assert_eq!(renewals.len(), 2);
    assert!(renewals.iter().all(|r| r.holder == "kubewire-a"));
    assert!(renewals[0].renew_time < renewals[1].renew_time);
    assert_eq!(events(&mut b), ["new leader kubewire-a"]);
    // Every renewal restarts B's observed time: at `now` + 15 s the lease
    // is still held by B's account.
    assert!(!b.is_leader(now));
}

fn microtime_strict(cx: &mut Ctx<'_>) {
    let lease = |acquire: &str, renew: &str| {
        record("kubewire-a", acquire, renew, 0).new_lease("demo", NAME)
    };
    for (acquire, renew, unparsed) in [
        (
            "2026-12-01T04:21:30.093221Z",
            "2026-12-01T04:00:00Z",
            "cannot parse \"Z\" as \".000000\"",
        ),
        (
            "2026-12-01T04:21:30.140476Z",
            "2026-12-01T04:00:00.123Z",
            "cannot parse \".123Z\" as \".000000\"",
        ),
        (
            "2026-12-01T04:21:30.188432Z",
            "2026-12-01T04:00:00.123456789Z",
            "cannot parse \"789Z\" as \"Z07:00\"",
        ),
    ] {
        let err = cx
            .item(leases(cx).create(&lease(acquire, renew), &WriteParams::default()))
            .expect_err("refused");
        assert_eq!(err.api().map(|a| a.http_status), Some(400), "{err}");
        assert!(err.to_string().contains(unparsed), "{err}");
        // What the elector writes is always six digits.
        let written = renew.parse::<Timestamp>().expect("a time").micro_time();
        assert_eq!(written.len(), "2026-12-01T04:00:00.000000Z".len());
    }
    let created = cx
        .item(leases(cx).create(
            &lease(
                "2026-12-01T05:00:00.123456+01:00",
                "2026-12-01T05:00:00.000000+01:00",
            ),
            &WriteParams::default(),
        ))
        .expect("six digits with an offset are accepted");
    let echoed = LeaseRecord::from_lease(&created.to_value().expect("JSON")).expect("a Lease");
    // The server's UTC form is the elector's own.
    for (sent, got) in [
        ("2026-12-01T05:00:00.123456+01:00", echoed.acquire_time),
        ("2026-12-01T05:00:00.000000+01:00", echoed.renew_time),
    ] {
        let ours = sent.parse::<Timestamp>().expect("a time").micro_time();
        assert_eq!(Some(ours), got);
    }
}
