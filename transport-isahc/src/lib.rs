//! # kubewire-isahc
//!
//! A blocking transport for [`kubewire`] on `isahc` (libcurl: HTTP/2,
//! OpenSSL through the system libcurl). It only moves bytes: TLS from the
//! configuration's in-memory PEM, proxies, timeouts. Everything Kubernetes
//! is in the core.
//!
//! ```no_run
//! use kubewire_isahc::Cluster;
//! let cluster = Cluster::new("http://localhost:8001")?; // kubectl proxy
//! for ns in cluster.namespaces().iter()? {
//!     println!("{}", ns?.meta().name());
//! }
//! # Ok::<(), kubewire::Error>(())
//! ```

mod body;
mod refusal;
mod server_name;
#[cfg(unix)]
mod tunnel;
#[cfg(not(unix))]
#[path = "tunnel_unsupported.rs"]
mod tunnel;

use bytes::Bytes;
use isahc::config::{Configurable, RedirectPolicy};
use isahc::error::ErrorKind;
use isahc::tls::{Identity, PrivateKey, TlsConfig, TrustStore};
use kubewire::{Config, Error, RequestKind, Result, TransportOptions, error::TransportErrorKind};

pub use body::ResponseBody;
use server_name::ServerNameRoute;

/// A kubewire cluster over isahc.
pub type Cluster = kubewire::Cluster<IsahcTransport>;

/// An async kubewire cluster over isahc: runs on any executor (libcurl's
/// own thread drives the IO); watches are `futures_core::Stream`s.
pub type AsyncCluster = kubewire::AsyncCluster<IsahcTransport>;

/// The isahc transport: one client for ordinary requests (with the request
/// timeout) and one for streams (without), each pooling its connections.
#[derive(Clone, Debug)]
pub struct IsahcTransport {
    requests: isahc::HttpClient,
    streams: isahc::HttpClient,
    tunnel: tunnel::TunnelConfig,
    /// kubeconfig's `tls-server-name`, when set.
    route: Option<ServerNameRoute>,
}

fn error(kind: TransportErrorKind, message: String) -> Error {
    Error::Transport { kind, message }
}

fn client(
    config: &Config,
    options: &TransportOptions,
    proxy: Option<&str>,
    route: Option<&ServerNameRoute>,
    timeout: Option<std::time::Duration>,
) -> Result<isahc::HttpClient> {
    let creds = &config.credentials;
    let mut tls = TlsConfig::builder().danger_accept_invalid_certs(creds.insecure_skip_verify);
    if let Some(ca) = &creds.certificate_authority {
        tls = tls.trust_store(TrustStore::builder().certificate_from_pem(ca).build());
    }
    if let Some(client) = &creds.client_certificate {
        let key = PrivateKey::from_pem(client.key_pem.expose().to_vec(), None);
        tls = tls.identity(Identity::from_pem(
            client.certificate_pem.clone(),
            Some(key),
        ));
    }
    let mut builder = isahc::HttpClient::builder()
        .tls_config(tls.build())
        .redirect_policy(RedirectPolicy::None)
        .automatic_decompression(false);
    // No default headers: every request the core builds carries its
    // user-agent, and a default header would put isahc's header-merging
    // step (two boxed futures) in front of every request.
    if let Some(t) = options.connect_timeout {
        builder = builder.connect_timeout(t);
    }
    if let Some(t) = timeout {
        builder = builder.timeout(t);
    }
    if let Some(route) = route {
        builder = builder.dial(isahc::net::Dialer::ip_socket(route.address()));
    }
    // libcurl's own reading of the environment is switched off: the proxy
    // is chosen by kubectl's rules, as on every transport.
    builder = match proxy {
        Some(url) => builder.proxy(Some(url.parse::<http::Uri>().map_err(|e| {
            error(
                TransportErrorKind::Config,
                format!("proxy {:?}: {e}", kubewire::config::redacted_url(url)),
            )
        })?)),
        None => builder.proxy(None),
    };
    builder
        .build()
        .map_err(|e| error(TransportErrorKind::Config, e.to_string()))
}

impl IsahcTransport {
    /// A transport for `config`'s server, TLS and credentials.
    pub fn new(config: &Config, options: &TransportOptions) -> Result<IsahcTransport> {
        let proxy = options.proxy_for(config);
        let route = ServerNameRoute::new(config)?;
        let client = |timeout| client(config, options, proxy.as_deref(), route.as_ref(), timeout);
        Ok(IsahcTransport {
            requests: client(options.request_timeout)?,
            streams: client(None)?,
            tunnel: tunnel::TunnelConfig::new(
                config,
                options.connect_timeout,
                proxy.clone(),
                route.clone(),
            ),
            route,
        })
    }
}

