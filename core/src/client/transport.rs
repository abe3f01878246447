//! The one thing a transport does: send a request, hand back the answer
//! with a body readable as it arrives — blocking ([`Transport`]) or async
//! ([`AsyncTransport`]).

use std::io::{self, Read};
use std::time::Duration;

use bytes::Bytes;

use crate::client::driver::{BoxFuture, Driver};
use crate::client::nonblocking::Async;
use crate::config::Config;
use crate::error::Result;

/// What a request is for; transports pick their timeouts from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestKind {
    /// An ordinary request: the configured request timeout applies.
    Normal,
    /// A watch or a followed log: long-lived, never killed by the request
    /// timeout (only connect and idle limits apply).
    Stream,
}

/// Whether a request with this method and body has a body to send. One
/// whose method takes none (GET, HEAD, DELETE, OPTIONS) and whose body is
/// empty has none: a transport sends it without one, not with an empty
/// one (`Content-Length: 0`). Anything else is sent as it is, an empty
/// body included.
///
/// ```
/// use http::Method;
/// use kubewire::client::sends_body;
/// assert!(!sends_body(&Method::GET, b""));
/// assert!(sends_body(&Method::DELETE, br#"{"propagationPolicy":"Foreground"}"#));
/// assert!(sends_body(&Method::POST, b""));
/// ```
pub fn sends_body(method: &http::Method, body: &[u8]) -> bool {
    use http::Method;
    let takes_none = [Method::GET, Method::HEAD, Method::DELETE, Method::OPTIONS].contains(method);
    !(body.is_empty() && takes_none)
}

/// A blocking HTTP transport. Implementations move bytes and set up TLS,
/// proxies and timeouts; every protocol behaviour lives in the core.
///
/// A non-2xx status is a normal answer, not an error: the core decodes it.
/// Failures to talk at all are [`crate::Error::Transport`].
///
/// A transport that answers from memory, and the whole facade on top:
///
/// ```
/// use kubewire::{Cluster, Config, RequestKind, Transport};
/// #[derive(Debug)]
/// struct Canned;
/// impl Transport for Canned {
///     type Body = std::io::Cursor<&'static [u8]>;
///     fn send(&self, request: http::Request<bytes::Bytes>, _: RequestKind)
///         -> kubewire::Result<http::Response<Self::Body>> {
///         assert_eq!(request.uri().path(), "/api/v1/namespaces/demo/pods/web-0");
///         Ok(http::Response::new(std::io::Cursor::new(br#"{"kind":"Pod","apiVersion":"v1",
///             "metadata":{"name":"web-0","namespace":"demo","resourceVersion":"7"}}"#.as_slice())))
///     }
/// }
/// let cluster = Cluster::with_transport(Config::default(), Canned);
/// let pod = cluster.pods().fetch("web-0", Some("demo"))?;
/// assert_eq!(pod.meta().version(), "7");
/// # Ok::<(), kubewire::Error>(())
/// ```
pub trait Transport: Send + Sync + 'static {
    /// The body of an answer, read incrementally.
    type Body: Read + Send + 'static;

    /// Sends one request.
    fn send(
        &self,
        request: http::Request<Bytes>,
        kind: RequestKind,
    ) -> Result<http::Response<Self::Body>>;

    /// Opens a raw byte stream to the server `uri` names — TCP, with TLS
    /// for `https` set up exactly as for [`Transport::send`] — for a
    /// connection the core upgrades itself (exec, attach, port-forward):
    /// the core writes the HTTP/1.1 upgrade request and speaks WebSocket
    /// over it. The default refuses; the kubewire transports implement it.
    fn open_tunnel(&self, uri: &http::Uri) -> Result<Box<dyn Tunnel>> {
        Err(no_tunnel(uri))
    }
}

/// A raw two-way byte stream to the server, for an upgraded connection.
/// One thread may read while another writes; [`Tunnel::shutdown`] ends
/// both directions and wakes a blocked read.
pub trait Tunnel: Send + Sync + 'static {
    /// Reads what has arrived, blocking until something has; `Ok(0)` at
    /// the end of the stream.
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;

    /// Writes all of `data`.
    fn write_all(&self, data: &[u8]) -> io::Result<()>;

    /// Ends the connection in both directions.
    fn shutdown(&self);
}

fn no_tunnel(uri: &http::Uri) -> crate::Error {
    crate::Error::Transport {
        kind: crate::error::TransportErrorKind::Config,
        message: format!(
            "this transport cannot open a raw connection to {} (needed by exec, attach and port-forward)",
            crate::config::redacted_url(&uri.to_string())
        ),
    }
}

