//! The whole conformance suite over ureq, against the replay server.

use kubewire::TransportOptions;
use kubewire_conformance::{Driver, TransportDriver, conformance_suite};
use kubewire_ureq::UreqTransport;

conformance_suite!(ureq, |base: &str| {
    Box::new(TransportDriver::new("ureq", base, |config| {
        UreqTransport::new(config, &TransportOptions::default())
    })) as Box<dyn Driver>
});

kubewire_conformance::facade_suite!(ureq_facade, UreqTransport);

#[test]
fn exec_through_a_connect_proxy() {
    kubewire_conformance::assert_clean(kubewire_conformance::facade::run_proxy_exec::<
        kubewire_ureq::UreqTransport,
    >("ureq"));
}
