//! The whole conformance suite over isahc (blocking), against the replay
//! server.

use kubewire::TransportOptions;
use kubewire_conformance::{Driver, TransportDriver, conformance_suite, facade_suite};
use kubewire_isahc::IsahcTransport;

conformance_suite!(isahc, |base: &str| {
    // libcurl hands back a response only at its first body byte.
    let driver = TransportDriver::new("isahc", base, |config| {
        IsahcTransport::new(config, &TransportOptions::default())
    });
    Box::new(driver.head_after_first_byte()) as Box<dyn Driver>
});

facade_suite!(isahc_facade, IsahcTransport);

conformance_suite!(isahc_async, |base: &str| {
    let driver = kubewire_conformance::async_support::AsyncTransportDriver::new(
        "isahc-async",
        base,
        |config| IsahcTransport::new(config, &TransportOptions::default()),
    );
    Box::new(driver) as Box<dyn Driver>
});

facade_suite!(isahc_async_facade, kubewire::Async<IsahcTransport>);

#[test]
fn exec_through_a_connect_proxy() {
    let mut failures = kubewire_conformance::facade::run_proxy_exec::<IsahcTransport>("isahc");
    failures.extend(kubewire_conformance::facade::run_proxy_exec::<
        kubewire::Async<IsahcTransport>,
    >("isahc-async"));
    kubewire_conformance::assert_clean(failures);
}
