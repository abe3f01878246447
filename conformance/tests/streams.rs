#![allow(clippy::disallowed_methods)] // the test connects to the local listener itself
//! Exec and port-forward behaviour beyond the replayed scenarios, with no
//! apiserver socket: `forward_local` (a connection accepted on a local
//! listener is forwarded to the pod's port over its own port-forward
//! connection) and exec's timeout.

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

#[test]
fn an_exec_that_runs_past_its_timeout_is_a_timeout_error() {
    // `cat` waits for stdin that never comes: the server sends nothing more.
    let transport = SansIoTransport::new(SansIoDriver::new(
        vec![corpus_fixture("exec-stdin-close")],
        Chunking::Recorded,
    ));
    let cluster = Cluster::with_transport(Config::default(), transport);
    let mut params = kubewire::ExecParams::command(["cat"]);
    params.container = Some("app".into());
    params.stdin = true;
    params.stderr = false;
    params.timeout = Some(std::time::Duration::from_millis(300));
    let session = cluster
        .pods()
        .exec_session("web-0", Some("demo"), &params)
        .unwrap();
    let started = std::time::Instant::now();
    let err = session.finish(false).unwrap_err();
    assert!(
        matches!(
            err,
            kubewire::Error::Transport {
                kind: kubewire::error::TransportErrorKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    cluster.close();
}
