//! # kubewire-ureq
//!
//! A blocking transport for [`kubewire`] on `ureq` 3 (pure Rust, rustls).
//! It only moves bytes: TLS from the configuration's in-memory PEM,
//! proxies, timeouts. Everything Kubernetes is in the core.
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

mod tunnel;

use bytes::Bytes;
use kubewire::{Config, Error, RequestKind, Result, TransportOptions, error::TransportErrorKind};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

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

/// Checks that a client key belongs to its certificate before ureq sees
/// them (ureq panics on a mismatch).
fn check_key_pair(cert_pem: &[u8], key_pem: &[u8]) -> Result<()> {
    let certs = certificates(cert_pem, "client certificate")?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| tls_error(format!("client key: {e}")))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| tls_error(format!("client key: {e}")))?;
    rustls::sign::CertifiedKey::new(certs, signing)
        .keys_match()
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                tls_error("client key does not match its certificate".into())
            }
            // The certificate itself could not be read (garbage in the PEM).
            other => tls_error(format!("client certificate cannot be read: {other}")),
        })
}

/// Every certificate of a PEM; an error naming `what` when there is none.
pub(crate) fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| tls_error(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(tls_error(format!("{what}: no certificate in the PEM")));
    }
    Ok(certs)
}

/// The same certificates as ureq's type.
fn ureq_certificates(pem: &[u8], what: &str) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    Ok(certificates(pem, what)?
        .iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect())
}

fn tls_config(config: &Config) -> Result<ureq::tls::TlsConfig> {
    let creds = &config.credentials;
    let mut tls = ureq::tls::TlsConfig::builder().disable_verification(creds.insecure_skip_verify);
    if let Some(ca) = &creds.certificate_authority {
        let roots = ureq_certificates(ca, "certificate authority")?;
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&roots));
    }
    if let Some(client) = &creds.client_certificate {
        check_key_pair(&client.certificate_pem, client.key_pem.expose())?;
        let chain = ureq_certificates(&client.certificate_pem, "client certificate")?;
        let key = ureq::tls::PrivateKey::from_pem(client.key_pem.expose())
            .map_err(|e| tls_error(format!("client key: {e}")))?;
        tls = tls.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)));
    }
    Ok(tls.build())
}

impl UreqTransport {
    /// A transport for `config`'s server, TLS and credentials.
    pub fn new(config: &Config, options: &TransportOptions) -> Result<UreqTransport> {
        if config.tls_server_name.is_some() {
            return Err(config_error(
                "kubeconfig tls-server-name is not supported by the ureq transport \
                 (its TLS verifies the URL's host); drop the field or reach the server by that name"
                    .into(),
            ));
        }
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
        let agent = ureq::Agent::config_builder()
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
            .tls_config(tls_config(config)?)
            .proxy(proxy)
            .build()
            .new_agent();
        Ok(UreqTransport { agent, tunnel })
    }
}

fn transport_error(e: ureq::Error) -> Error {
    let kind = match &e {
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_) => TransportErrorKind::Connect,
        ureq::Error::Tls(_)
        | ureq::Error::Pem(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::TlsRequired => TransportErrorKind::Tls,
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused => {
            TransportErrorKind::Connect
        }
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
        ureq::Error::Io(io)
            if io
                .get_ref()
                .is_some_and(|inner| inner.to_string().contains("certificate")) =>
        {
            TransportErrorKind::Tls
        }
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
        let request = http::Request::from_parts(parts, body.to_vec());
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
