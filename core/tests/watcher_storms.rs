#![allow(clippy::disallowed_methods)] // tests start virtual time from a real instant
//! Hostile servers, in virtual time: every watch answered by an empty 200,
//! by an ERROR event (with and without `retryAfterSeconds`), by `410`
//! forever, by a login page, by silence, or by a 503. Over 10,000 seeded
//! sessions of up to 20 virtual minutes, the watcher never sends more
//! requests than client-go's reflector backoff allows (800 ms doubling to
//! 30 s, never faster), honours `retryAfterSeconds`, and nothing it
//! delivers is invented.

use std::time::{Duration, Instant};

use kubewire::http::HeaderMap;
use kubewire::watch::{OnError, WatchStart, Watcher, WatcherEvent, WatcherOptions};

mod common;
use common::Rng;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Hostile {
    /// Every watch: 200, no events, closed at once.
    EmptyClose,
    /// Every watch: an ERROR event (500), perhaps with retryAfterSeconds.
    ErrorEvent(Option<u64>),
    /// Lists succeed; every watch is 410 Gone (as a status or an event).
    GoneForever { as_event: bool },
    /// Every watch: 200 with an HTML login page.
    LoginPage,
    /// Every watch: 200 and then nothing at all, ever.
    Silent,
    /// Every request: 503 with Retry-After.
    Unavailable(u64),
}

const LIST: &str =
    r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"100"},"items":[]}"#;

fn error_event(code: u16, reason: &str, retry_after: Option<u64>) -> String {
    let details = retry_after.map_or(String::new(), |s| {
        format!(r#","details":{{"retryAfterSeconds":{s}}}"#)
    });
    format!(
        "{{\"type\":\"ERROR\",\"object\":{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"{reason}\",\"code\":{code}{details}}}}}\n"
    )
}

/// The most requests a client backing off like client-go's reflector may
/// send in `span` when every attempt fails: the n-th failure waits at least
/// `min(0.8 s · 2ⁿ, 30 s)`, and at least `floor`.
fn allowed(span: Duration, floor: Duration, per_attempt: usize) -> usize {
    let mut at = Duration::ZERO;
    let mut attempts = 1;
    for n in 0.. {
        let wait = Duration::from_millis(800)
            .saturating_mul(1u32 << n.min(16))
            .min(Duration::from_secs(30))
            .max(floor);
        at += wait;
        if at > span {
            break;
        }
        attempts += 1;
    }
    attempts * per_attempt + 1
}

fn session(seed: u64) -> (Hostile, usize, usize) {
    let mut rng = Rng(seed);
    let mode = match rng.below(6) {
        0 => Hostile::EmptyClose,
        1 => Hostile::ErrorEvent(rng.chance(50).then(|| 1 + rng.below(90))),
        2 => Hostile::GoneForever {
            as_event: rng.chance(50),
        },
        3 => Hostile::LoginPage,
        4 => Hostile::Silent,
        _ => Hostile::Unavailable(1 + rng.below(20)),
    };
    let endpoint = common::demo_pods();
    let mut options = WatcherOptions::default();
    options.start = if rng.chance(50) {
        WatchStart::Now
    } else {
        WatchStart::Version("100".into())
    };
    options.on_error = if rng.chance(50) {
        OnError::Retry
    } else {
        OnError::Surface
    };
    options.backoff =
        kubewire::watch::Backoff::new(Duration::from_millis(800), Duration::from_secs(30), seed);
    let mut w = Watcher::new(endpoint, options);
    let start = Instant::now();
    let span = Duration::from_secs(60 + rng.below(19 * 60));
    let mut now = start;
    let mut requests = 0;
    loop {
        while let Some(event) = w.poll_event() {
            if let WatcherEvent::Event(e) = event {
                panic!("seed {seed} {mode:?}: an event from a server that sent none: {e:?}");
            }
        }
        let Some(request) = w.poll_transmit(now) else {
            match w.poll_timeout() {
                Some(t) if t > start + span => break,
                Some(t) => {
                    now = t;
                    continue;
                }
                None => panic!("seed {seed} {mode:?}: the watcher stopped"),
            }
        };
        requests += 1;
        let watch = request
            .uri()
            .query()
            .is_some_and(|q| q.contains("watch=true"));
        let mut headers = HeaderMap::new();
        let (status, body) = match mode {
            Hostile::Unavailable(s) => {
                headers.insert("retry-after", s.to_string().parse().unwrap());
                (503, r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"ServiceUnavailable","code":503}"#.to_string())
            }
            _ if !watch => (200, LIST.to_string()),
            Hostile::EmptyClose => (200, String::new()),
            Hostile::ErrorEvent(after) => (200, error_event(500, "InternalError", after)),
            Hostile::GoneForever { as_event: true } => (200, error_event(410, "Expired", None)),
            Hostile::GoneForever { as_event: false } => (
                410,
                r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410}"#.to_string(),
            ),
            Hostile::LoginPage => (200, "<html>\n<body>Please sign in</body>\n</html>\n".to_string()),
            Hostile::Silent => (200, String::new()),
        };
        w.handle_head(status, &headers);
        let kept = w.handle_data(now, body.as_bytes());
        if mode == Hostile::Silent && watch && kept {
            // Nothing more arrives: the idle limit declares the stream dead.
            let deadline = w.poll_timeout().expect("an idle deadline");
            assert!(
                deadline >= now + Duration::from_secs(290),
                "seed {seed}: not before the server's own timeout"
            );
            if deadline > start + span {
                break;
            }
            now = deadline;
            assert!(
                w.handle_timeout(now),
                "seed {seed}: a silent stream is dead at its deadline"
            );
        } else {
            w.handle_end(now, kept);
        }
        now += Duration::from_millis(rng.below(50));
    }
    let (floor, per_attempt) = match mode {
        Hostile::ErrorEvent(Some(s)) | Hostile::Unavailable(s) => (Duration::from_secs(s), 1),
        // A relist is a list and a watch.
        Hostile::GoneForever { .. } => (Duration::ZERO, 2),
        _ => (Duration::ZERO, 1),
    };
    // A list before the first watch ("from now") is one more request.
    let bound = allowed(span, floor, per_attempt) + 1;
    assert!(
        requests <= bound,
        "seed {seed} {mode:?}: {requests} requests in {span:?}, client-go allows {bound}"
    );
    (mode, requests, bound)
}

#[test]
fn ten_thousand_hostile_sessions_never_storm() {
    let mut worst: f64 = 0.0;
    let mut total = 0;
    for seed in 0..10_000u64 {
        let (_, requests, bound) = session(seed);
        total += requests;
        worst = worst.max(requests as f64 / bound as f64);
    }
    assert!(total > 50_000, "the sessions did run: {total} requests");
    assert!(
        worst > 0.3,
        "the bound is not vacuous: worst ratio {worst:.2}"
    );
}

#[test]
fn the_bound_is_client_gos() {
    // 800 ms, 1.6, 3.2, 6.4, 12.8, 25.6 (50.4 s in all), then 30 s apart.
    assert_eq!(allowed(Duration::from_secs(50), Duration::ZERO, 1), 7);
    assert_eq!(allowed(Duration::from_secs(51), Duration::ZERO, 1), 8);
    assert_eq!(allowed(Duration::from_secs(81), Duration::ZERO, 1), 9);
    assert_eq!(
        allowed(Duration::from_secs(60), Duration::from_secs(30), 1),
        4
    );
}
