#![allow(clippy::disallowed_methods)] // tests set up files and real instants for the code under test
//! The watcher state machine, step by step.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kubewire::http::{HeaderMap, HeaderValue};
use kubewire::{
    Config, Error, Kind,
    request::{Endpoint, Scope},
    watch::{OnError, WatchStart, Watcher, WatcherEvent, WatcherOptions},
};

fn pods() -> Endpoint {
    Endpoint::new(
        Arc::new(Config::default()),
        Kind::Pod.api_resource(0).unwrap(),
        Scope::Namespace("demo".into()),
    )
    .unwrap()
}

fn watcher(start: WatchStart) -> Watcher {
    watcher_with(start, OnError::Retry)
}

fn watcher_with(start: WatchStart, on_error: OnError) -> Watcher {
    let mut o = WatcherOptions::default();
    o.start = start;
    o.on_error = on_error;
    Watcher::new(pods(), o)
}

fn pod(name: &str, rv: u32) -> String {
    format!(
        r#"{{"kind":"Pod","apiVersion":"v1","metadata":{{"name":"{name}","namespace":"demo","uid":"u-{name}","resourceVersion":"{rv}"}}}}"#
    )
}

fn event(t: &str, name: &str, rv: u32) -> String {
    format!("{{\"type\":\"{t}\",\"object\":{}}}\n", pod(name, rv))
}

fn list(rv: u32, names: &[(&str, u32)]) -> String {
    let items: Vec<String> = names.iter().map(|(n, r)| pod(n, *r)).collect();
    format!(
        r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{"resourceVersion":"{rv}"}},"items":[{}]}}"#,
        items.join(",")
    )
}

fn query(w: &mut Watcher, now: Instant) -> String {
    w.poll_transmit(now)
        .expect("a request")
        .uri()
        .query()
        .unwrap_or("")
        .to_string()
}

fn answer(
    w: &mut Watcher,
    now: Instant,
    status: u16,
    body: &str,
    complete: bool,
) -> Vec<WatcherEvent> {
    w.handle_head(status, &HeaderMap::new());
    let keep = w.handle_body(body.as_bytes());
    w.handle_end(now, complete && keep);
    std::iter::from_fn(|| w.poll_event()).collect()
}

fn names(events: &[WatcherEvent]) -> Vec<String> {
    events
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
            _ => "?".into(),
        })
        .collect()
}

#[test]
fn from_now_lists_then_watches_from_the_list_version() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::Now);
    assert_eq!(query(&mut w, now), "limit=500");
    assert!(w.poll_transmit(now).is_none(), "one request at a time");
    assert!(
        names(&answer(&mut w, now, 200, &list(7770, &[("a", 5)]), true)).is_empty(),
        "listed objects are the baseline, not events"
    );
    assert_eq!(w.known().count(), 1);
    assert_eq!(
        query(&mut w, now),
        "watch=true&resourceVersion=7770&allowWatchBookmarks=true&timeoutSeconds=290"
    );
    let got = answer(
        &mut w,
        now,
        200,
        &(event("ADDED", "b", 7771) + &event("MODIFIED", "a", 7772)),
        false,
    );
    assert_eq!(names(&got), ["ADDED b 7771", "MODIFIED a 7772"]);
    assert_eq!(w.resource_version(), Some("7772"));
}

#[test]
fn an_items_watch_covers_changes_after_its_version() {
    let now = Instant::now();
    let mut o = WatcherOptions::default();
    o.start = WatchStart::Version("7729".into());
    o.field_selector = Some("metadata.name=db-0".into());
    let mut w = Watcher::new(pods(), o);
    assert_eq!(
        query(&mut w, now),
        "watch=true&fieldSelector=metadata.name%3Ddb-0&resourceVersion=7729&allowWatchBookmarks=true&timeoutSeconds=290"
    );
}

