//! The facade puts fresh credentials on every request: a rotated token file
//! is read again before the next request.

use kubewire::{
    Cluster, Config,
    config::{Auth, DynamicToken},
};
use kubewire_conformance::{Chunking, Fixture, SansIoDriver, SansIoTransport};

#[test]
fn a_rotated_token_file_is_sent_on_the_next_request() {
    let fixture = Fixture::parse(
        br#"{"format": 1, "name": "rotation", "description": "two requests, each with the token current at the time", "source": "handwritten", "exchanges": [
          {"request": {"method": "GET", "path": "/version", "headers": {"authorization": "Bearer first-token"}}, "response": {"status": 200, "body": {"gitVersion": "v1.36.2"}}},
          {"request": {"method": "GET", "path": "/version", "headers": {"authorization": "Bearer second-token-rotated"}}, "response": {"status": 200, "body": {"gitVersion": "v1.36.2"}}}]}"#,
        std::path::Path::new("<inline>"),
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("kubewire-rotation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_path = dir.join("token");
    std::fs::write(&token_path, "first-token\n").unwrap();
    let mut config = Config::default();
    config.credentials.auth = Auth::Dynamic(DynamicToken::from_file(&token_path).unwrap());
    let transport = SansIoTransport::new(SansIoDriver::new(vec![fixture], Chunking::Recorded));
    let report = transport.reporter();
    let cluster = Cluster::with_transport(config, transport);
    assert_eq!(
        cluster.proxy().get(&["version"], &[]).unwrap()["gitVersion"],
        "v1.36.2"
    );
    std::fs::write(&token_path, "second-token-rotated\n").unwrap();
    assert_eq!(
        cluster.proxy().get(&["version"], &[]).unwrap()["gitVersion"],
        "v1.36.2"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let report = report();
    assert!(report.is_clean(), "{report}");
}

#[test]
fn an_upgrade_carries_the_current_token_and_no_debug_shows_it() {
    let mut fixtures = vec![
        kubewire_conformance::suite::corpus_fixture("exec-stdout-stderr"),
        kubewire_conformance::suite::corpus_fixture("exec-pod-not-found"),
    ];
    for fixture in &mut fixtures {
        fixture.exchanges[0]
            .request
            .headers
            .insert("authorization".into(), "Bearer exec-token-secret".into());
    }
    let dir = std::env::temp_dir().join(format!("kubewire-exec-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_path = dir.join("token");
    std::fs::write(&token_path, "exec-token-secret\n").unwrap();
    let mut config = Config::default();
    config.credentials.auth = Auth::Dynamic(DynamicToken::from_file(&token_path).unwrap());
    let transport = SansIoTransport::new(SansIoDriver::new(fixtures, Chunking::Recorded));
    let report = transport.reporter();
    let cluster = Cluster::with_transport(config, transport);
    let mut params = kubewire::ExecParams::command(["sh", "-c", "echo out; echo err >&2"]);
    params.container = Some("app".into());
    let session = cluster
        .pods()
        .exec_session("web-0", Some("demo"), &params)
        .unwrap();
    // (The cluster's Debug shows the test transport, whose fixture holds it.)
    let shown = format!("{session:?} {:?}", cluster.config());
    assert!(!shown.contains("exec-token-secret"), "{shown}");
    let out = session.finish(true).unwrap();
    assert_eq!(out.stdout, b"out\n");
    // A refused upgrade names no token either.
    params.command = vec!["sh".into(), "-c".into(), "echo out".into()];
    let err = cluster
        .pods()
        .exec("nope", Some("demo"), &params)
        .unwrap_err();
    assert!(matches!(err, kubewire::Error::NotFound(_)), "{err}");
    assert!(
        !format!("{err} {err:?}").contains("exec-token-secret"),
        "{err:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let report = report();
    assert!(report.is_clean(), "{report}");
}
