//! A loopback listener that serves each connection on its own thread and
//! can be stopped: shared by the replay server and the recorder.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::http1;

/// Locks, ignoring poisoning (a panicking connection thread must not take
/// the whole server down).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Accepts connections until stopped.
#[derive(Debug)]
pub(crate) struct Listener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Listener {
    /// Listens on `addr` (loopback only); `handle` serves each connection.
    pub(crate) fn start(
        addr: SocketAddr,
        name: &str,
        stop: Arc<AtomicBool>,
        handle: impl Fn(TcpStream) + Send + Sync + 'static,
    ) -> io::Result<Listener> {
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the {name} listens on loopback addresses only"),
            ));
        }
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::new(Mutex::new(Vec::new()));
        let (conns, flag, thread_name) =
            (connections.clone(), stop.clone(), format!("{name}-conn"));
        let handle = Arc::new(handle);
        let acceptor = std::thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let _ = stream.set_nonblocking(false);
                            let handle = handle.clone();
                            let spawned = std::thread::Builder::new()
                                .name(thread_name.clone())
                                .spawn(move || handle(stream));
                            if let Ok(h) = spawned {
                                let mut conns = lock(&conns);
                                conns.retain(|h| !h.is_finished());
                                conns.push(h);
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            std::thread::sleep(http1::POLL / 5)
                        }
                        Err(_) => std::thread::sleep(http1::POLL),
                    }
                }
            })?;
        Ok(Listener {
            addr,
            stop,
            acceptor: Some(acceptor),
            connections,
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks until the listener stops.
    pub(crate) fn wait(&mut self) {
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }

    /// Stops accepting and waits for every connection thread (they watch
    /// the same stop flag).
    pub(crate) fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wait();
        let conns = std::mem::take(&mut *lock(&self.connections));
        for c in conns {
            let _ = c.join();
        }
    }
}