#[test]
fn a_cut_mid_event_resumes_from_the_last_complete_event() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::Version("10".into()));
    query(&mut w, now);
    let second = event("MODIFIED", "a", 12);
    let body = event("ADDED", "a", 11) + &second[..40];
    assert_eq!(
        names(&answer(&mut w, now, 200, &body, false)),
        ["ADDED a 11"]
    );
    // Progress was made: resume at once, from 11.
    assert_eq!(
        query(&mut w, now),
        "watch=true&resourceVersion=11&allowWatchBookmarks=true&timeoutSeconds=290"
    );
    assert_eq!(
        names(&answer(&mut w, now, 200, &second, false)),
        ["MODIFIED a 12"]
    );
}

#[test]
fn a_bookmark_only_stream_advances_the_resume_version() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::Version("10".into()));
    query(&mut w, now);
    let bookmark = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"57\"}}}\n";
    assert_eq!(
        names(&answer(&mut w, now, 200, bookmark, true)),
        ["BOOKMARK  57"]
    );
    assert_eq!(
        query(&mut w, now),
        "watch=true&resourceVersion=57&allowWatchBookmarks=true&timeoutSeconds=290"
    );
}

#[test]
fn a_server_timeout_reconnects_at_once() {
    let now = Instant::now();
    let mut o = WatcherOptions::default();
    o.start = WatchStart::Version("7800".into());
    o.timeout_seconds = Some(2);
    let mut w = Watcher::new(pods(), o);
    assert_eq!(
        query(&mut w, now),
        "watch=true&resourceVersion=7800&allowWatchBookmarks=true&timeoutSeconds=2"
    );
    answer(&mut w, now, 200, &event("DELETED", "a", 7804), true);
    assert_eq!(
        query(&mut w, now),
        "watch=true&resourceVersion=7804&allowWatchBookmarks=true&timeoutSeconds=2"
    );
    // An empty watch the server ends after a while is a success: resume.
    let later = now + Duration::from_secs(2);
    answer(&mut w, later, 200, "", true);
    assert!(w.poll_transmit(later).is_some());
    // One that ends within a second with no events is a failed attempt
    // (a server answering every watch with an empty 200 is not hammered).
    answer(&mut w, later, 200, "", true);
    assert!(w.poll_transmit(later).is_none(), "backing off");
    let at = w.poll_timeout().expect("a backoff");
    assert!(at >= later + Duration::from_millis(400), "{:?}", at - later);
    assert!(w.poll_transmit(at).is_some());
}

#[test]
fn expired_error_event_relists_and_reports_the_differences() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::Now);
    query(&mut w, now);
    answer(
        &mut w,
        now,
        200,
        &list(100, &[("keep", 90), ("change", 91), ("gone", 92)]),
        true,
    );
    query(&mut w, now);
    let expired = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: 100 (300)\",\"reason\":\"Expired\",\"code\":410}}\n";
    w.handle_head(200, &HeaderMap::new());
    assert!(
        !w.handle_body(expired.as_bytes()),
        "the stream is abandoned"
    );
    w.handle_end(now, false);
    assert_eq!(
        names(&std::iter::from_fn(|| w.poll_event()).collect::<Vec<_>>()),
        ["relisted"]
    );
    assert!(w.poll_transmit(now).is_none(), "a relist is backed off");
    let now = w.poll_timeout().expect("relist time");
    assert_eq!(query(&mut w, now), "limit=500");
    let got = answer(
        &mut w,
        now,
        200,
        &list(300, &[("change", 250), ("keep", 90), ("new", 299)]),
        true,
    );
    assert_eq!(
        names(&got),
        [
            "MODIFIED change 250",
            "ADDED new 299",
            "DELETED gone 92",
            "synced 300"
        ]
    );
    assert_eq!(
        query(&mut w, now),
        "watch=true&resourceVersion=300&allowWatchBookmarks=true&timeoutSeconds=290"
    );
}

#[test]
fn expired_http_status_relists_too() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::Version("2".into()));
    query(&mut w, now);
    let got = answer(
        &mut w,
        now,
        410,
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"Expired","code":410}"#,
        true,
    );
    assert_eq!(names(&got), ["relisted"]);
    let at = w.poll_timeout().expect("relist after a backoff");
    assert!(at > now);
    assert_eq!(query(&mut w, at), "limit=500");
}

