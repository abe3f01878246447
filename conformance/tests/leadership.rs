#![allow(clippy::disallowed_methods)] // the test waits on the real clock
//! `Cluster::lead` on both drivers, against the in-memory Lease server:
//! one contender leads, the other waits; a release hands leadership over
//! at once; dropping the handles and closing the clusters leaves no
//! helper thread behind.

use std::time::{Duration, Instant};

use kubewire::leader::{LeaderEvent, LeaseParams};
use kubewire::{Async, Cluster, Config, Driver};
use kubewire_conformance::lease_server::LeaseServer;

fn params() -> LeaseParams {
    let mut p = LeaseParams::default();
    // Short enough for a test, long enough that a loaded machine does not
    // starve a renewal past its deadline.
    p.lease_duration = Duration::from_secs(5);
    p.renew_deadline = Duration::from_secs(4);
    p.retry_period = Duration::from_millis(100);
    p.namespace = Some("demo".into());
    p
}

fn names<D: Driver>(leadership: &mut kubewire::client::Leadership<D>, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| match D::wait(leadership.next()) {
            Some(LeaderEvent::BecameLeader) => "leader".to_string(),
            Some(LeaderEvent::LostLeadership) => "lost".to_string(),
            Some(LeaderEvent::NewLeader(who)) => format!("new leader {who}"),
            Some(other) => format!("{other:?}"),
            None => "end".to_string(),
        })
        .collect()
}

/// Waits (at most 10 s) until `done`.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(10), "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn hand_over<D: Driver>(make: impl Fn() -> Cluster<D>, server: &LeaseServer) {
    let (a, b) = (make(), make());
    let mut la = a.lead("my-controller", "a", &params()).expect("a contends");
    eventually("a leads", || la.is_leader());
    assert_eq!(names(&mut la, 2), ["new leader a", "leader"]);
    let mut lb = b.lead("my-controller", "b", &params()).expect("b contends");
    eventually("b sees a", || lb.holder().as_deref() == Some("a"));
    assert_eq!(names(&mut lb, 1), ["new leader a"]);
    // a renews: b stays a follower well past the lease duration.
    std::thread::sleep(Duration::from_millis(5500));
    assert!(la.is_leader() && !lb.is_leader());
    // a releases: b need not wait out the lease.
    D::wait(la.release());
    assert!(!la.is_leader());
    assert_eq!(names(&mut la, 2), ["lost", "end"]);
    let lease = server.lease("demo", "my-controller").expect("the lease");
    assert!(
        ["", "b"].contains(&lease["spec"]["holderIdentity"].as_str().unwrap_or("?")),
        "{lease}"
    );
    let released = Instant::now();
    eventually("b leads", || lb.is_leader());
    assert!(released.elapsed() < Duration::from_secs(2));
    assert_eq!(names(&mut lb, 2), ["new leader b", "leader"]);
    drop(lb);
    eventually("b's release is written", || {
        server.lease("demo", "my-controller").expect("the lease")["spec"]["holderIdentity"] == ""
    });
    for cluster in [a, b] {
        cluster.close();
        eventually("no helper thread is left", || cluster.helper_threads() == 0);
    }
}

#[test]
fn blocking_contenders_hand_leadership_over() {
    let server = LeaseServer::new();
    hand_over(
        || Cluster::with_transport(Config::default(), server.clone()),
        &server,
    );
}

#[test]
fn async_contenders_hand_leadership_over() {
    let server = LeaseServer::new();
    hand_over(
        || Cluster::with_transport(Config::default(), Async::new(server.clone())),
        &server,
    );
}

#[test]
fn a_lead_task_runs_on_the_callers_executor() {
    let server = LeaseServer::new();
    let cluster = Cluster::with_transport(Config::default(), Async::new(server.clone()));
    let (mut leadership, task) = cluster
        .lead_task("my-controller", "a", &params())
        .expect("contends");
    // Any executor: here a thread running the task with the suite's block_on.
    let executor = std::thread::spawn(move || kubewire_conformance::async_support::block_on(task));
    let first = kubewire_conformance::async_support::block_on(leadership.next());
    assert!(matches!(first, Some(LeaderEvent::NewLeader(ref who)) if who == "a"));
    assert!(matches!(
        kubewire_conformance::async_support::block_on(leadership.next()),
        Some(LeaderEvent::BecameLeader)
    ));
    drop(leadership);
    executor.join().expect("the task ends once released");
    assert_eq!(
        server.lease("demo", "my-controller").expect("the lease")["spec"]["holderIdentity"],
        ""
    );
    cluster.close();
}
