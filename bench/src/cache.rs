//! Reflector caches fed the same watch stream: kubewire's `cache::Store`
//! (raw bytes kept, metadata decoded) against kube-runtime's
//! `reflector::store::Writer<Pod>` (typed k8s-openapi Pods). Both decode
//! the stream's bytes, hold the initial list until it is complete, then
//! apply changes. Figures: events per second and the heap the cache keeps
//! (and the peak while it is built), median of interleaved runs.

use std::time::Instant;

use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher::Event;
use kubewire::cache::Store;
use kubewire::watch::{WatchDecoder, WatchEventType, WatcherEvent};

use crate::alloc;
use crate::data;
use crate::table::{self, Table};

const CHUNK: usize = 64 * 1024;

/// kubewire: decode the stream, feed the store; the store is returned.
fn kubewire_cache(stream: &[u8], pods: usize) -> Store {
    let mut store = Store::new();
    let mut decoder = WatchDecoder::new();
    let mut seen = 0;
    for piece in stream.chunks(CHUNK) {
        decoder.feed(piece);
        while let Some(event) = decoder.next_event() {
            let event = event.expect("a valid event");
            let modified = event.evtype == WatchEventType::Modified;
            store.apply(WatcherEvent::Event(event));
            seen += 1;
            if seen == pods && !modified {
                store.apply(WatcherEvent::Synced {
                    resource_version: "100000".into(),
                });
            }
        }
    }
    assert_eq!(store.len(), pods);
    store
}

/// kube-runtime: decode each line as a `WatchEvent<Pod>`, feed the writer.
fn kube_cache(stream: &[u8], pods: usize) -> Writer<Pod> {
    let mut writer = Writer::<Pod>::default();
    writer.apply_watcher_event(&Event::Init);
    let mut seen = 0;
    for line in stream.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let event: kube::core::WatchEvent<Pod> =
            serde_json::from_slice(line).expect("a valid event");
        match event {
            kube::core::WatchEvent::Added(pod) => {
                writer.apply_watcher_event(&Event::InitApply(pod))
            }
            kube::core::WatchEvent::Modified(pod) => writer.apply_watcher_event(&Event::Apply(pod)),
            other => panic!("unexpected {other:?}"),
        }
        seen += 1;
        if seen == pods {
            writer.apply_watcher_event(&Event::InitDone);
        }
    }
    assert_eq!(writer.as_reader().state().len(), pods);
    writer
}

/// Heap kept by the cache `build` returns, and the peak while building.
fn memory<T>(build: impl FnOnce() -> T) -> (usize, usize) {
    let ((cache, kept), peak) = alloc::peak_of(|| {
        let cache = build();
        let kept = alloc::live();
        (cache, kept)
    });
    drop(cache);
    (kept, peak)
}

/// Both caches at `sizes` pods, each fed the list and a quarter as many
/// changes, `runs` interleaved timed runs each.
pub fn run(sizes: &[usize], runs: usize) -> Table {
    let mut table = Table::default();
    for &pods in sizes {
        let changes = pods / 4;
        let stream = data::cache_stream(pods, changes);
        let events = (pods + changes) as f64;
        let mut ours = || {
            let t = Instant::now();
            drop(std::hint::black_box(kubewire_cache(&stream, pods)));
            events / t.elapsed().as_secs_f64()
        };
        let mut theirs = || {
            let t = Instant::now();
            drop(std::hint::black_box(kube_cache(&stream, pods)));
            events / t.elapsed().as_secs_f64()
        };
        let rates = table::interleaved(runs, &mut [&mut ours, &mut theirs]);
        let (our_kept, our_peak) = memory(|| kubewire_cache(&stream, pods));
        let (their_kept, their_peak) = memory(|| kube_cache(&stream, pods));
        let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
        let label = format!("{pods} pods + {changes} changes");
        table.higher_spread(
            &format!("{label}: events/s"),
            "ev/s",
            &rates[0],
            "kube-runtime Store<Pod>",
            &rates[1],
        );
        table.lower(
            &format!("{label}: heap kept by the cache"),
            "MiB",
            mib(our_kept),
            "kube-runtime Store<Pod>",
            mib(their_kept),
        );
        table.lower(
            &format!("{label}: peak heap while building"),
            "MiB",
            mib(our_peak),
            "kube-runtime Store<Pod>",
            mib(their_peak),
        );
        table.note(
            &format!("{label}: stream size"),
            &format!("{:.1} MiB of JSON", mib(stream.len())),
            "the same bytes",
        );
    }
    table
}
