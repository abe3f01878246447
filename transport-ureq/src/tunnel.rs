//! The one connection ureq cannot make: a raw byte stream for an upgrade
//! (exec, attach, port-forward). ureq 3 has no upgrade API, so the
//! transport opens it itself — TCP (through an HTTP proxy's `CONNECT`
//! tunnel when the agent's requests use one), then TLS with the same
//! roots, client certificate and verification as the agent's — and the
//! core speaks HTTP/1.1 and WebSocket over it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

use kubewire::{Config, Error, Result, error::TransportErrorKind};

use crate::tls::Tls;

/// What a tunnel needs to connect: the TLS side (used for `https`), the
/// connect timeout and the proxy.
#[derive(Clone)]
pub(crate) struct TunnelConfig {
    tls: Tls,
    connect_timeout: Option<Duration>,
    proxy: Option<Proxy>,
}

/// An HTTP proxy, reached with `CONNECT`.
#[derive(Clone)]
struct Proxy {
    host: String,
    port: u16,
    /// `Basic ...` from the URL's user and password.
    authorization: Option<String>,
}

impl std::fmt::Debug for TunnelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TunnelConfig")
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field(
                "proxy",
                &self
                    .proxy
                    .as_ref()
                    .map(|p| format!("{}:{}", p.host, p.port)),
            )
            .finish_non_exhaustive()
    }
}

impl TunnelConfig {
    /// The same trust and server name as the agent's requests.
    pub(crate) fn new(
        config: &Config,
        connect_timeout: Option<Duration>,
        proxy: Option<String>,
    ) -> Result<TunnelConfig> {
        let proxy = proxy.as_deref().map(Proxy::parse).transpose()?;
        Ok(TunnelConfig {
            tls: Tls::new(config)?,
            connect_timeout,
            proxy,
        })
    }

    /// The TLS side, shared with the requests' connector.
    pub(crate) fn tls(&self) -> &Tls {
        &self.tls
    }

    /// Connects to the server `uri` names.
    pub(crate) fn open(&self, uri: &http::Uri) -> Result<Box<dyn kubewire::Tunnel>> {
        let host = uri
            .host()
            .ok_or_else(|| crate::config_error(format!("no host in {uri}")))?;
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tcp = match &self.proxy {
            Some(proxy) => proxy.connect(host, port, self.connect_timeout)?,
            None => connect(host, port, self.connect_timeout)?,
        };
        if !https {
            return Ok(Box::new(PlainTunnel(tcp)));
        }
        self.tls.tunnel(host, &format!("{host}:{port}"), tcp)
    }
}

impl Proxy {
    fn parse(url: &str) -> Result<Proxy> {
        let shown = kubewire::config::redacted_url(url);
        let bad = |why: &str| crate::config_error(format!("proxy {shown:?}: {why}"));
        let uri: http::Uri = url.parse().map_err(|_| bad("not a URL"))?;
        match uri.scheme_str() {
            Some("http") | None => {}
            Some(other) => {
                return Err(bad(&format!(
                    "exec, attach and port-forward go through HTTP proxies (CONNECT); \
                     {other} is not one"
                )));
            }
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let authorization = authority.as_str().rsplit_once('@').map(|(user, _)| {
            use base64::Engine as _;
            let user: Vec<u8> = percent_encoding::percent_decode_str(user).collect();
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(user)
            )
        });
        Ok(Proxy {
            host: authority.host().to_string(),
            port: authority.port_u16().unwrap_or(80),
            authorization,
        })
    }

    /// A TCP connection to `host:port` through the proxy's `CONNECT`.
    fn connect(&self, host: &str, port: u16, timeout: Option<Duration>) -> Result<TcpStream> {
        let mut tcp = connect(&self.host, self.port, timeout)?;
        let failed = |why: String| Error::Transport {
            kind: TransportErrorKind::Connect,
            message: format!("proxy {}:{}: {why}", self.host, self.port),
        };
        let mut request = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n");
        if let Some(auth) = &self.authorization {
            request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
        }
        request.push_str("\r\n");
        tcp.write_all(request.as_bytes())
            .map_err(|e| failed(e.to_string()))?;
        // The answer's head, byte by byte: nothing after it may be read
        // here (it belongs to the tunnelled connection).
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match tcp.read(&mut byte) {
                Ok(0) => return Err(failed("closed the connection before answering".into())),
                Ok(_) => head.push(byte[0]),
                Err(e) => return Err(failed(e.to_string())),
            }
            if head.len() > 64 * 1024 {
                return Err(failed("an answer head over 64 KiB".into()));
            }
        }
        let status = String::from_utf8_lossy(&head);
        let status = status.lines().next().unwrap_or_default();
        if status.split(' ').nth(1) != Some("200") {
            return Err(failed(format!("refused the tunnel: {status}")));
        }
        Ok(tcp)
    }
}

fn connect(host: &str, port: u16, timeout: Option<Duration>) -> Result<TcpStream> {
    let connect_error = |message: String| Error::Transport {
        kind: TransportErrorKind::Connect,
        message,
    };
    let addrs = (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()
        .map_err(|e| connect_error(format!("resolve {host}: {e}")))?;
    let mut last = None;
    for addr in addrs {
        let tcp = match timeout {
            Some(t) => TcpStream::connect_timeout(&addr, t),
            None => TcpStream::connect(addr),
        };
        match tcp {
            Ok(tcp) => {
                tcp.set_nodelay(true)
                    .map_err(|e| connect_error(format!("{addr}: {e}")))?;
                return Ok(tcp);
            }
            Err(e) => last = Some(format!("connect to {addr}: {e}")),
        }
    }
    Err(connect_error(
        last.unwrap_or_else(|| format!("{host} has no address")),
    ))
}

/// Plain TCP: `&TcpStream` reads and writes from two threads at once.
#[derive(Debug)]
struct PlainTunnel(TcpStream);

impl kubewire::Tunnel for PlainTunnel {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.0).read(buf)
    }

    fn write_all(&self, data: &[u8]) -> io::Result<()> {
        (&self.0).write_all(data)
    }

    fn shutdown(&self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }
}
