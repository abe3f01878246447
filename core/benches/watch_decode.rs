//! Watch decoding throughput: kubewire's `WatchDecoder` against plain
//! `serde_json` on the same lines, in one run, at several chunk sizes.
//!
//! ```text
//! cargo bench -p kubewire --bench watch_decode
//! ```
//!
//! The stream is built from pods recorded from a real apiserver
//! (`fixtures/recorded/`) and the Kubernetes project's fully populated Pod
//! (`fixtures/upstream-objects/core.v1.Pod.json`), serialized as the
//! apiserver writes watch events.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kubewire::WatchDecoder;
use serde::de::IgnoredAny;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Recorded pod objects (compact JSON, as the apiserver sends them).
fn recorded_pods() -> Vec<serde_json::Value> {
    let text =
        std::fs::read(fixtures().join("recorded/pods-all-namespaces.json")).expect("fixture");
    let fixture: serde_json::Value = serde_json::from_slice(&text).expect("JSON");
    let body: String = fixture["exchanges"][0]["response"]["chunks"]
        .as_array()
        .expect("chunks")
        .iter()
        .map(|c| c["text"].as_str().expect("text"))
        .collect();
    let list: serde_json::Value = serde_json::from_str(&body).expect("list");
    list["items"].as_array().expect("items").clone()
}

/// A stream of `target` bytes of realistic events: recorded running and
/// pending pods with rising resourceVersions, one upstream Pod in ten.
fn stream(target: usize) -> (Vec<u8>, usize) {
    let pods = recorded_pods();
    let upstream: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("upstream-objects/core.v1.Pod.json")).expect("fixture"),
    )
    .expect("JSON");
    let mut out = Vec::with_capacity(target + 64 * 1024);
    let mut n = 0usize;
    while out.len() < target {
        let mut object = if n % 10 == 9 {
            upstream.clone()
        } else {
            pods[n % pods.len()].clone()
        };
        object["kind"] = "Pod".into();
        object["apiVersion"] = "v1".into();
        object["metadata"]["resourceVersion"] = (10_000 + n).to_string().into();
        let evtype = ["ADDED", "MODIFIED", "MODIFIED", "DELETED"][n % 4];
        out.extend_from_slice(format!("{{\"type\":\"{evtype}\",\"object\":").as_bytes());
        serde_json::to_writer(&mut out, &object).expect("serialize");
        out.extend_from_slice(b"}\n");
        n += 1;
    }
    (out, n)
}

fn best_of(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut count = 0;
    for _ in 0..runs {
        let t = Instant::now();
        count = std::hint::black_box(f());
        best = best.min(t.elapsed());
    }
    (best, count)
}

/// The stream's lines, found with memchr as fast as a baseline can.
fn lines(stream: &[u8]) -> impl Iterator<Item = &[u8]> {
    memchr::memchr_iter(b'\n', stream)
        .scan(0, |start, end| {
            let line = &stream[*start..end];
            *start = end + 1;
            Some(line)
        })
        .filter(|l| !l.is_empty())
}

fn main() {
    let (data, events) = stream(64 << 20);
    let mb = data.len() as f64 / 1e6;
    println!("stream: {events} events, {mb:.1} MB (recorded pods + upstream Pod)");
    println!(
        "{:<44} {:>10} {:>12} {:>9}",
        "decoder", "MB/s", "events/s", "vs limit"
    );
    let report = |name: &str, (t, n): (Duration, usize), limit: f64| {
        let secs = t.as_secs_f64();
        let rate = mb / secs;
        assert_eq!(n, events, "{name} decoded every event");
        println!(
            "{name:<44} {rate:>10.1} {:>12.0} {:>8.0}%",
            n as f64 / secs,
            100.0 * rate / limit
        );
        rate
    };
    let limit_time = best_of(3, || {
        lines(&data)
            .map(|l| {
                serde_json::from_slice::<IgnoredAny>(l)
                    .map(|_| 1)
                    .unwrap_or(0)
            })
            .sum()
    });
    let limit = mb / limit_time.0.as_secs_f64();
    report(
        "serde_json IgnoredAny per line (the limit)",
        limit_time,
        limit,
    );
    report(
        "serde_json::Value per line",
        best_of(3, || {
            lines(&data)
                .map(|l| {
                    serde_json::from_slice::<serde_json::Value>(l)
                        .map(|_| 1)
                        .unwrap_or(0)
                })
                .sum()
        }),
        limit,
    );
    for chunk in [1 << 10, 16 << 10, 1 << 20] {
        let result = best_of(3, || {
            let mut decoder = WatchDecoder::new();
            let mut n = 0;
            for piece in data.chunks(chunk) {
                decoder.feed(piece);
                while let Some(event) = decoder.next_event() {
                    n += usize::from(event.is_ok());
                }
            }
            n
        });
        report(
            &format!("kubewire WatchDecoder, {} KiB chunks", chunk >> 10),
            result,
            limit,
        );
    }
}
