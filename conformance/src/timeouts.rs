//! The request timeout over a real transport: an ordinary request that a
//! server never answers ends in a timeout error, and a watch whose events
//! come further apart than the timeout is not cut by it.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kubewire::client::ConnectDriver;
use kubewire::error::TransportErrorKind;
use kubewire::watch::{WatchStart, WatcherOptions};
use kubewire::{Cluster, Config, Error, TransportOptions, WatchEventType};

use crate::fixture::ResponseBody;
use crate::server::ReplayServer;
use crate::suite::corpus_fixture;

/// The request timeout the checks use.
const TIMEOUT: Duration = Duration::from_millis(300);

fn options() -> TransportOptions {
    let mut options = TransportOptions::default();
    options.request_timeout = Some(TIMEOUT);
    options
}

/// Runs both checks over transport `D`; the failures, named with `name`.
pub fn run_timeouts<D: ConnectDriver>(name: &str) -> Vec<String> {
    let mut failures = Vec::new();
    if let Err(e) = unanswered_fetch_times_out::<D>() {
        failures.push(format!("timeouts [{name}]: an unanswered fetch: {e}"));
    }
    if let Err(e) = slow_watch_is_not_cut::<D>() {
        failures.push(format!("timeouts [{name}]: a slow watch: {e}"));
    }
    failures
}

/// A server that accepts connections and never answers: the fetch ends in
/// a timeout error.
fn unanswered_fetch_times_out<D: ConnectDriver>() -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let done = Arc::new(AtomicBool::new(false));
    let silent = {
        let done = done.clone();
        std::thread::spawn(move || {
            // Held for 20 s at most: a transport that never times out
            // then fails with the connection closed instead of hanging.
            let until = std::time::Instant::now() + Duration::from_secs(20);
            let mut held = Vec::new();
            while !done.load(Ordering::Relaxed) && std::time::Instant::now() < until {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        })
    };
    let outcome = Config::new(&format!("http://{addr}"))
        .and_then(|config| Cluster::<D>::with_options(config, &options()))
        .and_then(|cluster| D::wait(cluster.pods().fetch("web-0", Some("demo"))));
    done.store(true, Ordering::Relaxed);
    silent.join().map_err(|_| "the silent server panicked")?;
    match outcome {
        Err(Error::Transport {
            kind: TransportErrorKind::Timeout,
            ..
        }) => Ok(()),
        other => Err(format!("want a timeout error, got {other:?}")),
    }
}

/// The recorded pods watch with its second and third events each sent
/// more than the request timeout after the one before.
fn slow_watch_is_not_cut<D: ConnectDriver>() -> Result<(), String> {
    let mut fixture = corpus_fixture("pods-watch");
    let ResponseBody::Chunks(chunks) = &mut fixture.exchanges[0].response.body else {
        return Err("the pods-watch recording is no longer chunked".into());
    };
    for chunk in chunks.iter_mut().skip(1) {
        chunk.delay_ms = 2 * TIMEOUT.as_millis() as u64;
    }
    let server = ReplayServer::start(vec![fixture]).map_err(|e| e.to_string())?;
    let config = Config::new(&server.base_url()).map_err(|e| e.to_string())?;
    let cluster = Cluster::<D>::with_options(config, &options()).map_err(|e| e.to_string())?;
    let mut watch_options = WatcherOptions::default();
    watch_options.start = WatchStart::Version("7800".into());
    let mut watch = cluster
        .pods()
        .namespace("demo")
        .and_then(|pods| pods.watch_with(watch_options))
        .map_err(|e| e.to_string())?;
    let mut types = Vec::new();
    while types.len() < 3 {
        match D::wait(watch.next_timeout(Duration::from_secs(10))) {
            Ok(Some(event)) => types.push(event.evtype),
            Ok(None) => return Err(format!("no event within 10 s after {types:?}")),
            Err(e) => return Err(format!("after {types:?}: {e}")),
        }
    }
    cluster.close();
    server.stop();
    let want = [
        WatchEventType::Added,
        WatchEventType::Modified,
        WatchEventType::Modified,
    ];
    if types != want {
        return Err(format!("events {types:?}, want {want:?}"));
    }
    Ok(())
}
