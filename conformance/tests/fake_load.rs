//! Load on the fake over loopback: 100 watchers and 10,000 writes; every
//! watcher sees every event exactly once, in resourceVersion order.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use kubewire_conformance::fake::FakeApiserver;
use kubewire_conformance::http1::{self, Framing, Wire};

const WATCHERS: usize = 100;
const WRITERS: usize = 4;
const WRITES: usize = 10_000;

static RUNNING: AtomicBool = AtomicBool::new(false);

/// Opens a connection and sends one request.
fn send(wire: &mut Wire, method: &str, target: &str, body: &str) {
    let head = format!(
        "{method} {target} HTTP/1.1\r\nhost: fake\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    wire.stream().write_all(head.as_bytes()).unwrap();
}

#[test]
fn a_hundred_watchers_see_ten_thousand_writes_once_each_in_order() {
    let fake = FakeApiserver::start().unwrap();
    fake.seed(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "load"}}),
    )
    .unwrap();
    let from = fake.resource_version();
    let addr = fake.addr();
    let started = Instant::now();
    let watchers: Vec<_> = (0..WATCHERS)
        .map(|_| {
            let mut wire = Wire::new(TcpStream::connect(addr).unwrap()).unwrap();
            wire.set_idle_limit(Some(Duration::from_secs(60)));
            send(
                &mut wire,
                "GET",
                &format!("/api/v1/namespaces/load/configmaps?watch=true&resourceVersion={from}"),
                "",
            );
            std::thread::spawn(move || {
                let head = wire.read_response_head(&RUNNING).unwrap();
                assert_eq!(head.status, 200);
                let (mut seen, mut last, mut names, mut partial) =
                    (0, from, BTreeSet::new(), Vec::new());
                while seen < WRITES {
                    let chunk = wire
                        .read_chunk(&RUNNING)
                        .unwrap()
                        .expect("the watch stays open");
                    partial.extend_from_slice(&chunk);
                    while let Some(end) = partial.iter().position(|&b| b == b'\n') {
                        let line: Vec<u8> = partial.drain(..=end).collect();
                        let event: serde_json::Value = serde_json::from_slice(&line).unwrap();
                        assert_eq!(event["type"], "ADDED");
                        let rv: u64 = event["object"]["metadata"]["resourceVersion"]
                            .as_str()
                            .unwrap()
                            .parse()
                            .unwrap();
                        assert!(rv > last, "resourceVersion {rv} after {last}");
                        last = rv;
                        assert!(
                            names.insert(
                                event["object"]["metadata"]["name"]
                                    .as_str()
                                    .unwrap()
                                    .to_string()
                            ),
                            "an event seen twice"
                        );
                        seen += 1;
                    }
                }
                seen
            })
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            std::thread::spawn(move || {
                let mut wire = Wire::new(TcpStream::connect(addr).unwrap()).unwrap();
                for i in 0..WRITES / WRITERS {
                    let body = format!(r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"cm-{w}-{i}"}},"data":{{"i":"{i}"}}}}"#);
                    send(&mut wire, "POST", "/api/v1/namespaces/load/configmaps", &body);
                    let head = wire.read_response_head(&RUNNING).unwrap();
                    assert_eq!(head.status, 201);
                    let framing = http1::framing(&head.headers, Framing::Length(0)).unwrap();
                    wire.read_body(framing, &RUNNING).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let counts: Vec<usize> = watchers.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(counts.iter().all(|&c| c == WRITES));
    assert_eq!(fake.resource_version(), from + WRITES as u64);
    // Bounded: a hang would fail the watchers' idle limit long before this.
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
}
