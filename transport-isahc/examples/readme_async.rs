//! The README's async snippet, in context, so that it compiles (checked
//! line for line by `conformance/tests/readme.rs`).
//!
//! ```text
//! cargo run -p kubewire-isahc --example readme_async   # with KUBEWIRE_URL or a kubeconfig
//! ```

type Failure = Box<dyn std::error::Error + Send + Sync>;

#[rustfmt::skip] // the README's lines, as they stand there
async fn tour() -> Result<(), Failure> {
    let cluster = kubewire_isahc::AsyncCluster::from_env()?;
    let rs = cluster.replicasets().fetch("auth-v3", Some("demo")).await?;
    let rs2 = rs.labels().set("mylabel", "value").await?;          // bound items, as above
    let mut events = cluster.pods().namespace("demo")?.watch()?;    // also a futures_core::Stream
    while let Some(event) = events.next().await { println!("{}", event?.evtype); }
    cluster.close();                                                 // ends watches, joins helpers
    println!("{}", rs2.meta().version());
    Ok(())
}

fn main() {
    // Any executor will do; for a small tool, the client's own will.
    let outcome = <kubewire::Async<kubewire_isahc::IsahcTransport> as kubewire::Driver>::wait(
        Box::pin(async { tour().await.map_err(|e| e.to_string()) }),
    );
    if let Err(e) = outcome {
        eprintln!("error: {e}");
    }
}
