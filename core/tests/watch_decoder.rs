#![allow(clippy::disallowed_methods)] // tests set up files and real instants for the code under test
//! The watch decoder: recorded streams at every chunking, faults, bounds,
//! and property tests over arbitrary events, chunkings and bytes.

use std::path::PathBuf;

use kubewire::{
    Error, WatchEventType,
    watch::{WatchDecoder, WatchEvent},
};
use proptest::prelude::*;
use serde_json::Value;

fn recorded_watch(name: &str, exchange: usize) -> Vec<u8> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../fixtures/recorded/{name}.json"));
    let fx: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    fx["exchanges"][exchange]["response"]["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["text"].as_str().unwrap().as_bytes().to_vec())
        .collect()
}

/// Decodes `stream` fed in pieces of the given sizes (cycled).
fn decode(stream: &[u8], sizes: &[usize], max: usize) -> Vec<Result<WatchEvent, String>> {
    let mut decoder = WatchDecoder::with_max_event_size(max);
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < stream.len() {
        let n = sizes[i % sizes.len()].max(1).min(stream.len() - pos);
        // Every other chunk goes in without a copy: both ways decode alike.
        if i % 2 == 0 {
            decoder.feed(&stream[pos..pos + n]);
        } else {
            decoder.feed_bytes(bytes::Bytes::copy_from_slice(&stream[pos..pos + n]));
        }
        assert!(decoder.buffered() <= max, "memory stays under the limit");
        pos += n;
        i += 1;
        while let Some(e) = decoder.next_event() {
            out.push(e.map_err(|e| e.to_string()));
        }
    }
    out.extend(decoder.finish().map(|e| e.map_err(|e| e.to_string())));
    out
}

fn summary(events: &[Result<WatchEvent, String>]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Ok(e) => format!(
                "{} {} {} {}",
                e.evtype,
                e.item.meta().name(),
                e.item.meta().version(),
                e.item.raw().len()
            ),
            Err(e) => format!("error: {e}"),
        })
        .collect()
}

const CHUNKINGS: &[&[usize]] = &[
    &[1],
    &[2],
    &[3],
    &[7],
    &[64],
    &[1024],
    &[16 * 1024],
    &[usize::MAX],
    &[5, 1, 300, 2, 17, 4096],
];

#[test]
fn recorded_watches_decode_identically_at_every_chunking() {
    let cases = [
        (
            "pods-watch",
            0,
            vec![
                "ADDED watch-0 7801",
                "MODIFIED watch-0 7802",
                "MODIFIED watch-0 7803",
            ],
        ),
        (
            "pods-watch-timeout",
            0,
            vec![
                "ADDED watch-0 7801",
                "MODIFIED watch-0 7802",
                "MODIFIED watch-0 7803",
                "DELETED watch-0 7804",
            ],
        ),
        ("watch-expired", 0, vec!["ERROR  "]),
        (
            "wait-pod-ready",
            0,
            vec!["MODIFIED db-0 7875", "MODIFIED db-0 7877"],
        ),
    ];
    for (name, exchange, expected) in cases {
        let stream = recorded_watch(name, exchange);
        let whole = decode(&stream, &[usize::MAX], WatchDecoder::DEFAULT_MAX_EVENT_SIZE);
        let got: Vec<String> = summary(&whole)
            .iter()
            .map(|s| s.rsplit_once(' ').unwrap().0.to_string())
            .collect();
        assert_eq!(got, expected, "{name}");
        for sizes in CHUNKINGS {
            let events = decode(&stream, sizes, WatchDecoder::DEFAULT_MAX_EVENT_SIZE);
            assert_eq!(events, whole, "{name} at {sizes:?}");
        }
    }
    let initial = decode(
        &recorded_watch("pods-watch-initial-events", 0),
        &[7],
        WatchDecoder::DEFAULT_MAX_EVENT_SIZE,
    );
    let events: Vec<WatchEvent> = initial.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.evtype == WatchEventType::Added)
            .count(),
        10
    );
    let end = events
        .iter()
        .position(WatchEvent::is_initial_events_end)
        .unwrap();
    assert_eq!((end, events[end].item.meta().version()), (10, "7806"));
    assert_eq!(events.last().unwrap().evtype, WatchEventType::Bookmark);
}

#[test]
fn error_event_carries_the_expired_status() {
    let events = decode(&recorded_watch("watch-expired", 0), &[3], 1 << 20);
    let event = events[0].as_ref().unwrap();
    assert!(event.is_expired());
    let status = event.status().unwrap();
    assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
    assert_eq!(event.item.kind(), "Status");
}

#[test]
fn lines_split_anywhere_crlf_blank_lines_and_utf8() {
    let stream = "\r\n{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"ä-😀\",\"resourceVersion\":\"1\"}}}\r\n\n  \n{ \"object\" : {\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"2\"}}, \"type\" : \"DELETED\" }\n";
    let whole = decode(stream.as_bytes(), &[usize::MAX], 1 << 20);
    assert_eq!(summary(&whole).len(), 2, "{whole:?}");
    for sizes in CHUNKINGS {
        assert_eq!(
            decode(stream.as_bytes(), sizes, 1 << 20),
            whole,
            "{sizes:?}"
        );
    }
    let events: Vec<&WatchEvent> = whole.iter().map(|e| e.as_ref().unwrap()).collect();
    assert_eq!(events[0].item.meta().name(), "ä-😀");
    assert_eq!(
        (events[1].evtype, events[1].item.meta().name()),
        (WatchEventType::Deleted, "b")
    );
}