#[test]
fn other_error_events_surface_end_the_stream_and_resume_after_a_backoff() {
    let now = Instant::now();
    let mut w = watcher_with(WatchStart::Version("1".into()), OnError::Surface);
    query(&mut w, now);
    let err = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"internal error\",\"reason\":\"InternalError\",\"code\":500}}\n";
    let got = answer(
        &mut w,
        now,
        200,
        &(err.to_string() + &event("ADDED", "a", 2)),
        true,
    );
    assert_eq!(
        names(&got),
        ["error apiserver answered 500 InternalError: internal error"]
    );
    assert!(w.poll_transmit(now).is_none(), "backed off");
    let at = w.poll_timeout().expect("a backoff");
    assert_eq!(
        query(&mut w, at),
        "watch=true&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=290",
        "resumes from the last version delivered"
    );
    let got = answer(&mut w, at, 200, &event("ADDED", "a", 2), true);
    assert_eq!(names(&got), ["ADDED a 2"]);
}

#[test]
fn an_error_events_retry_after_seconds_is_honoured() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::Version("1".into()));
    query(&mut w, now);
    let err = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"reason\":\"TooManyRequests\",\"details\":{\"retryAfterSeconds\":7},\"code\":429}}\n";
    assert!(
        answer(&mut w, now, 200, err, true).is_empty(),
        "quiet by default"
    );
    assert!(w.poll_timeout().expect("a backoff") >= now + Duration::from_secs(7));
}

#[test]
fn an_undecodable_error_event_is_not_code_0_and_a_string_410_still_expires() {
    let now = Instant::now();
    let mut w = watcher_with(WatchStart::Version("1".into()), OnError::Surface);
    query(&mut w, now);
    let got = answer(
        &mut w,
        now,
        200,
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"bogus\":1}}\n",
        true,
    );
    assert_eq!(got.len(), 1);
    assert!(
        matches!(&got[0], WatcherEvent::Error(e) if e.http_status() != Some(0) && !e.to_string().contains("answered 0")),
        "{:?}",
        names(&got)
    );
    let at = w.poll_timeout().expect("a backoff");
    query(&mut w, at);
    let expired = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"reason\":\"Expired\",\"code\":\"410\",\"message\":\"too old\"}}\n";
    assert_eq!(names(&answer(&mut w, at, 200, expired, true)), ["relisted"]);
}

#[test]
fn a_stream_of_nothing_but_garbage_is_backed_off() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::Version("1".into()));
    let mut t = now;
    let mut waits = Vec::new();
    for _ in 0..6 {
        query(&mut w, t);
        // A login page answering 200, at length.
        let got = answer(
            &mut w,
            t + Duration::from_secs(5),
            200,
            "<html>\n<body>sign in</body>\n</html>\n",
            true,
        );
        assert!(got.is_empty(), "quiet by default: {:?}", names(&got));
        let at = w.poll_timeout().expect("a backoff");
        waits.push(at - (t + Duration::from_secs(5)));
        t = at;
    }
    assert!(waits.windows(2).all(|p| p[1] >= p[0]), "growing: {waits:?}");
    assert!(waits[5] >= Duration::from_secs(10), "{waits:?}");
}

#[test]
fn throttling_waits_for_retry_after_and_backs_off_without_progress() {
    let now = Instant::now();
    let mut w = watcher_with(WatchStart::Version("1".into()), OnError::Surface);
    query(&mut w, now);
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from_static("5"));
    w.handle_head(429, &headers);
    w.handle_body(br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"TooManyRequests","code":429}"#);
    w.handle_end(now, true);
    assert!(matches!(w.poll_event(), Some(WatcherEvent::Error(e)) if e.http_status() == Some(429)));
    assert!(w.poll_transmit(now + Duration::from_secs(4)).is_none());
    let at = w.poll_timeout().unwrap();
    assert!(at >= now + Duration::from_secs(5));
    assert!(w.poll_transmit(at).is_some());
    // A cut with nothing delivered is a failure: back off, growing.
    answer(&mut w, at, 200, "", false);
    let first = w.poll_timeout().expect("backing off") - at;
    assert!(w.poll_transmit(at).is_none());
    let t = w.poll_timeout().unwrap();
    w.poll_transmit(t).unwrap();
    w.handle_failure(t, Error::Protocol("connection refused".into()));
    let second = w.poll_timeout().unwrap() - t;
    assert!(second > first / 2, "{first:?} then {second:?}");
}

