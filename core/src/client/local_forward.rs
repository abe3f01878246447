//! `kubectl port-forward` for blocking clusters: a local listener whose
//! every accepted connection is forwarded to a port of a pod over a
//! port-forward connection of its own.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::client::driver::Driver;
use crate::client::port_forward::PortStream;
use crate::client::view::ClusterView;
use crate::error::{Error, Result};
use crate::items::pod::Pod;

/// A running local forward (see [`ClusterView::forward_local`]); stopped
/// when dropped.
#[derive(Debug)]
pub struct LocalForward {
    addr: SocketAddr,
    stopped: Arc<AtomicBool>,
    last_error: Arc<Mutex<Option<String>>>,
}

impl LocalForward {
    /// The local address connections are accepted on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// What went wrong with the last connection that could not be
    /// forwarded (the pod gone, nothing listening on the port), if any.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops accepting (connections already forwarded go on).
    pub fn stop(&self) {
        if !self.stopped.swap(true, Ordering::AcqRel) {
            // Wakes the accept loop, which then sees the flag.
            let _ = TcpStream::connect(self.addr);
        }
    }
}

impl Drop for LocalForward {
    fn drop(&mut self) {
        self.stop();
    }
}

impl<D: Driver> ClusterView<D, Pod> {
    /// Forwards every connection accepted on `listener` to `port` of the
    /// pod, each over its own port-forward connection, as `kubectl
    /// port-forward` does. Runs on helper threads (on every driver: they
    /// wait for the connection themselves) until stopped or the cluster
    /// closes.
    ///
    /// ```no_run
    /// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:8080").expect("bind");
    /// let forward = cluster.pods().forward_local("web-0", Some("demo"), 80, listener)?;
    /// println!("forwarding {} to web-0:80", forward.local_addr());
    /// # Ok(()) }
    /// ```
    pub fn forward_local(
        &self,
        name: &str,
        namespace: Option<&str>,
        port: u16,
        listener: TcpListener,
    ) -> Result<LocalForward> {
        let io = |e: io::Error| Error::InvalidInput(format!("the local listener: {e}"));
        let addr = listener.local_addr().map_err(io)?;
        let stopped = Arc::new(AtomicBool::new(false));
        let last_error = Arc::new(Mutex::new(None));
        let (view, name, namespace) = (
            self.clone(),
            name.to_string(),
            namespace.map(str::to_string),
        );
        let (flag, errors) = (stopped.clone(), last_error.clone());
        let life = self.cluster().life().clone();
        self.cluster()
            .life()
            .spawn("kubewire-forward-accept", move || {
                for conn in listener.incoming() {
                    if flag.load(Ordering::Acquire) || life.check_open().is_err() {
                        return;
                    }
                    let Ok(conn) = conn else { continue };
                    let forwarded =
                        D::wait(view.port_forward(&name, namespace.as_deref(), &[port])).and_then(
                            |mut streams| {
                                let stream = streams.pop().ok_or_else(|| {
                                    Error::Protocol("port-forward gave no stream".into())
                                })?;
                                splice(&life, conn, stream)
                            },
                        );
                    if let Err(e) = forwarded {
                        *errors.lock().unwrap_or_else(PoisonError::into_inner) =
                            Some(e.to_string());
                    }
                }
            })
            .map_err(io)?;
        Ok(LocalForward {
            addr,
            stopped,
            last_error,
        })
    }
}

/// Copies both ways between a local connection and a port's stream, on
/// two helper threads; each direction ends the other's write side.
fn splice<D: Driver>(
    life: &crate::client::lifecycle::Lifecycle,
    conn: TcpStream,
    stream: PortStream<D>,
) -> Result<()> {
    let io = |e: io::Error| Error::InvalidInput(format!("forwarding a connection: {e}"));
    let (mut up_conn, mut down_conn) = (conn.try_clone().map_err(io)?, conn);
    let (mut up_stream, mut down_stream) = (stream.clone(), stream);
    life.spawn("kubewire-forward-up", move || {
        let mut buf = vec![0u8; 32 * 1024];
        while let Ok(n @ 1..) = up_conn.read(&mut buf) {
            if D::wait(up_stream.write_all(&buf[..n])).is_err() {
                break;
            }
        }
        // The local side is done: end the connection, which ends the reads.
        let _ = D::wait(up_stream.close());
    })
    .map_err(io)?;
    life.spawn("kubewire-forward-down", move || {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match D::wait(down_stream.read(&mut buf)) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if down_conn.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = down_conn.shutdown(Shutdown::Both);
    })
    .map_err(io)
}
