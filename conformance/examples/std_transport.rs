//! A kubewire transport in one file, to copy: blocking HTTP/1.1 on
//! `std::net` with `rustls`, one connection per request. Implementing
//! `Transport` (send one request, hand back a readable body; open a raw
//! connection for exec and port-forward) and `Connect` is all it takes: the views, watches, retries and every other behaviour
//! come from the core, and the test module at the end runs the whole
//! conformance and facade suites over it with two lines.
//!
//! ```text
//! cargo run -p kubewire-conformance --example std_transport   # lists namespaces from a replay
//! cargo test -p kubewire-conformance --example std_transport  # both suites
//! ```
//!
//! Not done here, for brevity: connection reuse, proxies,
//! `insecure-skip-tls-verify` (refused with an error naming it).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kubewire::error::TransportErrorKind as K;
use kubewire::{Config, Error, RequestKind, Result, TransportOptions};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// The transport: where to connect, and how to speak TLS there.
#[derive(Clone, Debug)]
struct StdTransport {
    authority: String,
    /// The name the certificate must carry: kubeconfig's
    /// `tls-server-name`, else the host.
    server_name: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
}

fn fail(kind: K, message: impl std::fmt::Display) -> Error {
    Error::Transport {
        kind,
        message: message.to_string(),
    }
}

/// A TLS failure surfaces as an `io::Error` wrapping a `rustls::Error`.
fn io_failure(server: &str, e: &io::Error) -> Error {
    let timeout = matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    );
    let kind = match e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
        true => K::Tls,
        false if timeout => K::Timeout,
        false => K::Io,
    };
    fail(kind, format!("{server}: {e}"))
}

fn tls_config(config: &Config) -> Result<rustls::ClientConfig> {
    let creds = &config.credentials;
    if creds.insecure_skip_verify {
        return Err(fail(K::Config, "insecure-skip-tls-verify is not supported"));
    }
    let tls = |what: &str, e: &dyn std::fmt::Display| fail(K::Tls, format!("{what}: {e}"));
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = &creds.certificate_authority {
        for cert in CertificateDer::pem_slice_iter(ca) {
            let cert = cert.map_err(|e| tls("certificate authority", &e))?;
            roots
                .add(cert)
                .map_err(|e| tls("certificate authority", &e))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls("protocol versions", &e))?
        .with_root_certificates(roots);
    match &creds.client_certificate {
        None => Ok(builder.with_no_client_auth()),
        Some(client) => {
            let chain = CertificateDer::pem_slice_iter(&client.certificate_pem)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| tls("client certificate", &e))?;
            let key = PrivateKeyDer::from_pem_slice(client.key_pem.expose())
                .map_err(|e| tls("client key", &e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls("client certificate", &e))
        }
    }
}

impl kubewire::Connect for StdTransport {
    fn connect(config: &Config, options: &TransportOptions) -> Result<StdTransport> {
        if options.proxy.is_some() {
            return Err(fail(K::Config, "proxies are not supported"));
        }
        let uri = config.url("/", "")?;
        let host = uri.host().unwrap_or("localhost");
        let port = uri
            .port_u16()
            .unwrap_or(if config.is_https() { 443 } else { 80 });
        Ok(StdTransport {
            authority: format!("{host}:{port}"),
            server_name: config
                .tls_server_name
                .clone()
                .unwrap_or_else(|| host.trim_matches(['[', ']']).to_string()),
            tls: config
                .is_https()
                .then(|| tls_config(config).map(Arc::new))
                .transpose()?,
            connect_timeout: options.connect_timeout,
            request_timeout: options.request_timeout,
        })
    }
}

/// A plain or TLS connection.
trait Connection: Read + Write + Send {}
impl<T: Read + Write + Send> Connection for T {}

impl StdTransport {
    fn open(&self, kind: RequestKind) -> Result<Box<dyn Connection>> {
        // Ordinary requests get the request timeout per read; streams none.
        let read_limit = (kind == RequestKind::Normal)
            .then_some(self.request_timeout)
            .flatten();
        Ok(self.dial(read_limit)?.0)
    }

    /// A connection, and its socket (to shut down).
    fn dial(&self, read_limit: Option<Duration>) -> Result<(Box<dyn Connection>, TcpStream)> {
        let connect = |e: io::Error| fail(K::Connect, format!("{}: {e}", self.authority));
        let addr = self.authority.to_socket_addrs().map_err(connect)?.next();
        let addr = addr.ok_or_else(|| connect(io::Error::other("no address")))?;
        let tcp = match self.connect_timeout {
            Some(limit) => TcpStream::connect_timeout(&addr, limit),
            None => TcpStream::connect(addr),
        }
        .map_err(connect)?;
        let socket = tcp.try_clone().map_err(connect)?;
        let Some(tls) = &self.tls else {
            tcp.set_read_timeout(read_limit).map_err(connect)?;
            return Ok((Box::new(tcp), socket));
        };
        let name =
            ServerName::try_from(self.server_name.clone()).map_err(|e| fail(K::Config, e))?;
        let mut session =
            rustls::ClientConnection::new(tls.clone(), name).map_err(|e| fail(K::Tls, e))?;
        // The handshake now, so that its failure is a TLS error here.
        tcp.set_read_timeout(self.connect_timeout)
            .map_err(connect)?;
        while session.is_handshaking() {
            let mut io = &tcp;
            session
                .complete_io(&mut io)
                .map_err(|e| io_failure(&self.authority, &e))?;
        }
        tcp.set_read_timeout(read_limit).map_err(connect)?;
        Ok((Box::new(rustls::StreamOwned::new(session, tcp)), socket))
    }
}

/// An upgraded connection (exec, attach, port-forward): one lock, and
/// reads that wait 20 ms at a time so a write never waits long for it
/// (simple rather than fast).
struct StdTunnel {
    conn: std::sync::Mutex<Box<dyn Connection>>,
    socket: TcpStream,
}

impl kubewire::Tunnel for StdTunnel {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
            match conn.read(buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                other => return other,
            }
        }
    }

    fn write_all(&self, data: &[u8]) -> io::Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.write_all(data).and_then(|()| conn.flush())
    }

    fn shutdown(&self) {
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
    }
}

