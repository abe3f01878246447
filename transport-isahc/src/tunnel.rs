//! The raw connection for an upgrade (exec, attach, port-forward):
//! isahc has no upgrade API, so the transport asks libcurl itself for a
//! connect-only connection — the same TLS (CA, client certificate,
//! verification), proxy and connect timeout as every request — and moves
//! bytes with `curl_easy_send`/`curl_easy_recv`, waiting on the socket
//! with `poll` when libcurl has nothing ready.

use std::io;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use curl::easy::Easy;
use kubewire::{Config, Error, Result, error::TransportErrorKind};

/// `CURLINFO_ACTIVESOCKET` (curl 7.45): `CURLINFO_SOCKET + 44`. curl-sys
/// names only the older `CURLINFO_LASTSOCKET`.
const CURLINFO_ACTIVESOCKET: curl_sys::CURLINFO = 0x0050_0000 + 44;

/// How long one wait on the socket lasts before `shutdown` is checked.
const WAIT: c_int = 200;

/// What every tunnel is opened with.
#[derive(Clone)]
pub(crate) struct TunnelConfig {
    ca: Option<Vec<u8>>,
    client: Option<(Vec<u8>, kubewire::config::Sensitive)>,
    insecure: bool,
    user_agent: String,
    connect_timeout: Option<Duration>,
    proxy: Option<String>,
    route: Option<crate::ServerNameRoute>,
}

impl std::fmt::Debug for TunnelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TunnelConfig")
            .field("insecure", &self.insecure)
            .field("connect_timeout", &self.connect_timeout)
            .field(
                "proxy",
                &self.proxy.as_deref().map(kubewire::config::redacted_url),
            )
            .finish_non_exhaustive()
    }
}

fn curl_error(what: &str, e: &curl::Error) -> Error {
    let kind = if e.is_couldnt_connect() || e.is_couldnt_resolve_host() {
        TransportErrorKind::Connect
    } else if e.is_operation_timedout() {
        TransportErrorKind::Timeout
    } else if e.is_ssl_connect_error()
        || e.is_peer_failed_verification()
        || e.is_ssl_certproblem()
        || e.description().to_lowercase().contains("ssl")
    {
        TransportErrorKind::Tls
    } else {
        TransportErrorKind::Io
    };
    let detail = e
        .extra_description()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    Error::Transport {
        kind,
        message: format!("{what}: {}{detail}", e.description()),
    }
}

impl TunnelConfig {
    pub(crate) fn new(
        config: &Config,
        connect_timeout: Option<Duration>,
        proxy: Option<String>,
        route: Option<crate::ServerNameRoute>,
    ) -> TunnelConfig {
        let creds = &config.credentials;
        TunnelConfig {
            ca: creds.certificate_authority.clone(),
            client: creds
                .client_certificate
                .as_ref()
                .map(|c| (c.certificate_pem.clone(), c.key_pem.clone())),
            insecure: creds.insecure_skip_verify,
            user_agent: config.user_agent.clone(),
            connect_timeout,
            proxy,
            route,
        }
    }

    /// Connects to the server `uri` names.
    pub(crate) fn open(&self, uri: &http::Uri) -> Result<Box<dyn kubewire::Tunnel>> {
        Ok(Box::new(self.connect(uri)?))
    }

