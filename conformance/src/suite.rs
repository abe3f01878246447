//! Runs every scenario through a harness: the sans-IO runner with many
//! chunkings, or a driver over a replay server.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use crate::chunking::Chunking;
use crate::driver::{Connect, Driver};
use crate::fixture::Fixture;
use crate::sans_io::SansIoDriver;
use crate::scenario::{Ctx, Scenario};
use crate::script::Report;
use crate::server::{ReplayServer, ServeOptions};

/// The chunkings every transport runs the suite with: as recorded, and two
/// adversarial splits.
pub const HTTP_CHUNKINGS: [Chunking; 3] = [
    Chunking::Recorded,
    Chunking::Fixed(7),
    Chunking::Random {
        seed: 0x7761_7463,
        max: 61,
    },
];

/// The message a caught panic carried.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}

/// The project's fixture directory (`fixtures/` at the workspace top).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Loads a fixture of the corpus by name (`recorded/`, `recorded-streams/`,
/// then `derived/`, then `handwritten/`).
pub fn corpus_fixture(name: &str) -> Fixture {
    for dir in ["recorded", "recorded-streams", "derived", "handwritten"] {
        let path = fixtures_dir().join(dir).join(format!("{name}.json"));
        if path.exists() {
            return Fixture::load(&path).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    panic!("no fixture named {name:?} in {}", fixtures_dir().display())
}

/// Runs a scenario body against a driver set up for some fixtures and
/// returns the replay's report.
type Harness<'a> = dyn FnMut(Vec<Fixture>, &mut dyn FnMut(&mut dyn Driver)) -> Report + 'a;

/// Runs `scenario` with a driver made for its fixtures; returns the failure.
fn run_one(scenario: &Scenario, label: &str, run: &mut Harness<'_>) -> Option<String> {
    let fixtures: Vec<Fixture> = scenario
        .fixtures
        .iter()
        .map(|f| corpus_fixture(f))
        .collect();
    let mut panic_message = None;
    let report = run(fixtures, &mut |driver| {
        let mut ctx = Ctx::new(driver);
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| (scenario.run)(&mut ctx))) {
            panic_message = Some(panic_text(p.as_ref()));
        }
    });
    match (panic_message, report.is_clean()) {
        (None, true) => None,
        (msg, _) => Some(format!(
            "scenario {} [{label}]: {}\n{report}",
            scenario.name,
            msg.unwrap_or_else(|| "replay not clean".into())
        )),
    }
}

fn selected(scenarios: &[Scenario]) -> Vec<&Scenario> {
    let only = std::env::var("KUBEWIRE_SCENARIO").ok();
    scenarios
        .iter()
        .filter(|s| only.as_deref().is_none_or(|o| o == s.name))
        .collect()
}

/// Runs `scenarios` through the sans-IO runner, once per chunking in
/// [`Chunking::SANS_IO`]. Returns every failure.
pub fn run_sans_io(scenarios: &[Scenario]) -> Vec<String> {
    let mut failures = Vec::new();
    for scenario in selected(scenarios) {
        for chunking in Chunking::SANS_IO {
            let mut run = |fixtures, body: &mut dyn FnMut(&mut dyn Driver)| {
                let mut driver = SansIoDriver::new(fixtures, chunking);
                body(&mut driver);
                driver.report()
            };
            failures.extend(run_one(
                scenario,
                &format!("sans-io {chunking:?}"),
                &mut run,
            ));
        }
    }
    failures
}

/// Runs `scenarios` over HTTP: a replay server per scenario and chunking in
/// [`HTTP_CHUNKINGS`], and a driver from `connect` pointed at it.
pub fn run_over_http(name: &str, scenarios: &[Scenario], connect: &Connect) -> Vec<String> {
    let mut failures = Vec::new();
    for scenario in selected(scenarios) {
        for chunking in HTTP_CHUNKINGS {
            let mut run = |fixtures, body: &mut dyn FnMut(&mut dyn Driver)| {
                let options = ServeOptions {
                    chunking,
                    ..ServeOptions::default()
                };
                let server = match ReplayServer::start_with(fixtures, options) {
                    Ok(s) => s,
                    Err(e) => {
                        return Report {
                            failures: vec![
                                serde_json::json!({"error": format!("cannot start server: {e}")}),
                            ],
                            ..Report::default()
                        };
                    }
                };
                let mut driver = connect(&server.base_url());
                body(driver.as_mut());
                server.settle(std::time::Duration::from_secs(2));
                drop(driver);
                server.stop()
            };
            failures.extend(run_one(scenario, &format!("{name} {chunking:?}"), &mut run));
        }
    }
    failures
}

/// Panics with every failure, one after the other.
pub fn assert_clean(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} conformance failure(s):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Instantiates the whole scenario suite for a transport: one line per
/// transport.
///
/// ```ignore
/// kubewire_conformance::conformance_suite!(ureq, |base_url: &str| {
///     Box::new(MyDriver::new(base_url)) as Box<dyn kubewire_conformance::Driver>
/// });
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, $connect:expr) => {
        #[test]
        fn $name() {
            let connect = $connect;
            $crate::assert_clean($crate::run_over_http(
                stringify!($name),
                &$crate::scenarios::all(),
                &connect,
            ));
        }
    };
}