impl kubewire::Transport for StdTransport {
    type Body = StdBody;

    fn open_tunnel(&self, _uri: &http::Uri) -> Result<Box<dyn kubewire::Tunnel>> {
        let (conn, socket) = self.dial(Some(Duration::from_millis(20)))?;
        Ok(Box::new(StdTunnel {
            conn: std::sync::Mutex::new(conn),
            socket,
        }))
    }

    fn send(
        &self,
        request: http::Request<Bytes>,
        kind: RequestKind,
    ) -> Result<http::Response<StdBody>> {
        let mut conn = self.open(kind)?;
        let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let mut head = format!(
            "{} {target} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n",
            request.method(),
            self.authority
        );
        for (name, value) in request.headers() {
            if name != http::header::HOST && name != http::header::CONNECTION {
                let value = value.to_str().map_err(|e| fail(K::Config, e))?;
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        // A GET (or a DELETE without options) has no body to announce.
        if kubewire::client::sends_body(request.method(), request.body()) {
            head.push_str(&format!("content-length: {}\r\n", request.body().len()));
        }
        head.push_str("\r\n");
        let out = [head.as_bytes(), request.body()].concat();
        let sent = conn.write_all(&out).and_then(|()| conn.flush());
        sent.map_err(|e| io_failure(&self.authority, &e))?;
        let mut reader = BufReader::new(conn);
        let mut raw = Vec::new();
        while !raw.ends_with(b"\r\n\r\n") {
            let n = reader
                .read_until(b'\n', &mut raw)
                .map_err(|e| io_failure(&self.authority, &e))?;
            if n == 0 {
                return Err(fail(
                    K::Io,
                    format!("{}: connection closed before an answer", self.authority),
                ));
            }
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut headers);
        parsed
            .parse(&raw)
            .map_err(|e| fail(K::Io, format!("bad answer: {e}")))?;
        let status = parsed.code.unwrap_or(0);
        let mut response = http::Response::builder().status(status);
        let (mut length, mut chunked) = (None, false);
        for h in parsed.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                length = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok());
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = h.value.eq_ignore_ascii_case(b"chunked");
            }
            response = response.header(h.name, h.value);
        }
        let framing = match (status, chunked, length) {
            (204 | 304, _, _) => Framing::Length(0),
            (_, true, _) => Framing::Chunked(0, false, false),
            (_, false, Some(n)) => Framing::Length(n),
            _ => Framing::UntilClose,
        };
        response
            .body(StdBody { reader, framing })
            .map_err(|e| fail(K::Io, e))
    }
}

/// How a body ends: after a length, after the last chunk (bytes left in
/// this chunk, a chunk was started, the last was read), or at close.
enum Framing {
    Length(u64),
    Chunked(u64, bool, bool),
    UntilClose,
}

/// An answer's body, read as it arrives (chunked, sized or until close).
struct StdBody {
    reader: BufReader<Box<dyn Connection>>,
    framing: Framing,
}

fn line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut text = String::new();
    if reader.read_line(&mut text)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(text.trim_end().to_string())
}

impl Read for StdBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let reader = &mut self.reader;
        let left = match &mut self.framing {
            Framing::UntilClose => return reader.read(buf),
            Framing::Length(left) => left,
            Framing::Chunked(left, started, done) => {
                while *left == 0 && !*done {
                    if *started {
                        line(reader)?; // the CRLF closing the last chunk
                    }
                    *started = true;
                    let size = line(reader)?;
                    let size = size.split(';').next().unwrap_or("").trim();
                    *left = u64::from_str_radix(size, 16).map_err(|_| {
                        io::Error::new(io::ErrorKind::InvalidData, "bad chunk size")
                    })?;
                    if *left == 0 {
                        while !line(reader)?.is_empty() {} // trailers
                        *done = true;
                    }
                }
                left
            }
        };
        if *left == 0 {
            return Ok(0);
        }
        let max = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
        let n = reader.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        *left -= n as u64;
        Ok(n)
    }
}

/// Lists namespaces through this transport, from a replay of recorded
/// apiserver traffic.
fn main() -> Result<()> {
    let fixture = kubewire_conformance::suite::corpus_fixture("seed-quickstart");
    let server = kubewire_conformance::ReplayServer::start(vec![fixture]).expect("replay server");
    let cluster = kubewire::Cluster::<StdTransport>::new(&server.base_url())?;
    for namespace in cluster.namespaces().iter()? {
        println!("{}", namespace?.meta().name());
    }
    Ok(())
}

#[cfg(test)]
mod suites {
    use kubewire_conformance::{Driver, TransportDriver, conformance_suite, facade_suite};

    use kubewire::Connect as _;

    conformance_suite!(std_transport, |base: &str| Box::new(TransportDriver::new(
        "std",
        base,
        |c| super::StdTransport::connect(c, &Default::default())
    )) as Box<dyn Driver>);
    facade_suite!(std_transport_facade, super::StdTransport);
}
