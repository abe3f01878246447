//! The async cluster on the runtime of your choice, with that runtime's
//! own sleep as the cluster's timer (one line each), against an embedded
//! replay of recorded apiserver traffic:
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml --example runtimes
//! ```
//!
//! Without `with_timer`, the cluster's waits share one timer thread.

use std::time::{Duration, Instant};

use kubewire::{Async, AsyncCluster, BoxFuture, Config, TransportOptions, watch::WatchStart};
use kubewire_conformance::ReplayServer;
use kubewire_conformance::suite::corpus_fixture;
use kubewire_isahc::IsahcTransport;

/// Watches pods from a recorded resourceVersion: three events, then
/// nothing within 300 ms (the timer ends the wait).
async fn watch_a_little(cluster: &AsyncCluster<IsahcTransport>) -> kubewire::Result<()> {
    let mut options = kubewire::watch::WatcherOptions::default();
    options.start = WatchStart::Version("7800".into());
    let mut watch = cluster.pods().namespace("demo")?.watch_with(options)?;
    for _ in 0..3 {
        if let Some(event) = watch.next().await {
            let event = event?;
            println!(
                "  {} {} at {}",
                event.evtype,
                event.item.meta().name(),
                event.item.meta().version()
            );
        }
    }
    let started = Instant::now();
    let quiet = watch.next_timeout(Duration::from_millis(300)).await?;
    println!(
        "  then {:?} after {:?}",
        quiet.map(|e| e.evtype),
        started.elapsed()
    );
    watch.close();
    Ok(())
}

/// The README's lines: the tokio timer in one line.
#[rustfmt::skip] // the README's lines, as they stand there
#[allow(clippy::let_and_return)] // the README names the cluster it makes
fn readme_tokio(config: Config, transport: IsahcTransport) -> AsyncCluster<IsahcTransport> {
    use kubewire::{Async, AsyncCluster, BoxFuture};
    let timer = |at: std::time::Instant| -> BoxFuture<'static, ()> { Box::pin(tokio::time::sleep_until(at.into())) };
    let cluster = AsyncCluster::with_transport(config, Async::new(transport).with_timer(timer));
    cluster
}

fn cluster_with(
    url: &str,
    timer: impl kubewire::client::Timer,
) -> kubewire::Result<AsyncCluster<IsahcTransport>> {
    let config = Config::new(url)?;
    let transport = IsahcTransport::new(&config, &TransportOptions::default())?;
    Ok(AsyncCluster::with_transport(
        config,
        Async::new(transport).with_timer(timer),
    ))
}

fn main() -> kubewire::Result<()> {
    println!("tokio (current-thread runtime, tokio::time::sleep_until as the timer):");
    let server = ReplayServer::start(vec![corpus_fixture("pods-watch")]).expect("replay server");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let config = Config::new(&server.base_url())?;
        let transport = IsahcTransport::new(&config, &TransportOptions::default())?;
        let cluster = readme_tokio(config, transport);
        watch_a_little(&cluster).await
    })?;
    drop(server);

    println!("smol (smol::Timer as the timer):");
    let server = ReplayServer::start(vec![corpus_fixture("pods-watch")]).expect("replay server");
    smol::block_on(async {
        let smol_timer = |at: Instant| -> BoxFuture<'static, ()> {
            Box::pin(async move {
                smol::Timer::at(at).await;
            })
        };
        let cluster = cluster_with(&server.base_url(), smol_timer)?;
        watch_a_little(&cluster).await
    })?;
    Ok(())
}
