//! native-tls over a tunnel's TCP connection, read and written from two
//! threads at once (exec's stdin beside its output, port-forward both
//! ways).
//!
//! A platform TLS stream is one object that reads and writes its socket
//! itself, so a read blocked in it would hold up every write. Here the
//! library runs over a [`Pipe`] in memory instead: the reading thread
//! reads the socket without any lock and hands the ciphertext in; the
//! library's output is collected and written to the socket, in order,
//! under `sending`. The library only ever sees a pipe that says
//! "would block", so no lock is held across the network.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Mutex;

use native_tls::{HandshakeError, TlsConnector, TlsStream};

use super::lock;

/// The library's side of the socket: ciphertext read from the socket and
/// not yet taken, and ciphertext waiting to be sent.
#[derive(Debug, Default)]
struct Pipe {
    incoming: Vec<u8>,
    /// How much of `incoming` the library has taken.
    taken: usize,
    /// The socket has ended: the library reads the end after `incoming`.
    ended: bool,
    outgoing: Vec<u8>,
}

impl Pipe {
    /// Adds what the socket gave; an empty read is its end.
    fn feed(&mut self, data: &[u8]) {
        if data.is_empty() {
            self.ended = true;
        } else {
            self.incoming.drain(..self.taken);
            self.taken = 0;
            self.incoming.extend_from_slice(data);
        }
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.incoming[self.taken..];
        if rest.is_empty() {
            return if self.ended {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.taken += n;
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.outgoing.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A TLS tunnel whose reads never hold up its writes.
pub(crate) struct TlsTunnel {
    tcp: TcpStream,
    tls: Mutex<TlsStream<Pipe>>,
    /// Held while ciphertext goes to the socket, so that it goes in order.
    sending: Mutex<()>,
}

impl TlsTunnel {
    /// Completes a handshake with the server `name` over `tcp`.
    pub(crate) fn handshake(
        connector: &TlsConnector,
        name: &str,
        tcp: TcpStream,
    ) -> io::Result<TlsTunnel> {
        let mut raw = vec![0u8; 16 * 1024];
        let mut attempt = connector.connect(name, Pipe::default());
        let tls = loop {
            match attempt {
                Ok(tls) => break tls,
                Err(HandshakeError::Failure(e)) => return Err(io::Error::other(e)),
                Err(HandshakeError::WouldBlock(mut mid)) => {
                    let pipe = mid.get_mut();
                    (&tcp).write_all(&std::mem::take(&mut pipe.outgoing))?;
                    let n = (&tcp).read(&mut raw)?;
                    pipe.feed(&raw[..n]);
                    attempt = mid.handshake();
                }
            }
        };
        let tunnel = TlsTunnel {
            tcp,
            tls: Mutex::new(tls),
            sending: Mutex::new(()),
        };
        // The handshake's last flight (the client's Finished).
        tunnel.send_pending()?;
        Ok(tunnel)
    }

    /// Sends whatever the library has written.
    fn send_pending(&self) -> io::Result<()> {
        super::send_pending(&self.sending, &self.tls, &self.tcp, |tls| {
            Ok(std::mem::take(&mut tls.get_mut().outgoing))
        })
    }
}

impl kubewire::Tunnel for TlsTunnel {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        // One TLS record's worth, on the stack: no allocation per read.
        let mut raw = [0u8; 16 * 1024];
        loop {
            let replies = {
                let mut tls = lock(&self.tls);
                match tls.read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    // The server dropped TCP without close_notify, as the
                    // apiserver does after a WebSocket close: the end.
                    Err(_) if tls.get_ref().ended => return Ok(0),
                    Err(e) => return Err(e),
                }
                !tls.get_ref().outgoing.is_empty()
            };
            // What the library wants sent on reading (alerts, key updates)
            // goes now, after any write under way.
            if replies {
                self.send_pending()?;
            }
            let n = (&self.tcp).read(&mut raw)?;
            lock(&self.tls).get_mut().feed(&raw[..n]);
        }
    }

    fn write_all(&self, data: &[u8]) -> io::Result<()> {
        lock(&self.tls).write_all(data)?;
        self.send_pending()
    }

    fn shutdown(&self) {
        let _ = self.tcp.shutdown(Shutdown::Both);
    }
}
