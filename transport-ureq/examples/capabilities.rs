//! A tour of kubewire beyond the seed library, one capability at a time,
//! each against an embedded demo apiserver replaying what a real
//! kube-apiserver v1.36.2 answered (fixtures of `fixtures/`).
//!
//! ```text
//! cargo run --example capabilities              # every capability
//! cargo run --example capabilities -- scale     # one of them
//! ```
//!
//! The README's sections show these functions.

use std::time::Duration;

use kubewire::{
    DeleteParams, ExecParams, LogParams, Patch, WriteParams, exchange::RateLimit,
    request::ApiResource,
};
use kubewire_conformance::{Fixture, ReplayServer};
use kubewire_ureq::Cluster;
use serde_json::json;

type Failure = Box<dyn std::error::Error>;
type Tour = fn(&Cluster) -> Result<(), Failure>;

const TOURS: &[(&str, &[&str], Tour)] = &[
    ("writes", &["writes-create-replace"], writes),
    ("patch", &["patch-types-strategic-removal"], patch),
    ("delete", &["delete"], delete),
    ("status", &["status-subresource"], status),
    ("scale", &["scale-subresource"], scale),
    ("resource", &["crd-discovery"], resource),
    ("all-namespaces", &["pods-all-namespaces"], all_namespaces),
    ("logs", &["pod-logs"], logs),
    ("wait", &["wait-by-name"], wait),
    ("yaml", &["manifests-multi-document"], yaml),
    ("typed", &["pod-fetch-running"], typed),
    (
        "exec",
        &[
            "exec-stdout-stderr",
            "exec-exit-code",
            "exec-stdin-close",
            "portforward-echo",
        ],
        exec,
    ),
];

