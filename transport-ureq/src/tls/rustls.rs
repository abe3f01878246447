//! The rustls backend (feature `rustls`, the default): one client
//! configuration, built from the configuration's in-memory PEM, for the
//! requests' connections and the upgrade tunnels, so that they trust,
//! present and name the same.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;

use kubewire::{Config, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use ureq::unversioned::transport::TransportAdapter;

use super::TlsStream;
use super::rustls_tunnel::TlsTunnel;
use crate::{config_error, tls_error};

/// The TLS side of a transport: whom it trusts, what it presents, and
/// kubeconfig's `tls-server-name`.
#[derive(Clone)]
pub(crate) struct Tls {
    config: Arc<ClientConfig>,
    server_name: Option<ServerName<'static>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("backend", &"rustls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// The configuration's CA (or the webpki roots), client certificate,
    /// verification and server name.
    pub(crate) fn new(config: &Config) -> Result<Tls> {
        Ok(Tls {
            config: client_config(config)?,
            server_name: server_name_override(config)?,
        })
    }

    /// TLS over a connection ureq made to `host`; `to_server` says it is
    /// the API server (`tls-server-name` names no other host).
    pub(crate) fn connect(
        &self,
        host: &str,
        to_server: bool,
        mut sock: TransportAdapter,
    ) -> std::result::Result<TlsStream, ureq::Error> {
        let name_override = self.server_name.as_ref().filter(|_| to_server);
        let name = server_name(name_override, host)
            .map_err(|_| ureq::Error::Tls("the server's name is not a DNS name or IP"))?;
        let mut conn = ClientConnection::new(self.config.clone(), name)
            .map_err(|e| ureq::Error::Io(io::Error::other(e)))?;
        while conn.is_handshaking() {
            conn.complete_io(&mut sock).map_err(ureq::Error::Io)?;
        }
        Ok(TlsStream(StreamOwned { conn, sock }))
    }

    /// A tunnel to the API server at `host` over `tcp`, once the
    /// handshake is done; `server` (host and port) names it in errors.
    pub(crate) fn tunnel(
        &self,
        host: &str,
        server: &str,
        tcp: TcpStream,
    ) -> Result<Box<dyn kubewire::Tunnel>> {
        let name = server_name(self.server_name.as_ref(), host)?;
        let conn = ClientConnection::new(self.config.clone(), name)
            .map_err(|e| tls_error(format!("TLS setup: {e}")))?;
        let tunnel =
            TlsTunnel::handshake(conn, tcp).map_err(|e| super::handshake_error(e, server))?;
        Ok(Box::new(tunnel))
    }
}

/// rustls over ureq's transport.
pub(crate) type Stream = StreamOwned<ClientConnection, TransportAdapter>;

/// The connection under a [`Stream`].
pub(crate) fn socket(stream: &mut Stream) -> &mut TransportAdapter {
    &mut stream.sock
}

/// The connection under a [`Stream`], to show.
pub(crate) fn socket_ref(stream: &Stream) -> &TransportAdapter {
    &stream.sock
}

/// The rustls client configuration for `config`: its CA (or the webpki
/// roots), its client certificate, and verification unless
/// `insecure-skip-tls-verify` switches it off.
fn client_config(config: &Config) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(format!("TLS setup: {e}")))?;
    let creds = &config.credentials;
    let builder = if creds.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
    } else {
        let mut roots = rustls::RootCertStore::empty();
        match &creds.certificate_authority {
            Some(ca) => {
                for cert in certificates(ca, "certificate authority")? {
                    roots
                        .add(cert)
                        .map_err(|e| tls_error(format!("certificate authority: {e}")))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        builder.with_root_certificates(roots)
    };
    let tls = match &creds.client_certificate {
        Some(client) => {
            check_key_pair(&client.certificate_pem, client.key_pem.expose())?;
            let chain = certificates(&client.certificate_pem, "client certificate")?;
            let key = PrivateKeyDer::from_pem_slice(client.key_pem.expose())
                .map_err(|e| tls_error(format!("client key: {e}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls_error(format!("client certificate: {e}")))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(tls))
}

/// The name kubeconfig's `tls-server-name` asks for, checked once.
fn server_name_override(config: &Config) -> Result<Option<ServerName<'static>>> {
    config
        .tls_server_name
        .as_deref()
        .map(|name| {
            ServerName::try_from(name.to_string())
                .map_err(|e| config_error(format!("kubeconfig tls-server-name {name:?}: {e}")))
        })
        .transpose()
}

/// The name the server's certificate must carry (and the SNI sent): the
/// override when there is one, else the URL's host.
fn server_name(
    name_override: Option<&ServerName<'static>>,
    host: &str,
) -> Result<ServerName<'static>> {
    if let Some(name) = name_override {
        return Ok(name.clone());
    }
    ServerName::try_from(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
    .map_err(|e| config_error(format!("server name {host:?}: {e}")))
}

/// Whether an I/O error carries rustls's refusal (a certificate refused
/// either way, an alert), rather than what the socket said.
pub(crate) fn is_refusal(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
}

/// Checks that a client key belongs to its certificate, so that a
/// mismatch and a garbage certificate are each worded for what they are.
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
fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| tls_error(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(tls_error(format!("{what}: no certificate in the PEM")));
    }
    Ok(certs)
}

/// The verifier of `insecure-skip-tls-verify: true`: any certificate is
/// accepted (the handshake signatures are still checked).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
