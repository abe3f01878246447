//! A cassette records the first run against an apiserver (here a replay
//! server of a real recording stands in for it) and replays every run after
//! it, failing on any request the recording does not hold.

use std::path::PathBuf;

use kubewire_conformance::{Cassette, CassetteError, Fixture, ReplayServer};
use kubewire_ureq::Cluster;

/// The code under test: fetch a pod, and one that is not there.
fn code_under_test(url: &str) -> (String, bool) {
    let cluster = Cluster::new(url).expect("cluster");
    let pod = cluster.pods().fetch("web-0", Some("demo")).expect("web-0");
    let missing = matches!(
        cluster.pods().fetch("nope-0", Some("demo")),
        Err(kubewire::Error::NotFound { .. })
    );
    (pod.meta().name().to_string(), missing)
}

/// A fresh path for a cassette file, removed again when dropped.
struct TempCassette(PathBuf);

impl TempCassette {
    fn new(name: &str) -> TempCassette {
        let dir =
            std::env::temp_dir().join(format!("kubewire-cassette-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempCassette(dir.join("nested").join("case.json"))
    }
}

impl Drop for TempCassette {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent().and_then(|p| p.parent()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn apiserver() -> ReplayServer {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/recorded/pod-fetch-running.json"
    );
    ReplayServer::start(vec![Fixture::load(path).expect("fixture")]).expect("server")
}

/// The first run: the file is missing, so the cassette records the code
/// under test against the apiserver; what the code saw.
fn record(file: &TempCassette) -> (String, bool) {
    let apiserver = apiserver();
    let cassette = Cassette::with_upstream(&file.0, apiserver.base_url().trim_end_matches('/'))
        .expect("recording cassette");
    assert!(cassette.is_recording());
    let seen = code_under_test(&cassette.base_url());
    cassette.finish().expect("written");
    apiserver
        .finish()
        .expect("the apiserver saw what it expected");
    seen
}

#[test]
fn records_once_then_replays_without_the_apiserver() {
    let file = TempCassette::new("once");
    let recorded = record(&file);
    assert_eq!(recorded, ("web-0".to_string(), true));
    let fixture = Fixture::load(&file.0).expect("a valid fixture");
    assert_eq!(fixture.exchanges.len(), 2);

    // Second run: no apiserver at all (the upstream is a closed port); the
    // same code gets the same answers from the file.
    let cassette = Cassette::with_upstream(&file.0, "http://127.0.0.1:9").expect("replaying");
    assert!(!cassette.is_recording());
    assert_eq!(code_under_test(&cassette.base_url()), recorded);
    cassette.finish().expect("the replay matched");
}

#[test]
fn a_replay_that_differs_fails_with_the_difference() {
    let file = TempCassette::new("differs");
    record(&file);

    // The code changed: it now fetches another pod first.
    let cassette = Cassette::with_upstream(&file.0, "http://127.0.0.1:9").expect("replaying");
    let cluster = Cluster::new(&cassette.base_url()).expect("cluster");
    assert!(cluster.pods().fetch("other-1", Some("demo")).is_err());
    match cassette.finish() {
        Err(CassetteError::Mismatch(difference)) => {
            assert!(difference.contains("other-1"), "{difference}");
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn a_damaged_cassette_is_an_error_naming_the_file() {
    let file = TempCassette::new("damaged");
    std::fs::create_dir_all(file.0.parent().unwrap()).unwrap();
    std::fs::write(&file.0, b"{\"format\": 1, \"exchanges\": [").unwrap();
    match Cassette::new(&file.0) {
        Err(e @ CassetteError::Fixture(_)) => assert!(e.to_string().contains("case.json"), "{e}"),
        other => panic!("expected a fixture error, got {other:?}"),
    }
}