fn main() -> std::process::ExitCode {
    let only: Vec<String> = std::env::args().skip(1).collect();
    for (name, fixtures, tour) in TOURS {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        println!("== {name}");
        if let Err(e) = replay(fixtures, *tour) {
            eprintln!("error: {name}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    std::process::ExitCode::SUCCESS
}

fn replay(fixtures: &[&str], tour: Tour) -> Result<(), Failure> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
    let mut loaded = Vec::new();
    for name in fixtures {
        let found = ["recorded", "recorded-streams", "derived", "handwritten"]
            .iter()
            .map(|dir| format!("{root}/{dir}/{name}.json"))
            .find(|path| std::path::Path::new(path).exists())
            .ok_or_else(|| format!("no fixture {name}"))?;
        loaded.push(Fixture::load(std::path::Path::new(&found))?);
    }
    let server = ReplayServer::start(loaded)?;
    let mut config = kubewire::Config::new(&server.base_url())?;
    // Client-side rate limiting (kubernetes_lite's qps/burst); off by default.
    config.rate_limit = Some(RateLimit::new(50.0, 10)?);
    let outcome = tour(&Cluster::from_config(config)?);
    server.stop();
    outcome
}

fn configmaps(
    cluster: &Cluster,
) -> Result<kubewire::ClusterView<kubewire_ureq::UreqTransport, kubewire::Item>, Failure> {
    let cms = ApiResource::new("", "v1", "ConfigMap", "configmaps", true)?;
    Ok(cluster.resource_at(cms).namespace("demo")?)
}

fn writes(cluster: &Cluster) -> Result<(), Failure> {
    let cms = configmaps(cluster)?;
    let manifest = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings"}, "data": {"mode": "fast"}});
    let created = cms.create(manifest.clone())?;
    println!(
        "created {} at {}",
        created.meta().name(),
        created.meta().version()
    );
    println!("again: {}", cms.create(manifest.clone()).unwrap_err());
    let mut bad = manifest.clone();
    bad["metadata"]["name"] = json!("Bad_Name");
    println!("bad name: {}", cms.create(bad).unwrap_err());
    let mut changed = created.to_value()?;
    changed["data"]["mode"] = json!("safe");
    let replaced = cms.replace(changed.clone(), &WriteParams::default())?;
    println!("replaced: now at {}", replaced.meta().version());
    // The same body carries the old resourceVersion: a precondition.
    println!(
        "stale: {}",
        cms.replace(changed, &WriteParams::default()).unwrap_err()
    );
    let mut dry = WriteParams::default();
    dry.dry_run = true;
    let mut manifest = manifest;
    manifest["metadata"]["name"] = json!("dry");
    let answer = cms.create_with(manifest, &dry)?;
    println!(
        "dry run: {:?} persisted nothing (version {:?})",
        answer.meta().name(),
        answer.meta().version()
    );
    Ok(())
}

fn patch(cluster: &Cluster) -> Result<(), Failure> {
    let pods = cluster.pods().namespace("demo")?;
    let label = json!({"metadata": {"labels": {"mylabel": "value"}}});
    let labelled = pods.patch(
        "web-1",
        None,
        &Patch::Strategic(label),
        &WriteParams::default(),
    )?;
    let plain = labelled.labels().set("mylabel", None)?; // None removes
    println!(
        "label set then removed: {:?}",
        plain.labels().get("mylabel")
    );
    let noted = plain.patch(
        &Patch::Json(
            json!([{"op": "add", "path": "/metadata/annotations", "value": {"note": "hi"}}]),
        ),
        &WriteParams::default(),
    )?;
    println!("JSON patch: note = {:?}", noted.annotations().get("note"));
    let failed = noted.patch(
        &Patch::Json(json!([{"op": "test", "path": "/metadata/name", "value": "other"}])),
        &WriteParams::default(),
    );
    println!("failed test op: {}", failed.unwrap_err());
    let cms = configmaps(cluster)?;
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": "v1"}});
    cms.apply(
        applied.clone(),
        &WriteParams::default().field_manager("kubewire"),
    )?;
    let mut theirs = applied;
    theirs["data"]["k"] = json!("v2");
    let other = WriteParams::default().field_manager("other-tool");
    let conflict = cms.apply(theirs.clone(), &other).unwrap_err();
    println!("server-side apply conflict: {conflict}");
    let mut force = other;
    force.force = true;
    let taken = cms.apply(theirs, &force)?;
    println!("forced: data.k = {}", taken.to_value()?["data"]["k"]);
    Ok(())
}

fn delete(cluster: &Cluster) -> Result<(), Failure> {
    let pods = cluster.pods().namespace("demo")?;
    let mut now = DeleteParams::default();
    now.grace_period_seconds = Some(0);
    pods.delete_with("gone-0", None, &now)?;
    let deleted = pods
        .clone()
        .filter(Some("app=tmp"), None)?
        .delete_collection(&DeleteParams::default())?;
    let names: Vec<&str> = deleted.iter().map(|p| p.meta().name()).collect();
    println!("deleted gone-0 at once, then the collection app=tmp: {names:?}");
    println!("again: {}", pods.delete("gone-0", None).unwrap_err());
    Ok(())
}

fn status(cluster: &Cluster) -> Result<(), Failure> {
    let backups = cluster
        .resource_at(ApiResource::new(
            "ops.example.com",
            "v1",
            "Backup",
            "backups",
            true,
        )?)
        .namespace("demo")?;
    let ready = json!({"type": "Ready", "status": "False", "reason": "Scheduling",
        "message": "waiting for window", "lastTransitionTime": "2026-11-21T05:30:00Z"});
    backups.patch_status(
        "nightly",
        None,
        &Patch::Merge(json!({"status": {"conditions": [ready]}})),
        &WriteParams::default(),
    )?;
    let current = backups.status("nightly", None)?;
    let mut status = current.to_value()?["status"].clone();
    status["conditions"][0]["message"] = json!("window opens 03:00");
    let updated = current.update_status(status, &WriteParams::default())?;
    println!("update_status: {:?}", updated.conditions());
    let main = updated.patch(
        &Patch::Merge(json!({"status": {"conditions": []}, "spec": {"retain": 8}})),
        &WriteParams::default(),
    )?;
    println!(
        "a status write on the main resource is ignored: {:?}",
        main.conditions()
    );
    let mut apply = WriteParams::default().field_manager("kubewire-status");
    apply.force = true;
    let progressing = json!({"conditions": [{"type": "Progressing", "status": "True",
        "reason": "NewReplicaSetAvailable", "message": "ok"}]});
    let shop = cluster
        .deployments()
        .apply_status("shop", Some("demo"), progressing, &apply)?;
    println!("apply_status: shop at {}", shop.meta().version());
    Ok(())
}

fn scale(cluster: &Cluster) -> Result<(), Failure> {
    let rs = cluster.replicasets().scale("auth-v3", Some("demo"))?;
    let rc = cluster
        .replicationcontrollers()
        .scale("legacy", Some("demo"))?;
    let shop = cluster.deployments().scale("shop", Some("demo"))?;
    println!(
        "replicas: auth-v3 {}, legacy {}, shop {}",
        rs.replicas(),
        rc.replicas(),
        shop.replicas()
    );
    let shop = cluster
        .deployments()
        .replace_scale(&shop.with_replicas(2), &WriteParams::default())?;
    let rc = cluster.replicationcontrollers().set_scale(
        "legacy",
        Some("demo"),
        2,
        &WriteParams::default(),
    )?;
    println!("now: shop {}, legacy {}", shop.replicas(), rc.replicas());
    Ok(())
}

fn resource(cluster: &Cluster) -> Result<(), Failure> {
    let crds = cluster.resource_at(ApiResource::new(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    )?);
    let text = include_str!("../../fixtures/recorded/crd-discovery.json");
    let recorded: serde_json::Value = serde_json::from_str(text)?;
    crds.create(recorded["exchanges"][0]["request"]["body"].clone())?
        .fetch()?
        .wait(&["Established"], &[], Duration::from_secs(10))?;
    // kubernetes_lite's resource(api_version, kind): discovery, cached.
    let backups = cluster.resource("ops.example.com/v1", "Backup")?;
    let found = cluster.discover("ops.example.com/v1", "Backup")?;
    println!(
        "Backup: {} ({}), subresources {:?}",
        found.plural(),
        if found.is_namespaced() {
            "namespaced"
        } else {
            "cluster"
        },
        found.subresources()
    );
    let demo = backups.clone().namespace("demo")?;
    demo.create(json!({"apiVersion": "ops.example.com/v1", "kind": "Backup",
        "metadata": {"name": "nightly", "labels": {"tier": "db"}},
        "spec": {"schedule": "0 3 * * *", "retain": 7}}))?;
    for b in demo.list()? {
        println!("  {} retain={}", b.meta().name(), b.spec()["retain"]);
    }
    println!("fetched: {}", demo.fetch("nightly", None)?.meta().name());
    for b in backups.list()? {
        println!(
            "  every namespace: {}/{}",
            b.meta().namespace().unwrap_or("-"),
            b.meta().name()
        );
    }
    Ok(())
}

fn all_namespaces(cluster: &Cluster) -> Result<(), Failure> {
    // lightkube's namespace='*': a view bound to no namespace.
    for pod in cluster.pods().iter()? {
        let pod = pod?;
        println!(
            "  {}/{}",
            pod.meta().namespace().unwrap_or("?"),
            pod.meta().name()
        );
    }
    Ok(())
}

fn logs(cluster: &Cluster) -> Result<(), Failure> {
    let mut params = LogParams::default();
    params.container = Some("nginx".into());
    params.tail_lines = Some(3);
    for line in cluster.pods().logs("web-0", Some("demo"), &params)? {
        println!("  tail: {}", line.text);
    }
    let mut params = LogParams::default();
    params.container = Some("nginx".into());
    params.timestamps = true;
    for line in cluster.pods().logs("web-0", Some("demo"), &params)? {
        let at = line.timestamp.map(|t| t.to_string()).unwrap_or_default();
        println!("  {at} {}", line.text);
    }
    let mut params = LogParams::default();
    params.container = Some("nginx".into());
    for line in cluster.pods().follow_logs("web-0", Some("demo"), &params)? {
        println!("  followed: {}", line?.text);
    }
    Ok(())
}

fn wait(cluster: &Cluster) -> Result<(), Failure> {
    // Fetch, then watch only that pod from its revision.
    let ready = cluster.pods().wait(
        "db-0",
        Some("demo"),
        &["Ready"],
        &[],
        Duration::from_secs(30),
    )?;
    println!("db-0 Ready at {}", ready.meta().version());
    Ok(())
}

fn yaml(cluster: &Cluster) -> Result<(), Failure> {
    let manifests = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: ops.example.com/v1
kind: Backup
metadata: {name: nightly, labels: {tier: db}}
spec: {schedule: "0 3 * * *", retain: 7}
"#;
    for item in cluster.create_all(manifests, Some("demo"), &WriteParams::default())? {
        println!(
            "  created {} {}",
            item.item().kind(),
            item.item().meta().name()
        );
    }
    let applied = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: applied}
data: {k: v1}
---
apiVersion: ops.example.com/v1
kind: Backup
metadata: {name: nightly, labels: {tier: db}}
spec: {schedule: "0 3 * * *", retain: 7}
"#;
    let manager = WriteParams::default().field_manager("kubewire");
    for item in cluster.apply_all(applied, Some("demo"), &manager)? {
        println!(
            "  applied {} {}",
            item.item().kind(),
            item.item().meta().name()
        );
    }
    Ok(())
}

fn typed(cluster: &Cluster) -> Result<(), Failure> {
    let pod = cluster.pods().fetch("web-0", Some("demo"))?;
    let typed: k8s_openapi::api::core::v1::Pod = pod.item().to_typed()?;
    let images: Vec<_> = typed
        .spec
        .iter()
        .flat_map(|s| &s.containers)
        .filter_map(|c| c.image.clone())
        .collect();
    println!("as k8s_openapi Pod: images {images:?}");
    Ok(())
}

fn exec(cluster: &Cluster) -> Result<(), Failure> {
    let pods = cluster.pods();
    let mut params = ExecParams::command(["sh", "-c", "echo out; echo err >&2"]);
    params.container = Some("app".into());
    let out = pods.exec("web-0", Some("demo"), &params)?;
    println!(
        "exec: stdout {:?} stderr {:?} exit {:?}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.exit_code()
    );
    let mut failing = ExecParams::command(["sh", "-c", "exit 3"]);
    failing.container = Some("app".into());
    failing.raise_on_error = true;
    let err = pods.exec("web-0", Some("demo"), &failing).unwrap_err();
    println!("raise_on_error: {err}");
    let mut cat = ExecParams::command(["cat"]);
    cat.container = Some("app".into());
    cat.stdin = true;
    cat.stderr = false;
    let mut session = pods.exec_session("web-0", Some("demo"), &cat)?;
    session.write(b"hello\n")?;
    session.write(b"world\n")?;
    session.close_stdin()?;
    let protocol = session.protocol();
    let rest = session.finish(true)?;
    println!(
        "interactive cat over {}: {:?}",
        protocol.name(),
        String::from_utf8_lossy(&rest.stdout)
    );
    let mut streams = pods.port_forward("web-0", Some("demo"), &[18080])?;
    let stream = &mut streams[0];
    let mut echoed = Vec::new();
    for line in [&b"ping\n"[..], b"second\n"] {
        stream.write_all(line)?;
        let mut buf = vec![0u8; line.len()];
        std::io::Read::read_exact(stream, &mut buf)?;
        echoed.push(String::from_utf8_lossy(&buf).into_owned());
    }
    println!("port-forward 18080 echoed {echoed:?}");
    Ok(())
}
