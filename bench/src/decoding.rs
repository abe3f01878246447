//! Decoding without IO: watch streams and lists, kubewire against
//! `serde_json` (the limit and full `Value`) and kube-rs's types.

use std::time::{Duration, Instant};

use bytes::Bytes;
use k8s_openapi::api::core::v1::Pod;
use kube::core::{DynamicObject, ObjectList, WatchEvent};
use serde::de::IgnoredAny;

use crate::alloc;
use crate::data;
use crate::table::Table;

/// Time, count and peak memory of the best of `runs`.
struct Run {
    time: Duration,
    count: usize,
    peak: usize,
}

/// The best time of `runs` (allocations not counted), and the peak heap
/// of one more run that counts them.
fn best_of(runs: usize, mut f: impl FnMut() -> usize) -> Run {
    let mut best = Run {
        time: Duration::MAX,
        count: 0,
        peak: 0,
    };
    for _ in 0..runs {
        let t = Instant::now();
        let count = std::hint::black_box(f());
        let time = t.elapsed();
        if time < best.time {
            best.time = time;
            best.count = count;
        }
    }
    best.peak = alloc::peak_of(&mut f).1;
    best
}

fn lines(stream: &[u8]) -> impl Iterator<Item = &[u8]> {
    memchr::memchr_iter(b'\n', stream)
        .scan(0, |start, end| {
            let line = &stream[*start..end];
            *start = end + 1;
            Some(line)
        })
        .filter(|l| !l.is_empty())
}

fn per_line<T: serde::de::DeserializeOwned>(stream: &[u8]) -> usize {
    lines(stream)
        .map(|l| usize::from(serde_json::from_slice::<T>(l).is_ok()))
        .sum()
}

fn kubewire_watch(stream: &[u8], chunk: usize) -> usize {
    let mut decoder = kubewire::watch::WatchDecoder::new();
    let mut n = 0;
    for piece in stream.chunks(chunk) {
        decoder.feed(piece);
        while let Some(event) = decoder.next_event() {
            n += usize::from(event.is_ok());
        }
    }
    n
}

const MB: f64 = 1e6;

/// Watch decoding at 1 KiB, 16 KiB and 1 MiB chunks.
pub fn watch(events: usize, runs: usize) -> Table {
    let stream = data::watch_stream(events, true);
    let mb = stream.len() as f64 / MB;
    println!("watch stream: {events} events, {mb:.1} MB (recorded pods + one upstream Pod in ten)");
    let mut t = Table::default();
    let limit = best_of(runs, || per_line::<IgnoredAny>(&stream));
    let value = best_of(runs, || per_line::<serde_json::Value>(&stream));
    let dynamic = best_of(runs, || per_line::<WatchEvent<DynamicObject>>(&stream));
    let typed = best_of(runs, || per_line::<WatchEvent<Pod>>(&stream));
    assert_eq!(limit.count, events, "every line is JSON");
    let rate = |r: &Run| mb / r.time.as_secs_f64();
    let eps = |r: &Run| r.count as f64 / r.time.as_secs_f64();
    for chunk in [1 << 10, 16 << 10, 1 << 20] {
        let ours = best_of(runs, || kubewire_watch(&stream, chunk));
        assert_eq!(ours.count, events, "kubewire decoded every event");
        let label = format!("watch decode, {} KiB chunks", chunk >> 10);
        t.higher(
            &format!("{label}: MB/s"),
            "MB/s",
            rate(&ours),
            "serde_json IgnoredAny (limit)",
            rate(&limit),
        );
        t.higher(
            &format!("{label}: MB/s"),
            "MB/s",
            rate(&ours),
            "serde_json::Value",
            rate(&value),
        );
        t.higher(
            &format!("{label}: MB/s"),
            "MB/s",
            rate(&ours),
            "kube-core WatchEvent<DynamicObject>",
            rate(&dynamic),
        );
        t.higher(
            &format!("{label}: MB/s"),
            "MB/s",
            rate(&ours),
            "kube-core WatchEvent<k8s-openapi Pod>",
            rate(&typed),
        );
        t.higher(
            &format!("{label}: events/s"),
            "ev/s",
            eps(&ours),
            "kube-core WatchEvent<DynamicObject>",
            eps(&dynamic),
        );
        t.lower(
            &format!("{label}: peak heap"),
            "KiB",
            ours.peak as f64 / 1024.0,
            "kube-core WatchEvent<DynamicObject>",
            dynamic.peak as f64 / 1024.0,
        );
    }
    if typed.count != events {
        t.note(
            "WatchEvent<k8s-openapi Pod>: events decoded",
            &events.to_string(),
            &format!(
                "{} (the upstream Pod's placeholder values do not all decode)",
                typed.count
            ),
        );
    }
    t
}

/// List decoding of a `items`-pod list.
pub fn list(items: usize, runs: usize) -> Table {
    let body = Bytes::from(data::pod_list(items));
    let mb = body.len() as f64 / MB;
    println!("pod list: {items} pods, {mb:.1} MB");
    let mut t = Table::default();
    let ours = best_of(runs, || {
        kubewire::request::decode_list(body.clone()).map_or(0, |l| l.items().len())
    });
    assert_eq!(ours.count, items);
    // kubewire's pager asks for 500 items a page: the first item is ready
    // once the first page is decoded.
    let page = Bytes::from(data::pod_list(500));
    let first_page = best_of(runs, || {
        kubewire::request::decode_list(page.clone()).map_or(0, |l| l.items().len())
    });
    let limit = best_of(runs, || {
        usize::from(serde_json::from_slice::<IgnoredAny>(&body).is_ok()) * items
    });
    let value = best_of(runs, || {
        serde_json::from_slice::<serde_json::Value>(&body)
            .map_or(0, |v| v["items"].as_array().map_or(0, Vec::len))
    });
    let dynamic = best_of(runs, || {
        serde_json::from_slice::<ObjectList<DynamicObject>>(&body).map_or(0, |l| l.items.len())
    });
    let typed = best_of(runs, || {
        serde_json::from_slice::<ObjectList<Pod>>(&body).map_or(0, |l| l.items.len())
    });
    assert_eq!(dynamic.count, items);
    let ms = |r: &Run| r.time.as_secs_f64() * 1e3;
    let kib = |r: &Run| r.peak as f64 / 1024.0;
    t.lower(
        "list: time to all items",
        "ms",
        ms(&ours),
        "serde_json IgnoredAny (limit)",
        ms(&limit),
    );
    t.lower(
        "list: time to all items",
        "ms",
        ms(&ours),
        "serde_json::Value",
        ms(&value),
    );
    t.lower(
        "list: time to all items",
        "ms",
        ms(&ours),
        "kube-core ObjectList<DynamicObject>",
        ms(&dynamic),
    );
    t.lower(
        "list: time to all items",
        "ms",
        ms(&ours),
        "kube-core ObjectList<k8s-openapi Pod>",
        ms(&typed),
    );
    t.lower(
        "list: time to first item (one body)",
        "ms",
        ms(&ours),
        "kube-core ObjectList<DynamicObject>",
        ms(&dynamic),
    );
    t.lower(
        "list: time to first item (pages of 500)",
        "ms",
        ms(&first_page),
        "kube-core ObjectList<DynamicObject>",
        ms(&dynamic),
    );
    t.lower(
        "list: peak heap",
        "KiB",
        kib(&ours),
        "kube-core ObjectList<DynamicObject>",
        kib(&dynamic),
    );
    t.lower(
        "list: peak heap",
        "KiB",
        kib(&ours),
        "kube-core ObjectList<k8s-openapi Pod>",
        kib(&typed),
    );
    t
}
