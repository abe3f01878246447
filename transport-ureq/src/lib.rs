//! # kubewire-ureq
//!
//! A blocking transport for [`kubewire`] on `ureq` 3. It only moves
//! bytes: TLS from the configuration's in-memory PEM, proxies, timeouts.
//! Everything Kubernetes is in the core.
//!
//! TLS is rustls by default (pure Rust, nothing to install). With
//! `default-features = false, features = ["native-tls"]` it is the
//! platform's library instead (OpenSSL on Linux, which needs `libssl-dev`
//! and `pkg-config` to build): a faster build and a smaller binary, with
//! the same behaviour — kubeconfig's CA, client certificates (PKCS#8,
//! PKCS#1 RSA and SEC1 EC keys), `insecure-skip-tls-verify`,
//! `tls-server-name`, and exec, attach and port-forward tunnels read and
//! written at once. With both features on, rustls is used.
//!
//! ```no_run
//! use kubewire_ureq::Cluster;
//! let cluster = Cluster::new("http://localhost:8001")?; // kubectl proxy
//! for ns in cluster.namespaces().iter()? {
//!     println!("{}", ns?.meta().name());
//! }
//! # Ok::<(), kubewire::Error>(())
//! ```

use std::io;

mod coarse_timeouts;
mod connector;
mod tls;
mod tunnel;

use bytes::Bytes;
use kubewire::{Config, Error, RequestKind, Result, TransportOptions, error::TransportErrorKind};
use ureq::AsSendBody;

/// A kubewire cluster over ureq.
pub type Cluster = kubewire::Cluster<UreqTransport>;

/// The ureq transport. Cheap to clone; connections are pooled.
#[derive(Clone, Debug)]
pub struct UreqTransport {
    agent: ureq::Agent,
    tunnel: tunnel::TunnelConfig,
}

pub(crate) fn config_error(message: String) -> Error {
    Error::Transport {
        kind: TransportErrorKind::Config,
        message,
    }
}

pub(crate) fn tls_error(message: String) -> Error {
    Error::Transport {
        kind: TransportErrorKind::Tls,
        message,
    }
}

impl UreqTransport {
    /// A transport for `config`'s server, TLS and credentials.
    pub fn new(config: &Config, options: &TransportOptions) -> Result<UreqTransport> {
        // kubectl's rules for the environment, the same on every transport.
        let proxy = options.proxy_for(config);
        let tunnel = tunnel::TunnelConfig::new(config, options.connect_timeout, proxy.clone())?;
        let proxy = proxy
            .map(|url| {
                ureq::Proxy::new(&url).map_err(|e| {
                    config_error(format!(
                        "proxy {:?}: {e}",
                        kubewire::config::redacted_url(&url)
                    ))
                })
            })
            .transpose()?;
        let connector = connector::chain(
            tunnel.tls().clone(),
            config
                .base_url()
                .parse::<http::Uri>()
                .ok()
                .and_then(|uri| uri.authority().cloned()),
        );
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(config.user_agent.as_str())
            .timeout_connect(options.connect_timeout)
            // The request timeout bounds each phase (send, answer, body)
            // rather than the whole: a whole-request (global) timeout makes
            // ureq resolve the host on a new thread for every request, even
            // on a pooled connection.
            .timeout_send_request(options.request_timeout)
            .timeout_send_body(options.request_timeout)
            .timeout_recv_response(options.request_timeout)
            .timeout_recv_body(options.request_timeout)
            .proxy(proxy)
            .build();
        let agent = ureq::Agent::with_parts(
            agent_config,
            connector,
            ureq::unversioned::resolver::DefaultResolver::default(),
        );
        Ok(UreqTransport { agent, tunnel })
    }
}

fn transport_error(e: ureq::Error) -> Error {
    let kind = match &e {
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_) => TransportErrorKind::Connect,
        ureq::Error::Tls(_) | ureq::Error::TlsRequired => TransportErrorKind::Tls,
        // The TLS step's refusal (see `connector`), carried as I/O.
        ureq::Error::Io(io) if tls::is_refusal(io) => TransportErrorKind::Tls,
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused => {
            TransportErrorKind::Connect
        }
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
        ureq::Error::BadUri(_) | ureq::Error::InvalidProxyUrl => TransportErrorKind::Config,
        _ => TransportErrorKind::Io,
    };
    Error::Transport {
        kind,
        message: e.to_string(),
    }
}

impl kubewire::Connect for UreqTransport {
    fn connect(config: &Config, options: &TransportOptions) -> Result<UreqTransport> {
        UreqTransport::new(config, options)
    }
}

impl kubewire::Transport for UreqTransport {
    type Body = ureq::BodyReader<'static>;

    fn send(
        &self,
        request: http::Request<Bytes>,
        kind: RequestKind,
    ) -> Result<http::Response<Self::Body>> {
        let (parts, body) = request.into_parts();
        // ureq sends an empty body as `Content-Length: 0`; a GET sends none.
        let (mut bytes, mut none): (&[u8], ()) = (&body, ());
        let send = if kubewire::client::sends_body(&parts.method, bytes) {
            bytes.as_body()
        } else {
            none.as_body()
        };
        let request = http::Request::from_parts(parts, send);
        let response = match kind {
            // A watch or followed log: no limit on its body.
            RequestKind::Stream => {
                let request = self
                    .agent
                    .configure_request(request)
                    .timeout_recv_body(None)
                    .build();
                self.agent.run(request)
            }
            _ => self.agent.run(request),
        }
        .map_err(transport_error)?;
        let (parts, body) = response.into_parts();
        Ok(http::Response::from_parts(parts, body.into_reader()))
    }

    fn open_tunnel(&self, uri: &http::Uri) -> Result<Box<dyn kubewire::Tunnel>> {
        self.tunnel.open(uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_that_does_not_resolve_is_a_connect_error() {
        match transport_error(ureq::Error::HostNotFound) {
            Error::Transport { kind, .. } => assert_eq!(kind, TransportErrorKind::Connect),
            other => panic!("{other:?}"),
        }
    }
}