impl IsahcTransport {
    /// The request as isahc takes it, naming the server by
    /// `tls-server-name` when the kubeconfig gives one.
    fn prepare(&self, request: http::Request<Bytes>) -> http::Request<isahc::AsyncBody> {
        let (mut parts, body) = request.into_parts();
        if let Some(route) = &self.route {
            parts.uri = route.rewrite(std::mem::take(&mut parts.uri));
        }
        let body = request_body(&parts.method, body);
        http::Request::from_parts(parts, body)
    }
}

/// A request's body as isahc takes it. isahc uploads any body it is
/// given, an empty one too: a GET with an empty body went out in
/// libcurl's upload mode, with `Content-Length: 0` and a read callback.
fn request_body(method: &http::Method, body: Bytes) -> isahc::AsyncBody {
    if kubewire::client::sends_body(method, &body) {
        isahc::AsyncBody::from(body.to_vec())
    } else {
        isahc::AsyncBody::empty()
    }
}

/// The error and what caused it (libcurl's own words, where isahc's say
/// only "unknown error").
fn describe(e: &isahc::Error) -> String {
    let mut words = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        let text = err.to_string();
        if !words.contains(&text) && text != "unknown error" {
            words.push(text);
        }
        source = err.source();
    }
    words.join(": ")
}

fn transport_error(e: isahc::Error) -> Error {
    let kind = match e.kind() {
        ErrorKind::ConnectionFailed | ErrorKind::NameResolution => TransportErrorKind::Connect,
        ErrorKind::Timeout => TransportErrorKind::Timeout,
        ErrorKind::BadServerCertificate
        | ErrorKind::BadClientCertificate
        | ErrorKind::TlsEngine => TransportErrorKind::Tls,
        ErrorKind::ClientInitialization | ErrorKind::InvalidRequest => TransportErrorKind::Config,
        // libcurl reports a handshake the server refused (no or a rejected
        // client certificate) as a receive error whose words name TLS.
        _ if ["ssl", "tls"]
            .iter()
            .any(|w| describe(&e).to_lowercase().contains(w)) =>
        {
            TransportErrorKind::Tls
        }
        _ => TransportErrorKind::Io,
    };
    let words = describe(&e);
    error(
        kind,
        if words.is_empty() {
            e.to_string()
        } else {
            words
        },
    )
}

impl kubewire::Connect for IsahcTransport {
    fn connect(config: &Config, options: &TransportOptions) -> Result<IsahcTransport> {
        IsahcTransport::new(config, options)
    }
}

impl kubewire::Transport for IsahcTransport {
    type Body = ResponseBody;

    fn send(
        &self,
        request: http::Request<Bytes>,
        kind: RequestKind,
    ) -> Result<http::Response<ResponseBody>> {
        // Not isahc's blocking `send`: it moves its whole request future
        // (about 18 KB) on every call, where the boxed future of
        // `send_async` moves as one pointer.
        let send = kubewire::AsyncTransport::send(self, request, kind);
        let response = futures_lite::future::block_on(send)?;
        Ok(response.map(ResponseBody::new))
    }

    fn open_tunnel(&self, uri: &http::Uri) -> Result<Box<dyn kubewire::Tunnel>> {
        self.tunnel.open(uri)
    }
}

impl kubewire::AsyncConnect for IsahcTransport {
    fn connect(config: &Config, options: &TransportOptions) -> Result<IsahcTransport> {
        IsahcTransport::new(config, options)
    }
}

impl kubewire::AsyncTransport for IsahcTransport {
    type Body = isahc::AsyncBody;

    fn send(
        &self,
        request: http::Request<Bytes>,
        kind: RequestKind,
    ) -> kubewire::BoxFuture<'_, Result<http::Response<isahc::AsyncBody>>> {
        let request = self.prepare(request);
        let uri = request.uri().clone();
        let client = match kind {
            RequestKind::Stream => &self.streams,
            _ => &self.requests,
        };
        Box::pin(async move {
            match client.send_async(request).await {
                Ok(response) => Ok(response),
                Err(e) if refusal::is_receive_failure(&e) => {
                    let tunnel = self.tunnel.clone();
                    let alert = refusal::off_thread(move || tunnel.handshake_refusal(&uri))
                        .await
                        .flatten();
                    Err(refusal::refused(transport_error(e), alert))
                }
                Err(e) => Err(transport_error(e)),
            }
        })
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
        // What libcurl's CURLE_COULDNT_RESOLVE_HOST becomes in isahc.
        match transport_error(ErrorKind::NameResolution.into()) {
            Error::Transport { kind, .. } => assert_eq!(kind, TransportErrorKind::Connect),
            other => panic!("{other:?}"),
        }
    }
}
