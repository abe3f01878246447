//! Soak: 1,000 async watches on one cluster against a misbehaving server
//! (in a child process) for a while — every watch request is answered, in
//! turn, by an empty 200, an ERROR event with `retryAfterSeconds`, a `410`,
//! a login page, or silence. Printed at the end: requests per second (the
//! server counts them), the client's threads and resident memory, sampled
//! through the run, so growth shows.

use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn status_field(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// Child side: answer watches badly until stdin closes, then print how
/// many requests came.
pub fn serve_hostile() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("http://{}", listener.local_addr().expect("addr"));
    std::io::stdout().flush().expect("flush");
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            std::thread::spawn(move || answer(stream, n));
        }
    });
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
    println!("{}", count.load(Ordering::Relaxed));
}

fn answer(mut stream: TcpStream, n: usize) {
    if !crate::child::read_head(&mut stream) {
        return;
    }
    let chunked = |body: &str| {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        )
    };
    let reply = match n % 5 {
        0 => chunked(""),
        1 => chunked("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"TooManyRequests\",\"code\":429,\"details\":{\"retryAfterSeconds\":2}}}\n"),
        2 => "HTTP/1.1 410 Gone\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 77\r\n\r\n{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"reason\":\"Expired\",\"code\":410,\"metadata\":{}}".to_string(),
        3 => chunked("<html><body>Please sign in</body></html>\n"),
        _ => {
            // Silence: a head, then nothing until the client gives up.
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n");
            let _ = stream.read(&mut [0u8; 1]);
            return;
        }
    };
    let _ = stream.write_all(reply.as_bytes());
}

/// Runs the soak and prints its figures.
pub fn run(watches: usize, span: Duration) {
    let (mut child, mut out, url) = crate::child::start(&["serve-hostile"]);
    let cluster = kubewire_isahc::AsyncCluster::new(&url).expect("cluster");
    let mut options = kubewire::watch::WatcherOptions::default();
    options.start = kubewire::watch::WatchStart::Version("1".into());
    options.on_error = kubewire::watch::OnError::Surface;
    // Short enough that silent streams are given up on within the run.
    options.timeout_seconds = Some(20);
    options.idle_timeout = Some(Duration::from_secs(20));
    let started = Instant::now();
    let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sampler = {
        let samples = samples.clone();
        std::thread::spawn(move || {
            while started.elapsed() < span {
                samples.lock().expect("samples").push((
                    started.elapsed(),
                    status_field("Threads:"),
                    status_field("VmRSS:"),
                ));
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    let errors = AtomicUsize::new(0);
    let deadline = started + span;
    let tasks = (0..watches).map(|_| {
        let mut w = cluster
            .pods()
            .namespace("demo")
            .expect("ns")
            .watch_with(options.clone())
            .expect("watch");
        let errors = &errors;
        async move {
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                match w.next_timeout(left).await {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            w.close();
        }
    });
    futures::executor::block_on(futures::future::join_all(tasks));
    let _ = sampler.join();
    cluster.close();
    drop(child.stdin.take());
    let mut count = String::new();
    out.read_line(&mut count).expect("request count");
    let _ = child.wait();
    let requests: f64 = count.trim().parse().unwrap_or(0.0);
    let samples = samples.lock().expect("samples");
    let third = samples.len() / 3;
    let (early_rss, late_rss) = (
        samples.get(third).map_or(0, |s| s.2),
        samples.last().map_or(0, |s| s.2),
    );
    let peak_threads = samples.iter().map(|s| s.1).max().unwrap_or(0);
    println!("\n## Soak: {watches} async watches against a misbehaving server for {span:?}\n");
    println!(
        "| requests/s (all watches) | per watch per minute | errors surfaced | peak threads | RSS at 1/3 | RSS at end |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {:.1} | {:.2} | {} | {peak_threads} | {} MiB | {} MiB |",
        requests / span.as_secs_f64(),
        requests / watches as f64 / (span.as_secs_f64() / 60.0),
        errors.load(Ordering::Relaxed),
        early_rss / 1024,
        late_rss / 1024
    );
    println!(
        "\nEvery fifth answer is silence, given up on after 20 s; the others are failures the watchers back off from (800 ms doubling to 30 s; at least retryAfterSeconds)."
    );
}
