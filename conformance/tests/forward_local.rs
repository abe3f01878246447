#![allow(clippy::disallowed_methods)] // the test connects to the local listener itself
//! `forward_local`: a connection accepted on a local listener is forwarded
//! to the pod's port over its own port-forward connection (replayed from
//! the `portforward-echo` recording, with no apiserver socket).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use kubewire::{Cluster, Config};
use kubewire_conformance::{Chunking, SansIoDriver, SansIoTransport, suite::corpus_fixture};

#[test]
fn a_local_connection_reaches_the_pods_port() {
    let transport = SansIoTransport::new(SansIoDriver::new(
        vec![corpus_fixture("portforward-echo")],
        Chunking::Recorded,
    ));
    let report = transport.reporter();
    let cluster = Cluster::with_transport(Config::default(), transport);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let forward = cluster
        .pods()
        .forward_local("web-0", Some("demo"), 18080, listener)
        .unwrap();
    let mut conn = TcpStream::connect(forward.local_addr()).unwrap();
    conn.write_all(b"ping\n").unwrap();
    let mut got = [0u8; 5];
    conn.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping\n");
    conn.write_all(b"second\n").unwrap();
    let mut got = [0u8; 7];
    conn.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"second\n");
    conn.shutdown(std::net::Shutdown::Write).unwrap();
    // The pod side closes in turn: the local connection ends.
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    assert_eq!(forward.last_error(), None);
    drop(forward);
    cluster.close();
    let report = report();
    assert!(report.is_clean(), "{report}");
}
