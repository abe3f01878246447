//! The testing kit's fake apiserver: how long a test waits for one to
//! start and answer its first GET, beside the replay server doing the
//! same with a one-exchange fixture.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use kubewire_conformance::fake::FakeApiserver;
use kubewire_conformance::{Fixture, ReplayServer};

use crate::table::{Table, interleaved};

/// A `GET /api/v1/namespaces/default` on a fresh connection: the status line.
fn get(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(b"GET /api/v1/namespaces/default HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    answer.lines().next().unwrap_or_default().to_string()
}

/// Milliseconds from nothing to the first answer, and the fake stopped.
fn fake_once() -> f64 {
    let started = Instant::now();
    let fake = FakeApiserver::start().expect("the fake starts");
    let status = get(fake.addr());
    let ms = started.elapsed().as_secs_f64() * 1e3;
    assert_eq!(status, "HTTP/1.1 200 OK");
    fake.stop();
    ms
}

/// The same with the replay server and a fixture holding that exchange.
fn replay_once(fixture: &Fixture) -> f64 {
    let started = Instant::now();
    let server = ReplayServer::start(vec![fixture.clone()]).expect("the replay server starts");
    let status = get(server.addr());
    let ms = started.elapsed().as_secs_f64() * 1e3;
    assert_eq!(status, "HTTP/1.1 200 OK");
    server.stop();
    ms
}

/// Start-and-first-GET, `runs` interleaved runs of each.
pub fn run(runs: usize) -> Table {
    let fixture = Fixture::parse(
        br#"{"format": 1, "name": "ns", "description": "GET the default namespace", "source": "handwritten",
            "exchanges": [{"request": {"method": "GET", "path": "/api/v1/namespaces/default"},
            "response": {"status": 200, "body": {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "default"}}}}]}"#,
        std::path::Path::new("<inline>"),
    )
    .expect("the inline fixture");
    let samples = interleaved(runs, &mut [&mut fake_once, &mut || replay_once(&fixture)]);
    let mut table = Table::default();
    table.lower_spread(
        "start on 127.0.0.1, answer one GET (bar: under 10 ms)",
        "ms",
        &samples[0],
        "replay server, one-exchange fixture",
        &samples[1],
    );
    table.note(
        "what differs",
        "a stateful apiserver: catalogue of every built-in kind, 4 namespaces",
        "one recorded answer, no state",
    );
    table
}
