//! A minimal HTTP `CONNECT` proxy on 127.0.0.1 for tests: it answers
//! `200` to `CONNECT host:port`, then splices bytes both ways, and remembers
//! every target it was asked for (and the `Proxy-Authorization` it got).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};

/// What the proxy was asked: the `CONNECT` target and any credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectRequest {
    /// `host:port` as the client asked.
    pub target: String,
    /// The `Proxy-Authorization` header, if sent.
    pub authorization: Option<String>,
}

/// The running proxy; stops accepting when dropped.
#[derive(Debug)]
pub struct ConnectProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<ConnectRequest>>>,
}

impl ConnectProxy {
    /// Starts the proxy on an ephemeral loopback port.
    pub fn start() -> io::Result<ConnectProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    let _ = tunnel(conn, &log);
                });
            }
        });
        Ok(ConnectProxy { addr, seen })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `CONNECT` requests so far.
    pub fn requests(&self) -> Vec<ConnectRequest> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn tunnel(mut client: TcpStream, seen: &Mutex<Vec<ConnectRequest>>) -> io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    let Some(target) = request_line
        .strip_prefix("CONNECT ")
        .and_then(|rest| rest.split(' ').next())
    else {
        client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")?;
        return Ok(());
    };
    let authorization = lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_string())
    });
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(ConnectRequest {
            target: target.to_string(),
            authorization,
        });
    let upstream = TcpStream::connect(target)?;
    client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")?;
    let (mut up_read, mut down_write) = (upstream.try_clone()?, client.try_clone()?);
    let down = std::thread::spawn(move || {
        let _ = io::copy(&mut up_read, &mut down_write);
        let _ = down_write.shutdown(Shutdown::Both);
    });
    let mut up_write = upstream;
    let _ = io::copy(&mut client, &mut up_write);
    let _ = up_write.shutdown(Shutdown::Both);
    let _ = down.join();
    Ok(())
}
