//! kubeconfig's `tls-server-name` on libcurl, which has no option for it:
//! the URL names the server by that name (so the SNI and the certificate
//! check use it), and libcurl's `CONNECT_TO` sends the connection to the
//! configured server's address. The configured host is resolved once,
//! when the transport is built: a server whose address changes later
//! needs a new transport.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use http::uri::{Authority, Uri};
use kubewire::{Config, Error, Result, error::TransportErrorKind};

/// Where requests to the configured server really go.
#[derive(Clone, Debug)]
pub(crate) struct ServerNameRoute {
    /// The configured server's authority, as the core writes it in URLs.
    server: Authority,
    /// The same with the host replaced by `tls-server-name`.
    named: Authority,
    /// The configured server's address.
    address: SocketAddr,
}

impl ServerNameRoute {
    /// The route `config` asks for; `None` without `tls-server-name`.
    pub(crate) fn new(config: &Config) -> Result<Option<ServerNameRoute>> {
        let Some(name) = config.tls_server_name.as_deref() else {
            return Ok(None);
        };
        let invalid = |why: String| Error::Transport {
            kind: TransportErrorKind::Config,
            message: format!("kubeconfig tls-server-name {name:?}: {why}"),
        };
        let base: Uri = config
            .base_url()
            .parse()
            .map_err(|e| invalid(format!("the server URL: {e}")))?;
        let server = base
            .authority()
            .cloned()
            .ok_or_else(|| invalid("the server URL has no host".into()))?;
        let https = base.scheme_str() == Some("https");
        let port = server.port_u16().unwrap_or(if https { 443 } else { 80 });
        let host = server.host().trim_start_matches('[').trim_end_matches(']');
        let address = match host.parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) => (host, port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut addrs| addrs.next())
                .ok_or_else(|| Error::Transport {
                    kind: TransportErrorKind::Connect,
                    message: format!(
                        "resolve {host} (the server, reached by its address because of \
                         tls-server-name {name:?}): no address"
                    ),
                })?,
        };
        let named = match server.port() {
            Some(port) => format!("{name}:{port}"),
            None => name.to_string(),
        }
        .parse::<Authority>()
        .map_err(|e| invalid(e.to_string()))?;
        Ok(Some(ServerNameRoute {
            server,
            named,
            address,
        }))
    }

    /// `uri` naming the server by `tls-server-name`; other URLs unchanged.
    pub(crate) fn rewrite(&self, uri: Uri) -> Uri {
        if uri.authority() != Some(&self.server) {
            return uri;
        }
        let mut parts = uri.into_parts();
        parts.authority = Some(self.named.clone());
        // The parts came from a valid URI and only the host changed.
        Uri::from_parts(parts).expect("a URI with another valid authority")
    }

    /// The configured server's address.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(server: &str, name: &str) -> ServerNameRoute {
        let mut config = Config::new(server).unwrap();
        config.tls_server_name = Some(name.into());
        ServerNameRoute::new(&config).unwrap().unwrap()
    }

    #[test]
    fn the_url_names_the_server_by_tls_server_name_and_keeps_port_path_and_query() {
        let r = route("https://127.0.0.1:6443", "api.internal");
        let uri: Uri = "https://127.0.0.1:6443/api/v1/pods?limit=1"
            .parse()
            .unwrap();
        assert_eq!(
            r.rewrite(uri).to_string(),
            "https://api.internal:6443/api/v1/pods?limit=1"
        );
        assert_eq!(r.address(), "127.0.0.1:6443".parse().unwrap());
    }

    #[test]
    fn other_hosts_and_ipv6_servers() {
        let r = route("https://[::1]", "api.internal");
        assert_eq!(r.address(), "[::1]:443".parse().unwrap());
        let other: Uri = "https://example.test/x".parse().unwrap();
        assert_eq!(r.rewrite(other.clone()), other);
        let own: Uri = "https://[::1]/x".parse().unwrap();
        assert_eq!(r.rewrite(own).to_string(), "https://api.internal/x");
    }

    #[test]
    fn a_name_that_is_not_a_host_is_refused_naming_the_field() {
        let mut config = Config::new("https://127.0.0.1:6443").unwrap();
        config.tls_server_name = Some("bad name/x".into());
        let err = ServerNameRoute::new(&config).unwrap_err().to_string();
        assert!(err.contains("tls-server-name"), "{err}");
    }
}