    /// What the server said when it broke a connection off right after
    /// the TLS handshake: under TLS 1.3 a server refuses a client
    /// certificate (or its absence) with an alert after the handshake,
    /// which libcurl reports to isahc as a bare receive failure. A fresh
    /// connect-only connection reads that alert, with OpenSSL's words, in
    /// at most a second; `None` when the server says nothing of the kind.
    pub(crate) fn handshake_refusal(&self, uri: &http::Uri) -> Option<String> {
        if uri.scheme_str() != Some("https") {
            return None;
        }
        let tunnel = self.connect(uri).ok()?;
        let mut byte = [0u8; 1];
        for _ in 0..10 {
            let mut easy = tunnel.easy();
            let outcome = easy.recv(&mut byte).map_err(|e| io_error(&easy, e));
            drop(easy);
            match outcome {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    tunnel.poll(libc::POLLIN, 100);
                }
                Err(e) => {
                    let words = e.to_string();
                    return words.to_lowercase().contains("alert").then_some(words);
                }
                Ok(_) => return None,
            }
        }
        None
    }

    /// A connected, connect-only libcurl handle.
    fn connect(&self, uri: &http::Uri) -> Result<CurlTunnel> {
        let setup = |e: curl::Error| curl_error("set up the connection", &e);
        let mut easy = Easy::new();
        match &self.route {
            Some(route) => {
                easy.url(&route.rewrite(uri.clone()).to_string())
                    .map_err(setup)?;
                let mut connect_to = curl::easy::List::new();
                connect_to
                    .append(&format!("::{}", route.address()))
                    .map_err(setup)?;
                easy.connect_to(connect_to).map_err(setup)?;
            }
            None => easy.url(&uri.to_string()).map_err(setup)?,
        }
        easy.connect_only(true).map_err(setup)?;
        easy.useragent(&self.user_agent).map_err(setup)?;
        if let Some(ca) = &self.ca {
            easy.ssl_cainfo_blob(ca).map_err(setup)?;
        }
        if let Some((cert, key)) = &self.client {
            easy.ssl_cert_blob(cert).map_err(setup)?;
            easy.ssl_cert_type("PEM").map_err(setup)?;
            easy.ssl_key_blob(key.expose()).map_err(setup)?;
            easy.ssl_key_type("PEM").map_err(setup)?;
        }
        if self.insecure {
            easy.ssl_verify_peer(false).map_err(setup)?;
            easy.ssl_verify_host(false).map_err(setup)?;
        }
        if let Some(t) = self.connect_timeout {
            easy.connect_timeout(t).map_err(setup)?;
        }
        match &self.proxy {
            // Through an HTTP proxy the connection is a CONNECT tunnel.
            Some(proxy) => {
                easy.proxy(proxy).map_err(setup)?;
                easy.http_proxy_tunnel(true).map_err(setup)?;
            }
            // libcurl's own reading of the environment stays off.
            None => easy.proxy("").map_err(setup)?,
        }
        easy.perform().map_err(|e| {
            curl_error(
                &format!("connect to {}", uri.authority().map_or("", |a| a.as_str())),
                &e,
            )
        })?;
        let mut socket: curl_sys::curl_socket_t = -1;
        // SAFETY: the handle is live and connected; ACTIVESOCKET writes one
        // curl_socket_t through the pointer.
        #[allow(unsafe_code)]
        let rc = unsafe {
            curl_sys::curl_easy_getinfo(easy.raw(), CURLINFO_ACTIVESOCKET, &mut socket as *mut _)
        };
        if rc != curl_sys::CURLE_OK || socket < 0 {
            return Err(Error::Transport {
                kind: TransportErrorKind::Io,
                message: "libcurl did not hand over the connected socket".into(),
            });
        }
        Ok(CurlTunnel {
            easy: Mutex::new(easy),
            socket,
            shut: AtomicBool::new(false),
        })
    }
}

/// A connect-only libcurl connection. libcurl calls are serialized by the
/// lock; waiting for the socket happens without it, so a blocked read
/// never holds up a write.
struct CurlTunnel {
    easy: Mutex<Easy>,
    socket: curl_sys::curl_socket_t,
    shut: AtomicBool,
}

impl CurlTunnel {
    fn easy(&self) -> MutexGuard<'_, Easy> {
        self.easy.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the socket is ready for `events`, or `shutdown`.
    fn wait(&self, events: libc::c_short) -> io::Result<()> {
        loop {
            if self.shut.load(Ordering::Acquire) {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "the connection was shut down",
                ));
            }
            match self.poll(events, WAIT) {
                n if n > 0 => return Ok(()),
                n if n < 0 => {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
                _ => {}
            }
        }
    }

    /// One wait of at most `ms` for `events`: `poll`'s answer.
    fn poll(&self, events: libc::c_short, ms: c_int) -> c_int {
        let mut fd = libc::pollfd {
            fd: self.socket,
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the duration of the call.
        #[allow(unsafe_code)]
        unsafe {
            libc::poll(&mut fd, 1, ms)
        }
    }
}

/// A failed send or receive, with libcurl's own words (its error buffer,
/// which `curl_easy_recv` and `curl_easy_send` fill but do not return).
fn io_error(easy: &Easy, e: curl::Error) -> io::Error {
    if e.is_again() {
        return io::Error::new(io::ErrorKind::WouldBlock, e.description());
    }
    let words = e
        .extra_description()
        .map(str::to_string)
        .or_else(|| easy.take_error_buf());
    io::Error::other(format!(
        "{}{}",
        e.description(),
        words.map(|d| format!(": {d}")).unwrap_or_default()
    ))
}

impl kubewire::Tunnel for CurlTunnel {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // libcurl hands out what it holds in pieces (its buffer is
            // 16 KiB): take all that is ready, up to `buf`.
            let mut easy = self.easy();
            let (mut filled, mut ended) = (0, false);
            while filled < buf.len() && !ended {
                match easy.recv(&mut buf[filled..]) {
                    Ok(0) => ended = true,
                    Ok(n) => filled += n,
                    Err(e) if e.is_again() => break,
                    Err(_) if filled > 0 => break,
                    // The server dropped TCP after the WebSocket close.
                    Err(e) if e.is_recv_error() && self.shut.load(Ordering::Acquire) => {
                        ended = true;
                    }
                    Err(e) => return Err(io_error(&easy, e)),
                }
            }
            if filled > 0 || ended {
                return Ok(filled);
            }
            drop(easy);
            self.wait(libc::POLLIN)?;
        }
    }

    fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let mut easy = self.easy();
            match easy.send(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.is_again() => {
                    drop(easy);
                    self.wait(libc::POLLOUT)?;
                }
                Err(e) => return Err(io_error(&easy, e)),
            }
        }
        Ok(())
    }

    fn shutdown(&self) {
        self.shut.store(true, Ordering::Release);
        // SAFETY: shutting down the socket libcurl owns only ends its
        // traffic; libcurl closes it when the handle drops.
        #[allow(unsafe_code)]
        unsafe {
            libc::shutdown(self.socket, libc::SHUT_RDWR);
        }
    }
}
