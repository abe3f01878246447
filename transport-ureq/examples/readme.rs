//! Every Rust snippet of the README that uses the blocking client, in
//! context, so that each one compiles: `conformance/tests/readme.rs` checks
//! that every README snippet stands, line for line, in this file or another
//! compiled one. (The `capabilities` example runs the same calls against
//! recorded apiserver traffic.)
//!
//! ```text
//! cargo run --example readme -- --run   # each snippet against a refused port: its error
//! ```

use std::time::Duration;

use kubewire::exchange::RateLimit;
use kubewire::leader::{LeaderEvent, LeaseParams};
use kubewire::request::ApiResource;
use kubewire::{Config, DeleteParams, ExecParams, LogParams, Patch, WriteParams};
use kubewire_ureq::Cluster;
use serde_json::json;

type Failure = Box<dyn std::error::Error>;

/// One README section's snippet, given a cluster.
type Tour = fn(&Cluster) -> Result<(), Failure>;

/// The README's "Using it" (against `KUBEWIRE_URL`, set by `main`).
#[rustfmt::skip] // the README's lines, as they stand there
fn using_it() -> Result<(), Failure> {
    use kubewire_ureq::Cluster;                     // or kubewire_isahc::Cluster

    let cluster = Cluster::from_env()?;             // in-cluster, KUBEWIRE_URL, KUBECONFIG, ~/.kube/config, else kubectl proxy
    let rs = cluster.replicasets().fetch("auth-v3", Some("demo"))?;   // missing -> Error::NotFound
    println!("{} observed {}", rs.meta().name(), rs.observed_replicas()?);  // absent -> Error::StatusUnavailable
    let rs2 = rs.labels().set("mylabel", "value")?;  // the answer is the new revision
    for pod in cluster.pods().namespace("demo")?.filter(Some("app=web"), None)?.iter()? {
        let pod = pod?;                              // pages through limit/continue
        println!("{} {:?}", pod.meta().name(), pod.phase());
    }
    let mut watcher = cluster.pods().namespace("demo")?.watch()?;     // from now: list, then watch
    match watcher.next_timeout(std::time::Duration::from_secs(5))? {
        Some(event) => println!("{} {}", event.evtype, event.item.meta().name()),
        None => { /* nothing yet; the watch stays open */ }
    }
    println!("{}", rs2.meta().version());
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn in_place(cluster: &Cluster) -> Result<(), Failure> {
    for pod in cluster.pods().namespace("demo")?.list()? {
        let spec = pod.field("spec");                                   // None when the object has none
        let node = spec.and_then(|s| s.get("nodeName")?.as_str());     // Cow<str>: borrowed unless escaped
        let ready = pod.field("status").and_then(|s| s.pointer("/containerStatuses/0/ready")?.as_bool());
        println!("{} on {:?}, first container ready: {:?}", pod.meta().name(), node, ready);
    }
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn writes(cluster: &Cluster) -> Result<(), Failure> {
    let cms = cluster.resource_at(ApiResource::new("", "v1", "ConfigMap", "configmaps", true)?).namespace("demo")?;
    let created = cms.create(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "fast"}}))?;
    let mut changed = created.to_value()?;
    changed["data"]["mode"] = json!("safe");
    cms.replace(changed.clone(), &WriteParams::default())?;   // resourceVersion is a precondition:
    let conflict = cms.replace(changed, &WriteParams::default());   // Err: 409 Conflict "the object has been modified"
    println!("{:?}", conflict.err().map(|e| e.http_status()));
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn patch(cluster: &Cluster) -> Result<(), Failure> {
    let pods = cluster.pods().namespace("demo")?;
    let cms = cluster.resource_at(ApiResource::new("", "v1", "ConfigMap", "configmaps", true)?).namespace("demo")?;
    let params = WriteParams::default();
    let manifest = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": "v1"}});
    let pod = pods.patch("web-1", None, &Patch::Strategic(json!({"metadata": {"labels": {"mylabel": "value"}}})), &WriteParams::default())?;
    let pod = pod.labels().set("mylabel", None)?;              // None removes (null in a strategic merge patch)
    let pod = pod.annotations().set("note", "hi")?;
    let failed = pod.patch(&Patch::Json(json!([{"op": "test", "path": "/metadata/name", "value": "x"}])), &params); // Err: 422
    cms.apply(manifest, &WriteParams::default().field_manager("kubewire"))?;   // server-side apply
    // another manager: Err 409 whose Status details.causes name the conflicting fields; params.force takes them
    println!("{:?}", failed.err().map(|e| e.http_status()));
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn delete(cluster: &Cluster) -> Result<(), Failure> {
    let pods = cluster.pods().namespace("demo")?;
    let mut now = DeleteParams::default();
    now.grace_period_seconds = Some(0);                        // also propagation_policy (Orphan, Background,
    pods.delete_with("gone-0", None, &now)?;                   // Foreground), preconditions, dry_run
    let gone = pods.filter(Some("app=tmp"), None)?.delete_collection(&DeleteParams::default())?;
    println!("{} deleted", gone.len());
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn status(cluster: &Cluster) -> Result<(), Failure> {
    let backups = cluster.resource_at(ApiResource::new("ops.example.com", "v1", "Backup", "backups", true)?).namespace("demo")?;
    let params = WriteParams::default();
    let new_status = json!({"conditions": []});
    let status = json!({"conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ok"}]});
    let current = backups.status("nightly", None)?;            // GET .../status
    current.update_status(new_status, &WriteParams::default())?;   // PUT .../status (resourceVersion precondition)
    backups.patch_status("nightly", None, &Patch::Merge(json!({"status": {"phase": "Ready"}})), &params)?;
    cluster.deployments().apply_status("shop", Some("demo"), status, &WriteParams::default().field_manager("me"))?;
    let scale = cluster.deployments().scale("shop", Some("demo"))?;      // Deployment, ReplicaSet,
    cluster.deployments().replace_scale(&scale.with_replicas(2), &params)?; // ReplicationController, StatefulSet
    cluster.replicationcontrollers().set_scale("legacy", Some("demo"), 2, &params)?;  // merge patch
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn resource(cluster: &Cluster) -> Result<(), Failure> {
    let backups = cluster.resource("ops.example.com/v1", "Backup")?;   // kubernetes_lite's resource()
    let found = cluster.discover("apps/v1", "deploy")?;                // kind, plural, singular or short name
    println!("{} {:?} {:?}", found.plural(), found.verbs(), found.subresources());
    let unknown = cluster.resource("ops.example.com/v1", "Bakup");   // Err(UnknownKind): "... did you mean ops.example.com/v1 Backup?"
    println!("{} {}", backups.view().resource(), unknown.is_err());
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn logs(cluster: &Cluster) -> Result<(), Failure> {
    let mut params = LogParams::default();
    params.container = Some("nginx".into());                   // also tail_lines, since_seconds,
    params.timestamps = true;                                  // previous, limit_bytes
    for line in cluster.pods().logs("web-0", Some("demo"), &params)? { println!("{:?} {}", line.timestamp, line.text); }
    for line in cluster.pods().follow_logs("web-0", Some("demo"), &params)? { println!("{}", line?.text); }
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn wait(cluster: &Cluster) -> Result<(), Failure> {
    let ready = cluster.pods().wait("db-0", Some("demo"), &["Ready"], &["Failed"], Duration::from_secs(60))?;
    // or on an item you hold: item.wait(&["Available"], &[], timeout)
    // Err(Wait(Raised { condition, reason })), Err(Wait(Deleted { name })), Err(Wait(TimedOut { after }))
    println!("{}", ready.meta().version());
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn yaml(cluster: &Cluster) -> Result<(), Failure> {
    let yaml_text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n";
    cluster.create_all(yaml_text, Some("demo"), &WriteParams::default())?;   // each document to its kind
    cluster.apply_all(yaml_text, Some("demo"), &WriteParams::default().field_manager("kubewire"))?;
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn rate_limit() -> Result<(), Failure> {
    let mut config = Config::discover()?;
    config.rate_limit = Some(RateLimit::new(5.0, 10)?);        // kubernetes_lite's qps / burst; off by default
    let cluster = Cluster::from_config(config)?;
    println!("{:?}", cluster.config().rate_limit);
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn typed(cluster: &Cluster) -> Result<(), Failure> {
    let pod: k8s_openapi::api::core::v1::Pod = cluster.pods().fetch("web-0", Some("demo"))?.item().to_typed()?;
    let item = kubewire::Item::from_typed(&pod)?;              // another kind is an error, not a mis-decode
    println!("{}", item.meta().name());
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn exec(cluster: &Cluster) -> Result<(), Failure> {
    let mut params = ExecParams::command(["sh", "-c", "echo out; echo err >&2"]);
    params.container = Some("app".into());                     // also stdin, tty, timeout
    let out = cluster.pods().exec("web-0", Some("demo"), &params)?;   // ExecOutput { stdout, stderr, exit }
    println!("{} {:?}", String::from_utf8_lossy(&out.stdout), out.exit_code());   // bytes: decoding is yours
    let exit = cluster.pods().exec_streaming("web-0", Some("demo"), &params, Some(&mut std::io::stdin()), &mut std::io::stdout(), &mut std::io::stderr())?;   // any Read, any Write
    params.raise_on_error = true;                              // a nonzero exit: Err(Error::Exec { code: Some(n), .. })
    let mut session = cluster.pods().exec_session("web-0", Some("demo"), &params)?;   // also attach()
    session.write(b"hello\n")?;                                // stdin as you go
    session.resize(120, 40)?;                                  // a tty's size
    session.close_stdin()?;                                    // then still read the rest:
    for event in &mut session { println!("{:?}", event?); }    // Stdout, Stderr, then Exit
    let mut ports = cluster.pods().port_forward("web-0", Some("demo"), &[18080])?;   // one stream per port
    ports[0].write_all(b"ping\n")?;                            // Read + Write (AsyncRead + AsyncWrite)
    let local = std::net::TcpListener::bind("127.0.0.1:8080")?;
    let forward = cluster.pods().forward_local("web-0", Some("demo"), 18080, local)?;   // kubectl port-forward
    println!("{} {:?}", forward.local_addr(), exit.code());
    Ok(())
}

#[rustfmt::skip] // the README's lines, as they stand there
fn controller(cluster: &Cluster) -> Result<(), Failure> {
    let pods = cluster.pods().namespace("demo")?.cache()?;   // listed, then kept current by a watch
    pods.wait_until_ready()?;                                  // the first list is complete
    let web = pods.list_by_label("app", "web")?;               // from memory; the label is indexed on first use
    let mut changes = pods.changes();                          // a work queue: the pods held, then each change; one entry per object
    let mut params = LeaseParams::default();                   // client-go's 15 s / 10 s / 2 s
    params.namespace = Some("demo".into());
    let mut leadership = cluster.lead("my-controller", "pod-a", &params)?;   // on a Lease
    for event in &mut leadership { if let LeaderEvent::BecameLeader = event { break } }
    while let Some(change) = changes.next() {
        if !leadership.is_leader() { break }                   // exact at any moment
        let change = change?;                                  // kind, key, item (bound: writes work)
        println!("{:?} {} ({} web pods at the start)", change.kind, change.key, web.len());
    }
    leadership.release();                                      // dropping it releases too
    Ok(())
}

fn run_my_code(cluster: &Cluster) {
    let _ = cluster.nodes().list();
}

#[rustfmt::skip] // the README's lines, as they stand there
fn replaying() -> Result<(), Failure> {
    let fixture = kubewire_conformance::Fixture::load("tests/fixtures/my-case.json")?;
    let server = kubewire_conformance::ReplayServer::start(vec![fixture])?;
    let cluster = kubewire_ureq::Cluster::new(&server.base_url())?;
    run_my_code(&cluster);
    server.finish()?; // Err lists mismatches (each answered 599) and unconsumed exchanges
    Ok(())
}

fn main() -> Result<(), Failure> {
    // Compiled by every `cargo test`; the calls below only need a cluster.
    let cluster = Cluster::new("http://127.0.0.1:9")?;
    let tours: [(&str, Tour); 12] = [
        ("in place", in_place),
        ("writes", writes),
        ("patch", patch),
        ("delete", delete),
        ("status", status),
        ("resource", resource),
        ("logs", logs),
        ("wait", wait),
        ("yaml", yaml),
        ("typed", typed),
        ("exec", exec),
        ("controller", controller),
    ];
    if std::env::args().nth(1).as_deref() != Some("--run") {
        println!("the README's snippets compile; `-- --run` tries them against 127.0.0.1:9");
        return Ok(());
    }
    for (name, tour) in tours {
        println!("{name}: {:?}", tour(&cluster).err().map(|e| e.to_string()));
    }
    println!("{:?}", using_it().err().map(|e| e.to_string()));
    println!("{:?}", rate_limit().err().map(|e| e.to_string()));
    println!("{:?}", replaying().err().map(|e| e.to_string()));
    Ok(())
}
