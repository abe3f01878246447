#![allow(clippy::disallowed_methods)] // tests set up files and real instants for the code under test
//! Client-side rate limiting through the blocking facade, over an
//! in-memory transport that records when each request arrived.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kubewire::{Cluster, Config, RequestKind, Transport, exchange::RateLimit};

#[derive(Debug, Default)]
struct Clock {
    arrivals: Mutex<Vec<Instant>>,
}

const POD: &str = r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","namespace":"demo","resourceVersion":"1"}}"#;

impl Transport for Clock {
    type Body = std::io::Cursor<Bytes>;

    fn send(
        &self,
        _request: http::Request<Bytes>,
        _kind: RequestKind,
    ) -> kubewire::Result<http::Response<Self::Body>> {
        self.arrivals.lock().unwrap().push(Instant::now());
        Ok(http::Response::new(std::io::Cursor::new(
            Bytes::from_static(POD.as_bytes()),
        )))
    }
}

fn cluster(limit: Option<RateLimit>) -> Cluster<Clock> {
    let mut config = Config::new("http://127.0.0.1:1").unwrap();
    config.rate_limit = limit;
    Cluster::with_transport(config, Clock::default())
}

fn fetch_times(cluster: &Cluster<Clock>, n: usize) -> Vec<Duration> {
    let start = Instant::now();
    for _ in 0..n {
        cluster.pods().fetch("web-0", Some("demo")).unwrap();
    }
    let arrivals = cluster.transport().arrivals.lock().unwrap();
    arrivals.iter().map(|t| t.duration_since(start)).collect()
}

#[test]
fn a_burst_goes_at_once_then_requests_are_spaced_at_qps() {
    let cluster = cluster(Some(RateLimit::new(5.0, 2).unwrap()));
    let at = fetch_times(&cluster, 4);
    // Two at once, then one every 200 ms.
    assert!(at[1] < Duration::from_millis(150), "{at:?}");
    assert!(at[2] >= Duration::from_millis(190), "{at:?}");
    assert!(at[3] >= Duration::from_millis(390), "{at:?}");
}

#[test]
fn clones_share_one_bucket() {
    let cluster = cluster(Some(RateLimit::new(5.0, 1).unwrap()));
    let other = cluster.clone();
    let start = Instant::now();
    cluster.pods().fetch("web-0", Some("demo")).unwrap();
    other.pods().fetch("web-0", Some("demo")).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(190));
}

#[test]
fn off_by_default() {
    let cluster = cluster(None);
    let at = fetch_times(&cluster, 20);
    // Nothing waits: twenty in-memory requests do not take 200 ms each.
    assert!(at[19] < Duration::from_secs(2), "{at:?}");
}
