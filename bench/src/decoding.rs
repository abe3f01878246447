//! Decoding without IO: watch streams and lists, kubewire against
//! `serde_json` (the limit and full `Value`) and kube-rs's types.

use std::time::Instant;

use bytes::Bytes;
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use kube::core::{DynamicObject, ObjectList, PartialObjectMeta, WatchEvent};
use serde::de::IgnoredAny;

use crate::alloc;
use crate::data;
use crate::table::{self, Table};

/// Every contender's times (one per run, contenders interleaved within
/// each run), its count, and its peak heap from one more run that counts
/// allocations.
struct Samples {
    secs: Vec<f64>,
    count: usize,
    peak: usize,
}

type Contender<'a> = &'a mut dyn FnMut() -> usize;

/// Every contender's times and count, interleaved ([`table::interleaved`]),
/// then its peak heap from one more run that counts allocations.
fn interleaved(runs: usize, contenders: &mut [Contender<'_>]) -> Vec<Samples> {
    let mut timed: Vec<Box<dyn FnMut() -> (f64, usize) + '_>> = contenders
        .iter_mut()
        .map(|run| {
            Box::new(move || {
                let t = Instant::now();
                let count = std::hint::black_box(run());
                (t.elapsed().as_secs_f64(), count)
            }) as Box<dyn FnMut() -> (f64, usize) + '_>
        })
        .collect();
    let mut runs_of: Vec<&mut dyn FnMut() -> (f64, usize)> =
        timed.iter_mut().map(|b| &mut **b as _).collect();
    let results = table::interleaved(runs, &mut runs_of);
    drop(runs_of);
    drop(timed);
    results
        .into_iter()
        .zip(contenders.iter_mut())
        .map(|(results, run)| Samples {
            count: results.last().map_or(0, |r| r.1),
            secs: results.into_iter().map(|r| r.0).collect(),
            peak: alloc::peak_of(&mut **run).1,
        })
        .collect()
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

/// kubewire's decoder fed borrowed chunks (`feed`: each event copied out).
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

/// kubewire's decoder fed owned chunks, as a transport that reads into
/// `Bytes` hands them over (`feed_bytes`: events are slices of them).
fn kubewire_watch_bytes(stream: &Bytes, chunk: usize) -> usize {
    let mut decoder = kubewire::watch::WatchDecoder::new();
    let mut n = 0;
    for at in (0..stream.len()).step_by(chunk) {
        decoder.feed_bytes(stream.slice(at..(at + chunk).min(stream.len())));
        while let Some(event) = decoder.next_event() {
            n += usize::from(event.is_ok());
        }
    }
    n
}

const MB: f64 = 1e6;

/// Watch decoding at 1 KiB, 16 KiB and 1 MiB chunks.
pub fn watch(events: usize, runs: usize) -> Table {
    let stream = Bytes::from(data::watch_stream(events, true));
    let mb = stream.len() as f64 / MB;
    println!(
        "watch stream: {events} events, {mb:.1} MB (recorded pods + one upstream Pod in ten); \
         median of {runs} interleaved runs (min–max)"
    );
    let mut t = Table::default();
    let r = interleaved(
        runs,
        &mut [
            &mut || per_line::<IgnoredAny>(&stream),
            &mut || per_line::<serde_json::Value>(&stream),
            &mut || per_line::<WatchEvent<PartialObjectMeta<Pod>>>(&stream),
            &mut || per_line::<WatchEvent<DynamicObject>>(&stream),
            &mut || per_line::<WatchEvent<Pod>>(&stream),
            &mut || kubewire_watch(&stream, 16 << 10),
            &mut || kubewire_watch_bytes(&stream, 1 << 10),
            &mut || kubewire_watch_bytes(&stream, 16 << 10),
            &mut || kubewire_watch_bytes(&stream, 1 << 20),
        ],
    );
    let [limit, value, partial, dynamic, typed, copying, ours @ ..] = r.as_slice() else {
        unreachable!("nine contenders")
    };
    assert_eq!(limit.count, events, "every line is JSON");
    let rate = |s: &Samples| s.secs.iter().map(|t| mb / t).collect::<Vec<_>>();
    let eps = |s: &Samples| {
        s.secs
            .iter()
            .map(|t| s.count as f64 / t)
            .collect::<Vec<_>>()
    };
    let baselines: [(&str, &Samples); 5] = [
        ("serde_json IgnoredAny (limit)", limit),
        ("serde_json::Value", value),
        (
            "kube-core WatchEvent<PartialObjectMeta> (like for like: metadata)",
            partial,
        ),
        (
            "kube-core WatchEvent<DynamicObject> (a full Value tree)",
            dynamic,
        ),
        ("kube-core WatchEvent<k8s-openapi Pod>", typed),
    ];
    for (ours, chunk) in ours.iter().zip([1usize << 10, 16 << 10, 1 << 20]) {
        assert_eq!(ours.count, events, "kubewire decoded every event");
        let label = format!("watch decode, {} KiB chunks (feed_bytes)", chunk >> 10);
        for (name, theirs) in baselines {
            t.higher_spread(
                &format!("{label}: MB/s"),
                "MB/s",
                &rate(ours),
                name,
                &rate(theirs),
            );
        }
        t.higher_spread(
            &format!("{label}: events/s"),
            "ev/s",
            &eps(ours),
            "kube-core WatchEvent<PartialObjectMeta>",
            &eps(partial),
        );
        t.lower(
            &format!("{label}: peak heap"),
            "KiB",
            ours.peak as f64 / 1024.0,
            "kube-core WatchEvent<PartialObjectMeta>",
            partial.peak as f64 / 1024.0,
        );
    }
    assert_eq!(copying.count, events, "kubewire decoded every event");
    t.higher_spread(
        "watch decode, 16 KiB chunks, borrowed (feed: each event copied out)",
        "MB/s",
        &rate(copying),
        "serde_json IgnoredAny (limit)",
        &rate(limit),
    );
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
    println!(
        "pod list: {items} pods, {mb:.1} MB; median of {runs} interleaved runs (min–max); \
         every contender starts from a fresh copy of the body"
    );
    let mut t = Table::default();
    // Every contender gets the body as a fresh copy, as a client that has
    // just read it: the peak heap counts the body, which kubewire's items
    // keep alive and the others drop after decoding.
    let fresh = || body.to_vec();
    let r = interleaved(
        runs,
        &mut [
            &mut || {
                kubewire::request::decode_list(Bytes::from(fresh())).map_or(0, |l| l.items().len())
            },
            &mut || usize::from(serde_json::from_slice::<IgnoredAny>(&fresh()).is_ok()) * items,
            &mut || {
                serde_json::from_slice::<serde_json::Value>(&fresh())
                    .map_or(0, |v| v["items"].as_array().map_or(0, Vec::len))
            },
            &mut || {
                serde_json::from_slice::<ObjectList<PartialObjectMeta<Pod>>>(&fresh())
                    .map_or(0, |l| l.items.len())
            },
            &mut || {
                serde_json::from_slice::<ObjectList<DynamicObject>>(&fresh())
                    .map_or(0, |l| l.items.len())
            },
            &mut || {
                serde_json::from_slice::<ObjectList<Pod>>(&fresh()).map_or(0, |l| l.items.len())
            },
            // Decode, then read every pod's spec (its containers' images).
            &mut || {
                let list = kubewire::request::decode_list(Bytes::from(fresh())).expect("list");
                list.items()
                    .iter()
                    .map(|item| {
                        let spec = item.spec();
                        let images = spec["containers"]
                            .as_array()
                            .map_or(0, |cs| cs.iter().filter(|c| c["image"].is_string()).count());
                        usize::from(images > 0)
                    })
                    .sum()
            },
            // The same, reading the spec in place: `field("spec")`.
            &mut || {
                let list = kubewire::request::decode_list(Bytes::from(fresh())).expect("list");
                list.items()
                    .iter()
                    .map(|item| {
                        let images = item
                            .field("spec")
                            .and_then(|spec| spec.get("containers"))
                            .map_or(0, |cs| {
                                cs.elements()
                                    .filter(|c| {
                                        c.get("image").is_some_and(|i| i.as_str().is_some())
                                    })
                                    .count()
                            });
                        usize::from(images > 0)
                    })
                    .sum()
            },
            // The same, reading the spec typed: `spec_as::<PodSpec>()`.
            &mut || {
                let list = kubewire::request::decode_list(Bytes::from(fresh())).expect("list");
                list.items()
                    .iter()
                    .map(|item| {
                        let spec: PodSpec = item.spec_as().expect("a PodSpec");
                        let images = spec.containers.iter().filter(|c| c.image.is_some()).count();
                        usize::from(images > 0)
                    })
                    .sum()
            },
            &mut || {
                serde_json::from_slice::<ObjectList<Pod>>(&fresh()).map_or(0, |l| {
                    l.items
                        .iter()
                        .map(|p| {
                            let images = p.spec.as_ref().map_or(0, |s| {
                                s.containers.iter().filter(|c| c.image.is_some()).count()
                            });
                            usize::from(images > 0)
                        })
                        .sum()
                })
            },
        ],
    );
    let [
        ours,
        limit,
        value,
        partial,
        dynamic,
        typed,
        ours_spec,
        ours_in_place_spec,
        ours_typed_spec,
        typed_spec,
    ] = r.as_slice()
    else {
        unreachable!("ten contenders")
    };
    assert_eq!(
        ours_spec.count, typed_spec.count,
        "the same pods have images"
    );
    assert_eq!(ours_in_place_spec.count, typed_spec.count);
    assert_eq!(ours_typed_spec.count, typed_spec.count);
    assert_eq!(ours.count, items);
    assert_eq!(partial.count, items);
    let ms = |s: &Samples| s.secs.iter().map(|t| t * 1e3).collect::<Vec<_>>();
    for (name, theirs) in [
        ("serde_json IgnoredAny (limit)", limit),
        ("serde_json::Value", value),
        (
            "kube-core ObjectList<PartialObjectMeta> (like for like: metadata)",
            partial,
        ),
        (
            "kube-core ObjectList<DynamicObject> (a full Value tree)",
            dynamic,
        ),
        ("kube-core ObjectList<k8s-openapi Pod>", typed),
    ] {
        t.lower_spread(
            "list: time to all items",
            "ms",
            &ms(ours),
            name,
            &ms(theirs),
        );
    }
    t.lower_spread(
        "list: decode and read every pod's spec as a Value (spec(): containers' images)",
        "ms",
        &ms(ours_spec),
        "kube-core ObjectList<k8s-openapi Pod> (typed spec)",
        &ms(typed_spec),
    );
    t.lower_spread(
        "list: decode and read every pod's spec in place (field(\"spec\"): containers' images)",
        "ms",
        &ms(ours_in_place_spec),
        "kube-core ObjectList<k8s-openapi Pod> (typed spec)",
        &ms(typed_spec),
    );
    t.lower_spread(
        "list: decode and read every pod's spec typed (spec_as::<k8s-openapi PodSpec>())",
        "ms",
        &ms(ours_typed_spec),
        "kube-core ObjectList<k8s-openapi Pod> (typed spec)",
        &ms(typed_spec),
    );
    // The body was allocated inside every measured run (see above).
    for (name, theirs) in [
        ("kube-core ObjectList<PartialObjectMeta>", partial),
        ("kube-core ObjectList<DynamicObject>", dynamic),
        ("kube-core ObjectList<k8s-openapi Pod>", typed),
    ] {
        t.lower(
            "list: peak heap",
            "KiB",
            ours.peak as f64 / 1024.0,
            name,
            theirs.peak as f64 / 1024.0,
        );
    }
    t
}
