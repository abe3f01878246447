//! The facade suite against the fake apiserver in process (no socket),
//! blocking and async. Over loopback, every transport runs it from its
//! `facade_suite!` line.

use kubewire::{Async, Cluster, Config};
use kubewire_conformance::fake::FakeApiserver;

#[test]
fn the_facade_suite_passes_against_the_fake_in_process() {
    let failures = kubewire_conformance::facade::run_facade_fake::<FakeApiserver>(
        "fake in process",
        &|fake| Cluster::with_transport(Config::default(), fake.clone()),
    );
    kubewire_conformance::assert_clean(failures);
}

#[test]
fn the_facade_suite_passes_against_the_fake_in_process_async() {
    let failures = kubewire_conformance::facade::run_facade_fake::<Async<FakeApiserver>>(
        "fake in process, async",
        &|fake| Cluster::with_transport(Config::default(), Async::new(fake.clone())),
    );
    kubewire_conformance::assert_clean(failures);
}
