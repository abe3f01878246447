//! # kubewire-conformance
//!
//! Proves the kubewire core and every transport behave the same against
//! recorded apiserver traffic:
//!
//! - [`Fixture`]: the fixture format of `fixtures/FORMAT.md` (load,
//!   validate with file name and JSON path, write);
//! - [`ReplayServer`]: serves fixtures over HTTP/1.1 on 127.0.0.1, matching
//!   every request strictly and answering `599` with the difference; an
//!   upgraded exchange (`fixtures/FORMAT-upgrade.md`: exec, attach,
//!   port-forward) is answered `101` and its WebSocket conversation played,
//!   the client's frames compared by payload ([`upgrade`]);
//! - [`SansIoDriver`]: feeds fixture responses straight into the core,
//!   re-chunked many ways ([`Chunking`]), and upgraded conversations through
//!   an in-memory tunnel ([`tunnel::SansIoTunnel`]);
//! - [`scenarios::all`]: the scenario suite, run through the sans-IO runner
//!   ([`run_sans_io`]) and over HTTP for any transport
//!   ([`conformance_suite!`]);
//! - [`Recorder`]: a forwarding proxy that writes what a client and a real
//!   apiserver said as a fixture, redacting secrets;
//! - [`Cassette`]: a fixture file recorded when missing and replayed when
//!   present, in one call;
//! - [`fake::FakeApiserver`]: a stateful apiserver in memory for tests, on
//!   loopback or in process, checked against the recordings
//!   ([`fake::check`]).
//!
//! The fixture format and the replay server are always built. The rest
//! of the testing kit (the fake apiserver, the recorder and cassettes, the
//! sans-IO transport, the TLS and proxy helpers) comes with the `kit`
//! feature, and the suites (scenarios, facade checks and the drivers that
//! run them) with `suites`; both are on by default. A program that only
//! embeds a replay server (a demo, a test helper) turns them off with
//! `default-features = false`, and builds a fraction of the crate.
//!
//! Using the replay server from your own tests (as a dev-dependency):
//!
//! ```
//! use kubewire_conformance::{Fixture, ReplayServer};
//! let fixture = Fixture::parse(br#"{"format": 1, "name": "ping", "description": "GET /version",
//!   "source": "handwritten", "exchanges": [{"request": {"method": "GET", "path": "/version"},
//!   "response": {"status": 200, "body": {"gitVersion": "v1.36.2"}}}]}"#,
//!   std::path::Path::new("<inline>")).unwrap();
//! let server = ReplayServer::start(vec![fixture]).unwrap();
//! // Point the code under test at server.base_url(); here, a raw request:
//! use std::io::{Read, Write};
//! let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
//! s.write_all(b"GET /version HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
//! let mut answer = String::new();
//! s.read_to_string(&mut answer).unwrap();
//! assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with(r#"{"gitVersion":"v1.36.2"}"#));
//! server.finish().unwrap(); // Err describes any mismatch or unconsumed exchange
//! ```

#[cfg(feature = "suites")]
pub mod async_support;
#[cfg(feature = "kit")]
pub mod cassette;
pub mod chunking;
#[cfg(feature = "kit")]
pub mod connect_proxy;
#[cfg(feature = "kit")]
pub mod driver;
#[cfg(feature = "suites")]
pub mod facade;
#[cfg(feature = "kit")]
pub mod fake;
pub mod fixture;
pub mod http1;
#[cfg(feature = "suites")]
pub mod lease_scenarios;
pub mod lease_server;
mod listener;
pub mod matching;
#[cfg(feature = "kit")]
pub mod recorder;
#[cfg(feature = "kit")]
pub mod redact;
pub mod relaxed;
#[cfg(feature = "suites")]
pub mod request_heads;
#[cfg(feature = "kit")]
pub mod sans_io;
#[cfg(feature = "suites")]
pub mod scenario;
#[cfg(feature = "suites")]
pub mod scenarios;
pub mod script;
pub mod server;
#[cfg(feature = "suites")]
pub mod stream_client;
#[cfg(feature = "suites")]
pub mod stream_scenarios;
#[cfg(feature = "suites")]
pub mod suite;
#[cfg(feature = "suites")]
pub mod timeouts;
#[cfg(feature = "kit")]
pub mod tls;
#[cfg(feature = "suites")]
pub mod transport_driver;
#[cfg(feature = "kit")]
pub mod tunnel;
pub mod upgrade;
#[cfg(feature = "suites")]
pub mod wire_client;

#[cfg(feature = "kit")]
pub use cassette::{Cassette, CassetteError};
pub use chunking::Chunking;
#[cfg(feature = "kit")]
pub use driver::{Body, BodyError, Connect, Driver, Response};
pub use fixture::{
    Chunk, End, Exchange, ExpectedRequest, Fixture, FixtureError, Offer, RecordedResponse,
    RequestBody, ResponseBody, Side, Source, Upgrade, UpgradeEnd, WsMessage, opcode_name,
};
#[cfg(feature = "kit")]
pub use recorder::{Recorder, RecorderOptions};
pub use relaxed::Matching;
#[cfg(feature = "kit")]
pub use sans_io::{SansIoDriver, SansIoTransport};
#[cfg(feature = "suites")]
pub use scenario::{Ctx, Scenario};
pub use script::{Report, Script};
pub use server::{ReplayServer, ServeOptions};
#[cfg(feature = "suites")]
pub use suite::{assert_clean, run_over_http, run_sans_io};
#[cfg(feature = "suites")]
pub use transport_driver::TransportDriver;
#[cfg(feature = "suites")]
pub use wire_client::WireDriver;
