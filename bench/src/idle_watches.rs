//! Threads while many async watches wait: 1,000 watches on one async
//! cluster, all idle for 10 s (a server in a child process accepts them and
//! sends nothing), each waiting with `next_timeout`. A sampler thread reads
//! the process's thread count every 100 ms.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The process's current thread count (Linux).
fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Child side: accept watches, answer each with a chunked 200 head and
/// then nothing, until stdin closes.
pub fn serve_idle() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("http://{}", listener.local_addr().expect("addr"));
    std::io::stdout().flush().expect("flush");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || hold(stream));
        }
    });
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
}

fn hold(mut stream: TcpStream) {
    if !crate::child::read_head(&mut stream) {
        return;
    }
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    // Idle until the client goes away.
    let _ = stream.read(&mut [0u8; 1]);
}

/// Runs the measurement and prints it.
pub fn run(watches: usize, idle: Duration) {
    let (mut child, _out, url) = crate::child::start(&["serve-idle"]);
    let before = threads();
    let peak = Arc::new(AtomicUsize::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(threads(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let cluster = kubewire_isahc::AsyncCluster::new(url.trim()).expect("cluster");
    let mut options = kubewire::watch::WatcherOptions::default();
    options.start = kubewire::watch::WatchStart::Version("1".into());
    let mut streams: Vec<_> = (0..watches)
        .map(|_| {
            cluster
                .pods()
                .namespace("demo")
                .expect("ns")
                .watch_with(options.clone())
                .expect("watch")
        })
        .collect();
    let started = Instant::now();
    let quiet = futures::executor::block_on(futures::future::join_all(
        streams.iter_mut().map(|w| w.next_timeout(idle)),
    ))
    .into_iter()
    .filter(|r| matches!(r, Ok(None)))
    .count();
    let waited = started.elapsed();
    let during = peak.load(Ordering::Relaxed);
    cluster.close();
    drop(streams);
    drop(cluster);
    std::thread::sleep(Duration::from_millis(300));
    let after = threads();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    drop(child.stdin.take());
    let _ = child.wait();
    println!("\n## Threads while {watches} async watches wait ({idle:?} idle each, one cluster)\n");
    println!(
        "| threads before | peak while waiting | after close | watches that timed out quietly | wall |"
    );
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {before} | {during} | {after} | {quiet} of {watches} | {:.1} s |",
        waited.as_secs_f64()
    );
    println!(
        "\nThe peak counts the sampler thread itself; the async driver adds its timer thread and isahc its agent thread."
    );
}
