#![allow(clippy::disallowed_methods)] // the test reads the facade's sources
//! The blocking and async facades are one: every public method of the
//! cluster, views, bound items, watches and streams exists on both sides
//! with the same name and the same result type (`R` blocking, a future of
//! `R` async).

use std::collections::BTreeSet;
use std::path::Path;

/// Public method names of every `impl` block in the facade's files, split
/// by the driver the block is written for: any driver, blocking only
/// (`T: Transport`), async only (`Async<..>`).
fn facade_methods() -> [BTreeSet<String>; 3] {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/client");
    let mut sides: [BTreeSet<String>; 3] = Default::default();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("src/client")
        .map(|e| e.expect("entry").path())
        // The drivers themselves (and the timer they use) are the two
        // sides; everything else is the facade.
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            ![
                "blocking.rs",
                "nonblocking.rs",
                "timer.rs",
                "driver.rs",
                "transport.rs",
            ]
            .contains(&name)
        })
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        let mut side = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            if line.starts_with("impl") {
                side = Some(if line.contains("Async<") {
                    2
                } else if line.contains(": Transport") {
                    1
                } else {
                    0
                });
                // A trait implemented for one side only must have its
                // counterpart: Iterator (blocking) beside Stream (async).
                if side == Some(1) && line.contains(" Iterator for ") {
                    let name = line.split(" for ").nth(1).expect("type");
                    let ty = name.split('<').next().expect("type name").to_string();
                    assert!(
                        text.contains(&format!("Stream for {ty}<Async<")),
                        "{ty} is an Iterator on blocking drivers but no Stream on async ones"
                    );
                    sides[1].insert(format!("{ty}::next"));
                    sides[2].insert(format!("{ty}::next"));
                }
                continue;
            }
            if line.starts_with('}') {
                side = None;
            }
            if let (Some(side), Some(rest)) = (side, trimmed.strip_prefix("pub fn ")) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                sides[side].insert(name);
            }
        }
    }
    sides
}

#[test]
fn blocking_and_async_have_the_same_methods() {
    let [shared, blocking, nonblocking] = facade_methods();
    assert!(
        shared.len() > 50,
        "the scan finds the facade's methods: {shared:?}"
    );
    for verb in [
        "fetch",
        "list",
        "iter",
        "watch",
        "wait",
        "logs",
        "follow_logs",
        "create",
        "proxy",
        "labels",
        "set",
        "update_status",
        "next_timeout",
        "close",
        "bind",
        "filter_with",
    ] {
        assert!(shared.contains(verb), "{verb} is written once for both");
    }
    // The streams get `Iterator` (blocking), `Stream` (async) and `next()`
    // (both) from one macro, so the two sides cannot differ.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/client");
    let sources: String = ["pages.rs", "watch.rs", "streams.rs"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).expect("source"))
        .collect();
    for ty in ["Pages", "WatchIter"] {
        assert!(
            sources.contains(&format!("polled!({ty}[")),
            "{ty} is polled!"
        );
    }
    assert!(
        sources.contains("polled!($name =>"),
        "LogLines and ProxyWatch are polled!"
    );
    let only_blocking: Vec<_> = blocking.difference(&nonblocking).collect();
    let only_async: Vec<_> = nonblocking.difference(&blocking).collect();
    assert!(
        only_blocking.is_empty() && only_async.is_empty(),
        "blocking only: {only_blocking:?}; async only: {only_async:?}"
    );
}