/// A transport that can be built from a [`Config`] and
/// [`TransportOptions`], so that `Cluster::<T>::new(url)`,
/// `Cluster::<T>::from_env()` and `Cluster::<T>::with_options(..)` work.
pub trait Connect: Transport + Sized {
    /// A transport for `config`'s server, TLS and credentials.
    fn connect(config: &Config, options: &TransportOptions) -> Result<Self>;
}

/// An async HTTP transport: like [`Transport`], with a future for the
/// answer and a `futures-io` `AsyncRead` body; runtime-agnostic. Wrap it in
/// [`Async`] to make a cluster of it:
///
/// ```no_run
/// # fn demo<T: kubewire::AsyncTransport + std::fmt::Debug>(transport: T) {
/// use kubewire::{Async, AsyncCluster, Config};
/// let cluster = AsyncCluster::with_transport(Config::default(), Async::new(transport));
/// # }
/// ```
pub trait AsyncTransport: Send + Sync + 'static {
    /// The body of an answer, read as it arrives.
    type Body: futures_io::AsyncRead + Send + Unpin + 'static;

    /// Sends one request.
    fn send(
        &self,
        request: http::Request<Bytes>,
        kind: RequestKind,
    ) -> BoxFuture<'_, Result<http::Response<Self::Body>>>;

    /// Opens a raw byte stream to the server, as [`Transport::open_tunnel`]
    /// does. Blocking: the core calls it, and uses the tunnel, on helper
    /// threads of its own, never on the executor.
    fn open_tunnel(&self, uri: &http::Uri) -> Result<Box<dyn Tunnel>> {
        Err(no_tunnel(uri))
    }
}

/// An async transport built from a [`Config`] and [`TransportOptions`].
pub trait AsyncConnect: AsyncTransport + Sized {
    /// A transport for `config`'s server, TLS and credentials.
    fn connect(config: &Config, options: &TransportOptions) -> Result<Self>;
}

/// A [`Driver`] that can be built from a [`Config`] and
/// [`TransportOptions`], so that `Cluster::<D>::new(url)`,
/// `from_env()` and `with_options(..)` work: every [`Connect`] transport,
/// and [`Async`] over every [`AsyncConnect`] one.
pub trait ConnectDriver: Driver + Sized {
    /// The driver for `config`'s server, TLS and credentials.
    fn connect_driver(config: &Config, options: &TransportOptions) -> Result<Self>;
}

impl<T: Connect + std::fmt::Debug> ConnectDriver for T {
    fn connect_driver(config: &Config, options: &TransportOptions) -> Result<T> {
        T::connect(config, options)
    }
}

impl<T: AsyncConnect + std::fmt::Debug> ConnectDriver for Async<T> {
    fn connect_driver(config: &Config, options: &TransportOptions) -> Result<Async<T>> {
        Ok(Async::new(T::connect(config, options)?))
    }
}

/// Connection options every transport honours the same way.
///
/// ```
/// use std::time::Duration;
/// let mut options = kubewire::TransportOptions::default();
/// options.request_timeout = Some(Duration::from_secs(30));
/// options.trust_env = false; // ignore HTTPS_PROXY and friends
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportOptions {
    /// Time allowed to connect (TCP and TLS).
    pub connect_timeout: Option<Duration>,
    /// Time allowed for a whole ordinary request; never applied to
    /// [`RequestKind::Stream`] requests (watches, followed logs).
    pub request_timeout: Option<Duration>,
    /// Use `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` from the environment, by
    /// kubectl's rules ([`crate::config::Config::proxy`]).
    pub trust_env: bool,
    /// An explicit proxy URL (wins over the environment).
    pub proxy: Option<String>,
}

impl TransportOptions {
    /// The proxy `config`'s server is reached through: the explicit one,
    /// else (with `trust_env`) `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` by
    /// kubectl's rules, else the kubeconfig's `proxy-url` — the same on
    /// every transport.
    ///
    /// ```
    /// let mut options = kubewire::TransportOptions::default();
    /// options.proxy = Some("http://127.0.0.1:3128".into());
    /// let config = kubewire::Config::new("https://10.0.0.1:6443")?;
    /// assert_eq!(options.proxy_for(&config).as_deref(), Some("http://127.0.0.1:3128"));
    /// # Ok::<(), kubewire::Error>(())
    /// ```
    pub fn proxy_for(&self, config: &Config) -> Option<String> {
        match (&self.proxy, self.trust_env) {
            (Some(url), _) => Some(url.clone()),
            (None, true) => config.proxy(&crate::config::ProxyEnv::from_env()),
            (None, false) => config.proxy_url.clone(),
        }
    }
}

impl Default for TransportOptions {
    fn default() -> TransportOptions {
        TransportOptions {
            connect_timeout: Some(Duration::from_secs(30)),
            request_timeout: Some(Duration::from_secs(120)),
            trust_env: true,
            proxy: None,
        }
    }
}
