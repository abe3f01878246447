#![allow(clippy::disallowed_methods)] // tests set up files and real instants for the code under test
//! The watcher state machine, step by step.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kubewire::http::{HeaderMap, HeaderValue};
use kubewire::{
    Config, Endpoint, Error, Kind, OnError, Scope, WatchStart, Watcher, WatcherEvent,
    WatcherOptions,
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
        "watch=true&resourceVersion=7770&allowWatchBookmarks=true"
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
        "watch=true&fieldSelector=metadata.name%3Ddb-0&resourceVersion=7729&allowWatchBookmarks=true"
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
        "watch=true&resourceVersion=11&allowWatchBookmarks=true"
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
        "watch=true&resourceVersion=57&allowWatchBookmarks=true"
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
    // Even an empty stream that ends cleanly is a success.
    answer(&mut w, now, 200, "", true);
    assert!(w.poll_transmit(now).is_some());
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
    assert_eq!(query(&mut w, now), "limit=500", "relist without delay");
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
        "watch=true&resourceVersion=300&allowWatchBookmarks=true"
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
    assert_eq!(query(&mut w, now), "limit=500");
}

#[test]
fn other_error_events_surface_and_the_stream_goes_on() {
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
        [
            "error apiserver answered 500 InternalError: internal error",
            "ADDED a 2"
        ]
    );
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
    assert_eq!(names(&got), ["ADDED a 2"]);
    assert!(!w.is_closed());
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
        "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
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
        "watch=true&resourceVersion=21&allowWatchBookmarks=true"
    );
    w.close();
    assert!(w.poll_transmit(now).is_none());
    assert_eq!(w.known().filter(|i| i.meta().name() == "a").count(), 1);
}
