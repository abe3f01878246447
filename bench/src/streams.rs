//! Exec and port-forward throughput: the sans-IO exec codec against a
//! plain copy of the same bytes, and a port-forward over loopback (through
//! each transport) against a plain TCP copy. Every figure is the median of
//! interleaved runs, with the minimum and maximum.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use crate::table::{Table, interleaved};
use kubewire::stream::{ChannelProtocol, ExecEvent, ExecSession, Masks, Opcode, WebSocket};

/// The size of every transfer.
const TOTAL: usize = 100 * 1000 * 1000;
/// The apiserver's largest exec message (32 KiB).
const MESSAGE: usize = 32 * 1024;
/// The size of the reads that feed the decoder.
const READ: usize = 64 * 1024;

/// An unmasked server frame.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    kubewire::stream::encode_frame(Opcode::Binary, true, payload, None, &mut out);
    out
}

/// `TOTAL` bytes of output on `stream`, as 32 KiB messages.
fn messages(stream: u8) -> Vec<u8> {
    let payload: Vec<u8> = (0..MESSAGE - 1).map(|i| (i % 251) as u8).collect();
    let mut message = vec![stream];
    message.extend_from_slice(&payload);
    let one = frame(&message);
    let count = TOTAL.div_ceil(MESSAGE - 1);
    let mut out = Vec::with_capacity(one.len() * count);
    for _ in 0..count {
        out.extend_from_slice(&one);
    }
    out
}

/// Decodes the exec stream in 64 KiB reads; MB/s of output.
fn decode_exec(wire: &[u8]) -> f64 {
    let started = Instant::now();
    let mut session = ExecSession::new(WebSocket::new(Masks::new(1), 1 << 20), ChannelProtocol::V5);
    let mut out = 0usize;
    for piece in wire.chunks(READ) {
        session.handle_data(piece).expect("valid frames");
        while let Some(event) = session.poll_event() {
            if let ExecEvent::Stdout(bytes) = event {
                out += std::hint::black_box(bytes).len();
            }
        }
    }
    assert!(out >= TOTAL);
    out as f64 / 1e6 / started.elapsed().as_secs_f64()
}

/// The same bytes copied in 64 KiB reads into a buffer of output.
fn copy_bytes(wire: &[u8]) -> f64 {
    let started = Instant::now();
    let mut out = vec![0u8; READ];
    let mut total = 0usize;
    for piece in wire.chunks(READ) {
        out[..piece.len()].copy_from_slice(piece);
        total += std::hint::black_box(&out[..piece.len()]).len();
    }
    total as f64 / 1e6 / started.elapsed().as_secs_f64()
}

/// A one-connection server: answers the upgrade (port-forward of 18080
/// over `v4.channel.k8s.io`), then sends `TOTAL` bytes on the port and
/// closes. `raw`: no HTTP or WebSocket at all, the bytes alone.
fn serve_once(raw: bool, wire: std::sync::Arc<Vec<u8>>) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        conn.set_nodelay(true).expect("nodelay");
        if raw {
            let _ = conn.write_all(&wire);
            return;
        }
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            conn.read_exact(&mut byte).expect("request");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("sec-websocket-key: "))
            .expect("a key")
            .trim();
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n",
            kubewire::stream::accept_for(key)
        );
        let [lo, hi] = 18080u16.to_le_bytes();
        let mut opening = answer.into_bytes();
        opening.extend(frame(&[0, lo, hi]));
        opening.extend(frame(&[1, lo, hi]));
        let _ = conn.write_all(&opening);
        let _ = conn.write_all(&wire);
        let _ = conn.write_all(&[0x88, 2, 0x03, 0xE8]);
        // Wait for the client's close, then drop the connection.
        let _ = conn.read(&mut [0u8; 64]);
    });
    (port, handle)
}

/// Reads a port-forward of `TOTAL` bytes through a blocking cluster.
fn forward<T: kubewire::Transport + std::fmt::Debug>(
    cluster: kubewire::Cluster<T>,
    handle: std::thread::JoinHandle<()>,
) -> f64 {
    let started = Instant::now();
    let mut streams = cluster
        .pods()
        .port_forward("web-0", Some("demo"), &[18080])
        .expect("port-forward");
    let mut buf = vec![0u8; READ];
    let mut total = 0usize;
    loop {
        let n = std::io::Read::read(&mut streams[0], &mut buf).expect("read");
        if n == 0 {
            break;
        }
        total += n;
    }
    let speed = total as f64 / 1e6 / started.elapsed().as_secs_f64();
    assert!(total >= TOTAL, "{total} bytes");
    drop(streams);
    let _ = handle.join();
    speed
}

fn plain_tcp(wire: std::sync::Arc<Vec<u8>>) -> f64 {
    let (port, handle) = serve_once(true, wire);
    let started = Instant::now();
    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut buf = vec![0u8; READ];
    let mut total = 0usize;
    loop {
        let n = conn.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        total += n;
    }
    let speed = total as f64 / 1e6 / started.elapsed().as_secs_f64();
    let _ = handle.join();
    speed
}

/// The exec and port-forward rows.
pub fn run(runs: usize) -> Table {
    println!(
        "exec and port-forward: {} MB each; median of {runs} interleaved runs (min–max)",
        TOTAL / 1_000_000
    );
    let mut t = Table::default();
    let exec = messages(1);
    let samples = interleaved(
        runs,
        &mut [&mut || decode_exec(&exec), &mut || copy_bytes(&exec)],
    );
    t.higher_spread(
        "exec output through the sans-IO codec (64 KiB reads)",
        "MB/s",
        &samples[0],
        "plain copy of the same bytes",
        &samples[1],
    );
    drop(exec);
    let data = std::sync::Arc::new(messages(0));
    let raw = std::sync::Arc::new(vec![7u8; TOTAL]);
    let samples = interleaved(
        runs,
        &mut [
            &mut || {
                let (port, handle) = serve_once(false, data.clone());
                let url = format!("http://127.0.0.1:{port}");
                forward(kubewire_ureq::Cluster::new(&url).expect("cluster"), handle)
            },
            &mut || {
                let (port, handle) = serve_once(false, data.clone());
                let url = format!("http://127.0.0.1:{port}");
                forward(kubewire_isahc::Cluster::new(&url).expect("cluster"), handle)
            },
            &mut || plain_tcp(raw.clone()),
        ],
    );
    for (transport, ours) in [("ureq", &samples[0]), ("isahc", &samples[1])] {
        t.higher_spread(
            &format!("port-forward download over loopback, {transport}"),
            "MB/s",
            ours,
            "plain TCP copy",
            &samples[2],
        );
    }
    t
}
