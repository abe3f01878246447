//! The scenario suite through the sans-IO runner (every chunking) and over
//! HTTP through the replay server with the plain wire driver.

use std::collections::BTreeSet;

use kubewire_conformance::scenarios::{self, PENDING};
use kubewire_conformance::{
    Driver, WireDriver, assert_clean, conformance_suite, run_sans_io, suite,
};

#[test]
fn sans_io_every_chunking() {
    assert_clean(run_sans_io(&scenarios::all()));
}

#[test]
fn facade_sans_io_every_chunking() {
    assert_clean(kubewire_conformance::facade::run_facade_sans_io());
}

conformance_suite!(wire, |base: &str| {
    Box::new(WireDriver::new(base).expect("loopback base URL")) as Box<dyn Driver>
});

#[test]
fn every_fixture_has_a_scenario_or_a_named_owner() {
    let mut corpus = BTreeSet::new();
    for dir in ["recorded", "recorded-streams", "derived", "handwritten"] {
        for f in kubewire_conformance::Fixture::load_dir(suite::fixtures_dir().join(dir))
            .expect("corpus loads")
        {
            corpus.insert(f.name);
        }
    }
    let used: BTreeSet<String> = scenarios::all()
        .iter()
        .flat_map(|s| s.fixtures.iter().map(|f| f.to_string()))
        .chain(
            kubewire_conformance::facade::fixtures()
                .into_iter()
                .map(str::to_string),
        )
        .collect();
    let pending: BTreeSet<String> = PENDING.iter().map(|(f, _)| f.to_string()).collect();
    assert!(
        used.is_disjoint(&pending),
        "pending fixtures that have a scenario: {:?}",
        used.intersection(&pending).collect::<Vec<_>>()
    );
    let covered: BTreeSet<String> = used.union(&pending).cloned().collect();
    assert_eq!(
        covered, corpus,
        "scenarios, the facade suite and PENDING must name exactly the corpus"
    );
}
