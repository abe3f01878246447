//! A tiny controller: it is elected leader on a Lease, caches the
//! Deployments of a namespace, and logs what changes, while it leads.
//!
//! ```text
//! cargo run -p kubewire-ureq --example controller                     # demo apiserver
//! cargo run -p kubewire-ureq --example controller -- --kubeconfig FILE # a real cluster
//! ```
//!
//! With no cluster configured it starts the embedded demo apiserver: the
//! Deployments replay recorded traffic (the `deployments-cache` fixture:
//! shop listed, then brief's foreground deletion), and Leases are kept in
//! memory as the apiserver keeps them, since their writes carry the time.
//! Against a real cluster it runs until interrupted, in the configured
//! namespace, as `$HOSTNAME-$PID`.

use kubewire::Config;
use kubewire::cache::ChangeKind;
use kubewire::leader::{LeaderEvent, LeaseParams};
use kubewire_conformance::lease_server::LeaseServer;
use kubewire_conformance::{Fixture, ReplayServer};
use kubewire_ureq::Cluster;

type Failure = Box<dyn std::error::Error>;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let configured = match args.as_slice() {
        [flag, path] if flag == "--kubeconfig" => {
            Some(Config::from_kubeconfig(&[path.into()], None)?)
        }
        [] => Config::discover_configured()?,
        _ => return Err("usage: controller [--kubeconfig FILE]".into()),
    };
    let demo = match configured {
        Some(_) => None,
        None => {
            let text = include_str!("../../fixtures/derived/deployments-cache.json");
            let fixture = Fixture::parse(text.as_bytes(), "deployments-cache.json".as_ref())?;
            Some(ReplayServer::start_with_leases(
                vec![fixture],
                LeaseServer::new(),
            )?)
        }
    };
    let (cluster, namespace) = match (&demo, configured) {
        (Some(server), _) => {
            println!(
                "No cluster configured: an embedded demo apiserver at {}",
                server.base_url()
            );
            (Cluster::new(&server.base_url())?, "demo".to_string())
        }
        (None, Some(config)) => {
            let namespace = config.default_namespace.clone();
            (Cluster::from_config(config)?, namespace)
        }
        (None, None) => unreachable!("a configuration or the demo"),
    };
    let identity = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "kubewire".into()),
        std::process::id()
    );
    let mut params = LeaseParams::default();
    params.namespace = Some(namespace.clone());
    let mut leadership = cluster.lead("deployment-logger", &identity, &params)?;
    // Wait to be elected.
    for event in &mut leadership {
        match event {
            LeaderEvent::NewLeader(holder) => println!("lease deployment-logger held by {holder}"),
            LeaderEvent::BecameLeader => break,
            LeaderEvent::Failed(e) => println!("election attempt failed: {e}"),
            _ => {}
        }
    }
    println!("elected as {identity}: caching the Deployments of {namespace}");
    let deployments = cluster.deployments().namespace(&namespace)?.cache()?;
    let mut changes = deployments.changes();
    deployments.wait_until_ready()?;
    println!("{} Deployment(s) cached", deployments.len());
    while let Some(change) = changes.next() {
        if !leadership.is_leader() {
            println!("leadership lost: stopping the work");
            break;
        }
        let change = change?;
        let replicas = change.item.spec()["replicas"].as_i64().unwrap_or(1);
        let deleting = change.item.meta().deletion_timestamp().is_some();
        println!(
            "{:<8} {} (resourceVersion {}, replicas {replicas}{})",
            format!("{:?}", change.kind),
            change.key,
            change.item.meta().version(),
            if deleting { ", being deleted" } else { "" }
        );
        // The demo's recording ends with brief gone: the tour is over.
        if demo.is_some() && change.kind == ChangeKind::Deleted {
            break;
        }
    }
    deployments.close();
    // Released for the next contender (dropping the handle does it too).
    leadership.release();
    if let Some(server) = demo {
        cluster.close();
        server.finish()?;
        println!("Lease released; the demo apiserver saw exactly the requests it expected.");
    }
    Ok(())
}