#[test]
fn bad_lines_are_errors_with_offsets_and_the_stream_goes_on() {
    let good = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n";
    let stream = format!(
        "{good}not json\n{{\"type\":\"ADDED\",\"object\":{{\"metadata\":\"wrong\"}}}}\n{{\"type\":\"EXPLODED\",\"object\":{{}}}}\n{{\"type\":\"ADDED\",\"object\":{{\"metadata\":{{}}}},\"x\":1}}\n{good}"
    );
    let events = decode(stream.as_bytes(), &[4], 1 << 20);
    let s = summary(&events);
    assert_eq!(s.len(), 6, "{s:?}");
    assert!(s[0].starts_with("ADDED a"));
    assert!(
        s[1].contains(&format!("byte offset {}", good.len())) && s[1].contains("not a watch event"),
        "{}",
        s[1]
    );
    assert!(
        s[2].contains("ADDED event") && s[2].contains("metadata"),
        "{}",
        s[2]
    );
    assert!(s[3].contains("unknown event type \"EXPLODED\""), "{}", s[3]);
    assert!(
        s[4].starts_with("ADDED  "),
        "extra top-level fields are accepted: {}",
        s[4]
    );
    assert!(s[5].starts_with("ADDED a"));
    assert!(events[1].is_err());
    let mut d = WatchDecoder::new();
    d.feed(b"{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}\n\xff\xfe\n");
    assert!(d.next_event().unwrap().is_ok());
    assert!(matches!(
        d.next_event().unwrap(),
        Err(Error::WatchLine { offset: 42, .. })
    ));
}

#[test]
fn oversized_events_are_errors_not_allocations() {
    let big = format!(
        "{{\"type\":\"ADDED\",\"object\":{{\"metadata\":{{\"name\":\"{}\"}}}}}}\n",
        "x".repeat(5000)
    );
    let small = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"ok\"}}}\n";
    let stream = format!("{small}{big}{small}");
    for sizes in [&[1usize][..], &[100], &[usize::MAX]] {
        let events = decode(stream.as_bytes(), sizes, 1000);
        let s = summary(&events);
        assert_eq!(s.len(), 3, "{sizes:?}: {s:?}");
        assert!(
            s[1].contains(&format!("byte offset {}", small.len()))
                && s[1].contains("maximum of 1000 bytes"),
            "{}",
            s[1]
        );
        assert!(s[2].starts_with("ADDED ok"));
    }
}

#[test]
fn end_of_stream() {
    let mut d = WatchDecoder::new();
    d.feed(b"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"last\"}}}");
    assert!(d.next_event().is_none());
    assert_eq!(d.finish().unwrap().unwrap().item.meta().name(), "last");
    let mut d = WatchDecoder::new();
    d.feed(b"{\"type\":\"ADDED\",\"obj");
    let err = d.finish().unwrap().unwrap_err().to_string();
    assert!(
        err.contains("offset 0") && err.contains("ended inside an event"),
        "{err}"
    );
    assert!(WatchDecoder::new().finish().is_none());
}

fn event_json(evtype: &str, name: &str, rv: u32, payload: &str) -> String {
    serde_json::to_string(&serde_json::json!({
        "type": evtype,
        "object": {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": "demo", "resourceVersion": rv.to_string(), "labels": {"p": payload}},
            "spec": {"containers": [{"name": "c", "image": payload}]}, "status": {"phase": "Running"}}
    }))
    .unwrap()
}

prop_compose! {
    fn events()(list in prop::collection::vec((0..4usize, "[a-z0-9-]{1,12}", "\\PC{0,40}"), 0..12)) -> String {
        let types = ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"];
        list.iter().enumerate().map(|(i, (t, name, payload))| event_json(types[*t], name, i as u32 + 1, payload) + "\n").collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_chunking_yields_the_same_events(stream in events(), cuts in prop::collection::vec(1usize..200, 1..20)) {
        let whole = decode(stream.as_bytes(), &[usize::MAX], 1 << 20);
        prop_assert!(whole.iter().all(Result::is_ok));
        prop_assert_eq!(decode(stream.as_bytes(), &cuts, 1 << 20), whole);
    }
}

/// A stream of events, most small, some up to 64 KiB, with garbage lines
/// and arbitrary bytes between them.
fn mixed_stream() -> impl Strategy<Value = Vec<u8>> {
    let payload = prop_oneof![
        90 => "[a-z0-9 ]{0,40}",
        9 => "[a-z0-9 ]{200,2000}",
        1 => "[a-z]{16000,64000}",
    ];
    let piece = prop_oneof![
        6 => (0..4usize, "[a-z0-9-]{1,12}", payload).prop_map(|(t, name, payload)| {
            let types = ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"];
            (event_json(types[t], &name, 7, &payload) + "\n").into_bytes()
        }),
        2 => prop::collection::vec(prop_oneof![Just(b'\n'), Just(b'{'), Just(b'"'), Just(b'\r'), any::<u8>()], 0..64),
        1 => Just(b"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}\r\n".to_vec()),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

/// Chunk sizes: often single bytes, sometimes large runs.
fn chunkings() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(
        prop_oneof![3 => Just(1usize), 3 => 2usize..16, 1 => 16usize..70_000],
        1..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100_000))]

    /// Events up to 64 KiB among garbage, chunked down to single bytes:
    /// never a panic, memory under the limit, and exactly the events (and
    /// errors, at the same offsets) of a whole-buffer decode.
    #[test]
    fn any_stream_at_any_chunking_decodes_like_the_whole(stream in mixed_stream(), cuts in chunkings()) {
        let whole = decode(&stream, &[usize::MAX], 80 << 10);
        prop_assert_eq!(decode(&stream, &cuts, 80 << 10), whole);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded(bytes in prop::collection::vec(prop_oneof![Just(b'\n'), Just(b'{'), Just(b'"'), any::<u8>()], 0..96), cut in 1usize..16) {
        let _ = decode(&bytes, &[cut], 48);
    }
}
