//! The whole conformance suite over ureq, against the replay server.

use kubewire_conformance::{Driver, TransportDriver, conformance_suite};
use kubewire_ureq::{UreqOptions, UreqTransport};

conformance_suite!(ureq, |base: &str| {
    Box::new(TransportDriver::new("ureq", base, |config| {
        UreqTransport::new(config, &UreqOptions::default())
    })) as Box<dyn Driver>
});

kubewire_conformance::facade_suite!(ureq_facade, UreqTransport);
