//! The quickstart: list namespaces, fetch a
//! ReplicaSet and read its status, set a label and see the new revision,
//! filter pods by label, watch pods for a few events.
//!
//! ```text
//! cargo run --bin quickstart                                  # demo apiserver
//! cargo run --bin quickstart -- --url http://localhost:8001    # kubectl proxy
//! cargo run --bin quickstart -- --kubeconfig ~/.kube/config    # a real cluster
//! cargo run --bin quickstart -- --context NAME                # a context of KUBECONFIG
//! ```
//!
//! With no cluster configured (no flag, no `KUBEWIRE_URL`, no
//! `KUBECONFIG` or `~/.kube/config`, not in a pod) it starts an embedded demo
//! apiserver that replays what a real kube-apiserver v1.36.2 answered to
//! exactly this tour (the recorded `seed-quickstart` fixture).

use std::time::Duration;

use kubewire::Config;
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
        [flag, url] if flag == "--url" => Some(Config::new(url)?),
        [flag, path] if flag == "--kubeconfig" => {
            Some(Config::from_kubeconfig(&[path.into()], None)?)
        }
        [flag, path, ctx_flag, context] if flag == "--kubeconfig" && ctx_flag == "--context" => {
            Some(Config::from_kubeconfig(&[path.into()], Some(context))?)
        }
        // A context of KUBECONFIG or ~/.kube/config.
        [flag, context] if flag == "--context" => Some(Config::from_context(context)?),
        // In a pod, KUBEWIRE_URL, KUBECONFIG or ~/.kube/config.
        [] => Config::discover_configured()?,
        _ => {
            return Err(
                "usage: quickstart [--url URL | --kubeconfig FILE [--context NAME] | --context NAME]"
                    .into(),
            );
        }
    };
    let demo = match configured {
        Some(_) => None,
        None => {
            let text = include_str!("../../fixtures/recorded/seed-quickstart.json");
            let fixture = kubewire_conformance::Fixture::parse(
                text.as_bytes(),
                "seed-quickstart.json".as_ref(),
            )?;
            Some(kubewire_conformance::ReplayServer::start(vec![fixture])?)
        }
    };
    let cluster = match (&demo, configured) {
        (Some(server), _) => {
            println!(
                "No cluster configured: touring an embedded demo apiserver at {}",
                server.base_url()
            );
            println!("(it replays answers recorded from a real kube-apiserver v1.36.2)\n");
            Cluster::new(&server.base_url())?
        }
        (None, Some(config)) => {
            println!("Touring the cluster at {}\n", config.base_url());
            Cluster::from_config(config)?
        }
        (None, None) => unreachable!("a configuration or the demo"),
    };

    println!("1. The namespaces, paged through limit/continue:");
    for ns in cluster.namespaces().iter()? {
        println!("   - {}", ns?.meta().name());
    }

    println!("\n2. ReplicaSet auth-v3 in demo:");
    let rs = cluster.replicasets().fetch("auth-v3", Some("demo"))?;
    println!(
        "   version {}, wants {} replicas, the controller observed {}",
        rs.meta().version(),
        rs.spec()["replicas"],
        rs.observed_replicas()?
    );

    println!("\n3. Setting label mylabel=value (items are immutable: we get a new revision):");
    let rs2 = rs.labels().set("mylabel", "value")?;
    println!(
        "   version {} -> {}, labels now {:?}",
        rs.meta().version(),
        rs2.meta().version(),
        rs2.meta().labels().to_map()
    );

    println!("\n4. Pods with app=web, and their images (read in place, nothing parsed):");
    let web = cluster
        .pods()
        .namespace("demo")?
        .filter(Some("app=web"), None)?;
    for pod in web.iter()? {
        let pod = pod?;
        let containers = pod.field("spec").and_then(|spec| spec.get("containers"));
        let images: Vec<_> = containers
            .into_iter()
            .flat_map(|list| list.elements())
            .filter_map(|container| container.get("image")?.as_str())
            .collect();
        println!(
            "   - {} ({:?}): {}",
            pod.meta().name(),
            pod.phase()?,
            images.join(", ")
        );
    }

    println!("\n5. Watching pods in demo (from now) for three events:");
    let mut watcher = cluster.pods().namespace("demo")?.watch()?;
    let mut seen = 0;
    while seen < 3 {
        match watcher.next_timeout(Duration::from_secs(30))? {
            Some(event) => {
                seen += 1;
                println!(
                    "   {:<8} {} (version {})",
                    event.evtype,
                    event.item.meta().name(),
                    event.item.meta().version()
                );
            }
            None => {
                println!("   nothing for 30 s; stopping");
                break;
            }
        }
    }
    watcher.close();

    if let Some(server) = demo {
        server.finish()?;
        println!("\nThe demo apiserver received exactly the requests it expected. Done.");
    }
    Ok(())
}
