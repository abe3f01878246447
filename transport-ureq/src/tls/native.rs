//! The native-tls backend (feature `native-tls`): the platform's TLS
//! library (OpenSSL on Linux), configured from the configuration's
//! in-memory PEM for the requests' connections and the upgrade tunnels
//! alike.

use std::io;
use std::net::{IpAddr, TcpStream};

use kubewire::{Config, Result};
use native_tls::{Certificate, HandshakeError, Identity, TlsConnector};
use ureq::unversioned::transport::TransportAdapter;

use super::TlsStream;
use super::native_tunnel::TlsTunnel;
use crate::{config_error, tls_error};

/// The TLS side of a transport: whom it trusts, what it presents, and
/// kubeconfig's `tls-server-name`.
#[derive(Clone)]
pub(crate) struct Tls {
    connector: TlsConnector,
    server_name: Option<String>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("backend", &"native-tls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// The configuration's CA (only it, as kubectl does; else the
    /// system's roots), client certificate, verification and server name.
    pub(crate) fn new(config: &Config) -> Result<Tls> {
        let creds = &config.credentials;
        let mut builder = TlsConnector::builder();
        if creds.insecure_skip_verify {
            builder
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true);
        } else if let Some(ca) = &creds.certificate_authority {
            builder.disable_built_in_roots(true);
            for cert in certificates(ca, "certificate authority")? {
                builder.add_root_certificate(cert);
            }
        }
        if let Some(client) = &creds.client_certificate {
            certificates(&client.certificate_pem, "client certificate")?;
            let key = super::pkcs8::to_pkcs8_pem(client.key_pem.expose())
                .map_err(|why| tls_error(format!("client key: {why}")))?;
            let identity = Identity::from_pkcs8(&client.certificate_pem, &key)
                .map_err(|e| tls_error(format!("client key: {e}")))?;
            builder.identity(identity);
        }
        let connector = builder.build().map_err(|e| {
            // OpenSSL checks the key against the certificate here.
            if e.to_string().contains("key values mismatch") {
                tls_error("client key does not match its certificate".into())
            } else {
                tls_error(format!("TLS setup: {e}"))
            }
        })?;
        let server_name = config
            .tls_server_name
            .as_deref()
            .map(|name| {
                check_server_name(name)
                    .map(|()| name.to_string())
                    .map_err(|why| {
                        config_error(format!("kubeconfig tls-server-name {name:?}: {why}"))
                    })
            })
            .transpose()?;
        Ok(Tls {
            connector,
            server_name,
        })
    }

    /// TLS over a connection ureq made to `host`; `to_server` says it is
    /// the API server (`tls-server-name` names no other host).
    pub(crate) fn connect(
        &self,
        host: &str,
        to_server: bool,
        sock: TransportAdapter,
    ) -> std::result::Result<TlsStream, ureq::Error> {
        let name = self.name(host, to_server);
        match self.connector.connect(name, sock) {
            Ok(stream) => Ok(TlsStream(stream)),
            Err(HandshakeError::Failure(e)) => Err(ureq::Error::Io(io::Error::other(e))),
            // The connection blocks: it cannot ask to be called again.
            Err(HandshakeError::WouldBlock(_)) => Err(ureq::Error::Io(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the TLS handshake stopped half-way",
            ))),
        }
    }

    /// A tunnel to the API server at `host` over `tcp`, once the
    /// handshake is done; `server` (host and port) names it in errors.
    pub(crate) fn tunnel(
        &self,
        host: &str,
        server: &str,
        tcp: TcpStream,
    ) -> Result<Box<dyn kubewire::Tunnel>> {
        let tunnel = TlsTunnel::handshake(&self.connector, self.name(host, true), tcp)
            .map_err(|e| super::handshake_error(e, server))?;
        Ok(Box::new(tunnel))
    }

    /// The name the server's certificate must carry (and the SNI sent): the
    /// override when it applies, else the URL's host.
    fn name<'a>(&'a self, host: &'a str, to_server: bool) -> &'a str {
        match &self.server_name {
            Some(name) if to_server => name,
            _ => host.trim_start_matches('[').trim_end_matches(']'),
        }
    }
}

/// native-tls over ureq's transport.
pub(crate) type Stream = native_tls::TlsStream<TransportAdapter>;

/// The connection under a [`Stream`].
pub(crate) fn socket(stream: &mut Stream) -> &mut TransportAdapter {
    stream.get_mut()
}

/// The connection under a [`Stream`], to show.
pub(crate) fn socket_ref(stream: &Stream) -> &TransportAdapter {
    stream.get_ref()
}

/// Whether an I/O error is the TLS library's refusal (a certificate
/// refused either way, an alert) rather than what the connection said.
/// The library hands on the connection's own errors unchanged: those are
/// the operating system's (no inner error) or ureq's; anything else of
/// kind `Other` carrying an error is the library's.
pub(crate) fn is_refusal(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Other && e.get_ref().is_some_and(|inner| !inner.is::<ureq::Error>())
}

/// Every certificate of a PEM; an error naming `what` when there is none
/// or one cannot be read.
fn certificates(pem: &[u8], what: &str) -> Result<Vec<Certificate>> {
    let certs = Certificate::stack_from_pem(pem)
        .map_err(|e| tls_error(format!("{what} cannot be read: {e}")))?;
    if certs.is_empty() {
        return Err(tls_error(format!("{what}: no certificate in the PEM")));
    }
    Ok(certs)
}

/// `tls-server-name` must be an IP address or a DNS name (letters,
/// digits, `-` and `_` in dot-separated labels of at most 63 bytes).
fn check_server_name(name: &str) -> std::result::Result<(), &'static str> {
    if name.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return Err("not a DNS name or IP address");
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err("not a DNS name or IP address")
    }
}

#[cfg(test)]
mod tests {
    use super::check_server_name;

    #[test]
    fn server_names_are_dns_names_or_ip_addresses() {
        for good in [
            "kubernetes",
            "api.example.com",
            "10.0.0.1",
            "::1",
            "a_b.example.",
            "x-1.y",
        ] {
            assert_eq!(check_server_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            ".",
            "a..b",
            "-a.b",
            "a-.b",
            "a b",
            "a/b",
            "[::1]",
            &"a".repeat(64),
        ] {
            assert!(check_server_name(bad).is_err(), "{bad:?}");
        }
    }
}
