//! TLS for the requests' connections and the upgrade tunnels, from the
//! configuration's in-memory PEM, by the backend chosen when the crate is
//! built: rustls (feature `rustls`, the default: pure Rust, nothing to
//! install) or the platform's own library through native-tls (feature
//! `native-tls`: OpenSSL on Linux, Security.framework on macOS, SChannel
//! on Windows; it builds faster and links the system's library). With
//! both features on, rustls is used.
//!
//! Both backends give the same [`Tls`] (trust, client certificate,
//! kubeconfig's `tls-server-name`), [`TlsStream`] (TLS over a connection
//! ureq made) and tunnels that are read and written from two threads at
//! once, and [`is_refusal`] tells their refusals from socket errors.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard, PoisonError};

use kubewire::{Error, error::TransportErrorKind};

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
compile_error!(
    "kubewire-ureq needs a TLS backend: the feature `rustls` (the default) or `native-tls`"
);

#[cfg(feature = "rustls")]
mod rustls;
#[cfg(feature = "rustls")]
mod rustls_tunnel;
#[cfg(feature = "rustls")]
use self::rustls as backend;
#[cfg(feature = "rustls")]
pub(crate) use self::rustls::{Tls, is_refusal};

#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
mod native;
#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
mod native_tunnel;
#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
mod pkcs8;
#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
use self::native as backend;
#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
pub(crate) use self::native::{Tls, is_refusal};

/// A TLS connection over ureq's transport, by the backend built in.
pub(crate) struct TlsStream(backend::Stream);

impl TlsStream {
    /// The connection under TLS.
    pub(crate) fn socket(&mut self) -> &mut ureq::unversioned::transport::TransportAdapter {
        backend::socket(&mut self.0)
    }

    /// The connection under TLS, to show.
    pub(crate) fn socket_ref(&self) -> &ureq::unversioned::transport::TransportAdapter {
        backend::socket_ref(&self.0)
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for TlsStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.write(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A failed handshake with `server`: a TLS error when the TLS library
/// said no, else what the socket said.
pub(crate) fn handshake_error(e: io::Error, server: &str) -> Error {
    Error::Transport {
        kind: if is_refusal(&e) {
            TransportErrorKind::Tls
        } else {
            TransportErrorKind::Io
        },
        message: format!("TLS handshake with {server}: {e}"),
    }
}

/// Sends to a tunnel's socket what its TLS library has encrypted (`take`
/// empties the library's output), in order under `sending`, until nothing
/// is left: a read may add some (alerts, key updates) while a write is
/// sending, and is then sent by that write.
fn send_pending<T>(
    sending: &Mutex<()>,
    tls: &Mutex<T>,
    mut socket: &TcpStream,
    take: impl Fn(&mut T) -> io::Result<Vec<u8>>,
) -> io::Result<()> {
    let _sending = lock(sending);
    loop {
        let out = take(&mut lock(tls))?;
        if out.is_empty() {
            return Ok(());
        }
        socket.write_all(&out)?;
    }
}

/// A lock that a panicked holder does not poison: the tunnels' state is
/// consistent between calls.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
