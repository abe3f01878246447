//! rustls over a tunnel's TCP connection, read and written from two
//! threads at once (exec's stdin beside its output, port-forward both
//! ways).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Mutex;

use rustls::ClientConnection;

use super::lock;

struct TlsState {
    conn: ClientConnection,
    /// TLS bytes read from the socket that rustls has not taken yet.
    pending: Vec<u8>,
}

/// rustls over TCP, split so that a blocked read never holds up a write:
/// the socket is read without the connection's lock, and encrypted bytes
/// are written without it (in order, under `sending`), as the native-tls
/// tunnel does.
pub(crate) struct TlsTunnel {
    tcp: TcpStream,
    conn: Mutex<TlsState>,
    sending: Mutex<()>,
}

impl TlsTunnel {
    /// Completes `conn`'s handshake over `tcp`.
    pub(crate) fn handshake(mut conn: ClientConnection, tcp: TcpStream) -> io::Result<TlsTunnel> {
        let mut io = &tcp;
        while conn.is_handshaking() {
            conn.complete_io(&mut io)?;
        }
        Ok(TlsTunnel {
            tcp,
            conn: Mutex::new(TlsState {
                conn,
                pending: Vec::new(),
            }),
            sending: Mutex::new(()),
        })
    }

    /// Sends what rustls has encrypted.
    fn send_pending(&self) -> io::Result<()> {
        super::send_pending(&self.sending, &self.conn, &self.tcp, |state| {
            let mut out = Vec::new();
            while state.conn.wants_write() {
                state.conn.write_tls(&mut out)?;
            }
            Ok(out)
        })
    }
}

impl kubewire::Tunnel for TlsTunnel {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        // One TLS record's worth, on the stack: no allocation per read.
        let mut raw = [0u8; 16 * 1024];
        loop {
            {
                let mut state = lock(&self.conn);
                match state.conn.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    // The server dropped TCP without close_notify, as the
                    // apiserver does after a WebSocket close: the end.
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                    Err(e) => return Err(e),
                }
                if !state.pending.is_empty() {
                    let tls = &mut *state;
                    let mut rest = &tls.pending[..];
                    let taken = tls.conn.read_tls(&mut rest)?;
                    tls.pending.drain(..taken);
                    tls.conn.process_new_packets().map_err(io::Error::other)?;
                    let replies = tls.conn.wants_write();
                    drop(state);
                    // What rustls wants sent on reading (alerts, key
                    // updates) goes now, after any write under way.
                    if replies {
                        self.send_pending()?;
                    }
                    continue;
                }
            }
            let n = (&self.tcp).read(&mut raw)?;
            let mut state = lock(&self.conn);
            if n == 0 {
                // Let rustls see the end: it hands out what it holds, then EOF.
                state.conn.read_tls(&mut &[][..])?;
                state.conn.process_new_packets().map_err(io::Error::other)?;
                return match state.conn.reader().read(buf) {
                    Ok(n) => Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                    Err(e) => Err(e),
                };
            }
            state.pending.extend_from_slice(&raw[..n]);
        }
    }

    fn write_all(&self, data: &[u8]) -> io::Result<()> {
        lock(&self.conn).conn.writer().write_all(data)?;
        self.send_pending()
    }

    fn shutdown(&self) {
        let _ = self.tcp.shutdown(Shutdown::Both);
    }
}
