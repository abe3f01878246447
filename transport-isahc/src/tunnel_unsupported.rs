//! Upgraded connections (exec, attach, port-forward) need the raw socket of
//! a libcurl connect-only connection, waited on with `poll`: written for
//! Unix. Elsewhere opening one is an error that says so.

use std::time::Duration;

use kubewire::{Config, Error, Result, error::TransportErrorKind};

/// What every tunnel would be opened with.
#[derive(Clone, Debug)]
pub(crate) struct TunnelConfig;

impl TunnelConfig {
    pub(crate) fn new(
        _config: &Config,
        _connect_timeout: Option<Duration>,
        _proxy: Option<String>,
        _route: Option<crate::ServerNameRoute>,
    ) -> TunnelConfig {
        TunnelConfig
    }

    /// Reading a TLS alert needs the connect-only connection: none here.
    pub(crate) fn handshake_refusal(&self, _uri: &http::Uri) -> Option<String> {
        None
    }

    pub(crate) fn open(&self, _uri: &http::Uri) -> Result<Box<dyn kubewire::Tunnel>> {
        Err(Error::Transport {
            kind: TransportErrorKind::Config,
            message: "exec, attach and port-forward on the isahc transport are written for Unix; \
                      use the ureq transport on this platform"
                .into(),
        })
    }
}