const THROTTLED: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"TooManyRequests","code":429}"#;
const IN_STREAM_500: &str = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"internal error\",\"reason\":\"InternalError\",\"code\":500}}\n";

#[test]
fn by_default_recoverable_errors_are_retried_quietly() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::Version("1".into()));
    query(&mut w, now);
    let got = answer(&mut w, now, 429, THROTTLED, true);
    assert!(got.is_empty(), "nothing delivered: {:?}", names(&got));
    let at = w.poll_timeout().expect("backing off");
    w.poll_transmit(at).expect("retried");
    w.handle_failure(at, Error::Protocol("connection refused".into()));
    assert!(w.poll_event().is_none());
    let at = w.poll_timeout().expect("backing off again");
    w.poll_transmit(at).expect("retried");
    let got = answer(
        &mut w,
        at,
        200,
        &(IN_STREAM_500.to_string() + &event("ADDED", "a", 2)),
        true,
    );
    assert!(got.is_empty(), "quiet: {:?}", names(&got));
    assert!(
        w.poll_transmit(at).is_none(),
        "the ERROR event is backed off"
    );
    let at = w.poll_timeout().expect("backing off after the ERROR event");
    w.poll_transmit(at).expect("resumed");
    let got = answer(&mut w, at, 200, &event("ADDED", "a", 2), true);
    assert_eq!(names(&got), ["ADDED a 2"]);
    assert!(!w.is_closed());
}

#[test]
fn a_silent_stream_is_declared_dead_and_resumed() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::Version("1".into()));
    query(&mut w, now);
    w.handle_head(200, &HeaderMap::new());
    assert!(w.handle_data(now, event("ADDED", "a", 2).as_bytes()));
    let limit = w.poll_timeout().expect("an idle deadline while streaming");
    assert_eq!(limit, now + Duration::from_secs(290 + 60));
    // Bytes move the deadline.
    let later = now + Duration::from_secs(100);
    assert!(w.handle_data(later, event("MODIFIED", "a", 3).as_bytes()));
    assert!(!w.handle_timeout(limit), "not silent that long");
    let limit = w.poll_timeout().unwrap();
    assert_eq!(limit, later + Duration::from_secs(350));
    assert!(w.handle_timeout(limit), "silent too long: dead");
    assert_eq!(
        query(&mut w, limit),
        "watch=true&resourceVersion=3&allowWatchBookmarks=true&timeoutSeconds=290",
        "resumes at once after progress"
    );
}

#[test]
fn stop_ends_the_watch_at_the_first_error() {
    let now = Instant::now();
    let mut w = watcher_with(WatchStart::Version("1".into()), OnError::Stop);
    query(&mut w, now);
    let got = answer(
        &mut w,
        now,
        200,
        &(IN_STREAM_500.to_string() + &event("ADDED", "a", 2)),
        true,
    );
    assert_eq!(
        names(&got),
        ["error apiserver answered 500 InternalError: internal error"]
    );
    assert!(w.is_closed() && w.poll_transmit(now).is_none());
    let mut w = watcher_with(WatchStart::Version("1".into()), OnError::Stop);
    query(&mut w, now);
    w.handle_failure(now, Error::Protocol("connection refused".into()));
    assert!(matches!(w.poll_event(), Some(WatcherEvent::Error(_))));
    assert!(w.is_closed() && w.poll_timeout().is_none());
}