/// Every facade method, called the same way for any driver: this compiles
/// only while both sides have them with the same signatures.
fn every_call<D: kubewire::Driver>(cluster: &kubewire::Cluster<D>) -> kubewire::Result<()> {
    use kubewire::{DeleteParams, LogParams, Patch, WriteParams};
    let (w, d) = (WriteParams::default(), DeleteParams::default());
    let pods = cluster.pods().namespace("demo")?;
    let _ = pods.fetch("p", None);
    let _ = pods.list();
    let _ = pods.iter()?;
    let _ = pods.wait("p", None, &["Ready"], &[], std::time::Duration::ZERO);
    let _ = pods.logs("p", None, &LogParams::default());
    let _ = pods.follow_logs("p", None, &LogParams::default());
    let _ = pods.create(serde_json::json!({}));
    let _ = pods.patch("p", None, &Patch::Merge(serde_json::json!({})), &w);
    let _ = pods.delete_with("p", None, &d);
    let _ = pods.delete_collection(&d);
    let _ = pods.status("p", None);
    let _ = cluster.deployments().scale("d", Some("demo"));
    let _ = cluster.create(serde_json::json!({}), None);
    let _ = cluster.create_all("", None, &w);
    let _ = cluster.resource("v1", "ConfigMap");
    let _ = cluster.discover("v1", "ConfigMap");
    let _ = cluster.proxy().get(&["version"], &[]);
    let mut watch = pods.watch()?;
    let _ = watch.next_timeout(std::time::Duration::ZERO);
    cluster.close();
    Ok(())
}

fn bound_calls<D: kubewire::Driver>(pod: &kubewire::Bound<D, kubewire::Pod>) {
    let w = kubewire::WriteParams::default();
    let _ = pod.fetch();
    let _ = pod.labels().set("k", "v");
    let _ = pod.annotations().delete("k");
    let _ = pod.update_status(serde_json::json!({}), &w);
    let _ = pod.wait(&["Ready"], &[], std::time::Duration::ZERO);
    let _ = pod.delete();
}

/// A transport that cannot connect, blocking and async.
#[derive(Debug)]
struct Nowhere;

fn refused<B>() -> kubewire::Result<http::Response<B>> {
    Err(kubewire::Error::Transport {
        kind: kubewire::error::TransportErrorKind::Connect,
        message: "nowhere".into(),
    })
}

impl kubewire::Transport for Nowhere {
    type Body = std::io::Empty;
    fn send(
        &self,
        _: http::Request<bytes::Bytes>,
        _: kubewire::RequestKind,
    ) -> kubewire::Result<http::Response<std::io::Empty>> {
        refused()
    }
}

/// An async body that is always empty.
#[derive(Debug)]
struct NoBody;

impl futures_io::AsyncRead for NoBody {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Ok(0))
    }
}

impl kubewire::AsyncTransport for Nowhere {
    type Body = NoBody;
    fn send(
        &self,
        _: http::Request<bytes::Bytes>,
        _: kubewire::RequestKind,
    ) -> kubewire::BoxFuture<'_, kubewire::Result<http::Response<NoBody>>> {
        Box::pin(async { refused() })
    }
}

fn a_pod() -> kubewire::Pod {
    let json = r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"demo","resourceVersion":"1"}}"#;
    kubewire::model::TypedItem::from_item(
        kubewire::request::decode_item(bytes::Bytes::from(json)).expect("pod"),
    )
    .expect("a Pod")
}

#[test]
fn every_call_exists_on_both_sides_and_a_closed_cluster_refuses() {
    let config = kubewire::Config::default;
    let blocking = kubewire::Cluster::with_transport(config(), Nowhere);
    bound_calls(&blocking.pods().bind(a_pod()));
    every_call(&blocking).expect("builds");
    let nonblocking =
        kubewire::AsyncCluster::with_transport(config(), kubewire::Async::new(Nowhere));
    bound_calls(&nonblocking.pods().bind(a_pod()));
    every_call(&nonblocking).expect("builds");
    // every_call closed both: the same error on both sides.
    let closed = |e: kubewire::Result<_>| matches!(e, Err(kubewire::Error::Closed));
    assert!(closed(blocking.nodes().fetch("n", None).map(drop)));
    let answer =
        <kubewire::Async<Nowhere> as kubewire::Driver>::wait(nonblocking.nodes().fetch("n", None));
    assert!(closed(answer.map(drop)));
}