#[test]
fn forbidden_is_final() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::Version("1".into()));
    query(&mut w, now);
    let got = answer(
        &mut w,
        now,
        403,
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden","reason":"Forbidden","code":403}"#,
        true,
    );
    assert_eq!(
        names(&got),
        ["error apiserver answered 403 Forbidden: pods is forbidden"]
    );
    assert!(w.is_closed() && w.poll_transmit(now).is_none() && w.poll_timeout().is_none());
}

#[test]
fn streaming_list_delivers_initial_objects_then_changes() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::InitialEvents);
    assert_eq!(
        query(&mut w, now),
        "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=290"
    );
    let end = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"20\",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}}\n";
    let body = event("ADDED", "a", 5) + &event("ADDED", "b", 7) + end + &event("MODIFIED", "a", 21);
    let got = answer(&mut w, now, 200, &body, true);
    assert_eq!(
        names(&got),
        ["ADDED a 5", "ADDED b 7", "synced 20", "MODIFIED a 21"]
    );
    assert_eq!(
        query(&mut w, now),
        "watch=true&resourceVersion=21&allowWatchBookmarks=true&timeoutSeconds=290"
    );
    w.close();
    assert!(w.poll_transmit(now).is_none());
    assert_eq!(w.known().filter(|i| i.meta().name() == "a").count(), 1);
}

#[test]
fn an_undecodable_list_item_is_reported_and_the_others_are_listed() {
    let now = Instant::now();
    let mut w = watcher_with(WatchStart::Now, OnError::Surface);
    query(&mut w, now);
    let body = format!(
        r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{"resourceVersion":"100"}},"items":[42,{}]}}"#,
        pod("a", 90)
    );
    let got = answer(&mut w, now, 200, &body, true);
    assert_eq!(got.len(), 1, "{:?}", names(&got));
    assert!(matches!(&got[0], WatcherEvent::Error(e) if e.to_string().contains("item 0")));
    assert_eq!(w.known().count(), 1);
    assert!(!w.is_closed(), "the watch goes on");
    assert_eq!(
        query(&mut w, now),
        "watch=true&resourceVersion=100&allowWatchBookmarks=true&timeoutSeconds=290"
    );
}

#[test]
fn a_repeated_change_is_delivered_once() {
    let now = Instant::now();
    let mut w = watcher(WatchStart::Version("1".into()));
    query(&mut w, now);
    let twice = event("ADDED", "a", 2) + &event("ADDED", "a", 2) + &event("MODIFIED", "a", 3);
    let got = answer(&mut w, now + Duration::from_secs(5), 200, &twice, true);
    assert_eq!(names(&got), ["ADDED a 2", "MODIFIED a 3"]);
    // The server repeats the last change after a reconnect: not again.
    query(&mut w, now + Duration::from_secs(5));
    let got = answer(
        &mut w,
        now + Duration::from_secs(9),
        200,
        &(event("MODIFIED", "a", 3) + &event("DELETED", "a", 4)),
        true,
    );
    assert_eq!(names(&got), ["DELETED a 4"]);
}

#[test]
fn a_change_older_than_the_resume_point_is_dropped_unless_versions_are_unordered() {
    let now = Instant::now();
    let stream = event("MODIFIED", "a", 7772)
        + &event("MODIFIED", "b", 7771)
        + &event("MODIFIED", "c", 7773);
    let mut o = WatcherOptions::default();
    o.start = WatchStart::Version("7770".into());
    let mut w = Watcher::new(pods(), o.clone());
    query(&mut w, now);
    let got = answer(&mut w, now, 200, &stream, false);
    assert_eq!(names(&got), ["MODIFIED a 7772", "MODIFIED c 7773"]);
    assert_eq!(w.resource_version(), Some("7773"));
    // A server whose numeric versions mean no order: everything passes.
    o.ordered_versions = false;
    let mut w = Watcher::new(pods(), o);
    query(&mut w, now);
    let got = answer(&mut w, now, 200, &stream, false);
    assert_eq!(names(&got).len(), 3);
    assert_eq!(w.resource_version(), Some("7773"));
}
