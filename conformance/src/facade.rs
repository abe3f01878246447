//! The facade suite: the seed's `Cluster` API over a transport, against the
//! replay server. One line per transport: [`crate::facade_suite!`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use kubewire::{
    Cluster, ClusterView, Config, Driver, Error, Item, WatchEventType,
    cache::ChangeKind,
    client::ConnectDriver,
    error::TransportErrorKind,
    request::{ApiResource, View},
    watch::{WatchStart, WatcherOptions},
};

use crate::chunking::Chunking;
use crate::fake::check::seed_prerequisites;
use crate::fake::{FakeApiserver, Fault};
use crate::fixture::Fixture;
use crate::sans_io::{SansIoDriver, SansIoTransport};
use crate::script::Report;

use crate::server::{ReplayServer, ServeOptions};
use crate::stream_scenarios::sh;
use crate::suite::corpus_fixture;

/// Sets up a check: given its fixtures, the cluster to use and a function
/// that ends the replay and reports what it saw.
pub type Harness<D> = dyn Fn(Vec<Fixture>) -> (Cluster<D>, Box<dyn FnOnce() -> Report>);

/// One facade check: the fixtures it replays and what it does.
type Check<D> = (&'static str, &'static [&'static str], fn(&Cluster<D>));

fn quickstart<D: Driver>(cluster: &Cluster<D>) {
    let mut pages = cluster.namespaces().iter().expect("iterate");
    let mut names = Vec::new();
    while let Some(ns) = D::wait(pages.next()) {
        names.push(ns.expect("namespace").meta().name().to_string());
    }
    assert_eq!(
        names,
        [
            "default",
            "demo",
            "kube-node-lease",
            "kube-public",
            "kube-system"
        ]
    );
    let rs = D::wait(cluster.replicasets().fetch("auth-v3", Some("demo"))).expect("auth-v3");
    assert_eq!(
        (rs.meta().name(), rs.observed_replicas().expect("observed")),
        ("auth-v3", 2)
    );
    assert_eq!(rs.spec()["replicas"], 2);
    let rs2 = D::wait(rs.labels().set("mylabel", "value")).expect("labelled");
    assert_ne!(rs.meta().version(), rs2.meta().version());
    assert_eq!(rs2.labels().get("mylabel"), Some("value"));
    let web = demo_pods(cluster)
        .filter(Some("app=web"), None)
        .expect("filter");
    let pods = D::wait(web.list()).expect("list");
    let names: Vec<&str> = pods.iter().map(|p| p.meta().name()).collect();
    assert_eq!(names, ["web-0", "web-1"]);
    // Fields read in place, as the quickstart reads them.
    let images: Vec<_> = pods[0]
        .field("spec")
        .and_then(|spec| spec.get("containers"))
        .into_iter()
        .flat_map(|containers| containers.elements())
        .filter_map(|c| c.get("image")?.as_str())
        .collect();
    assert_eq!(images, ["nginx:1.27", "busybox:1.36"]);
    assert_eq!(
        pods[0]
            .field("status")
            .and_then(|s| s.pointer("/containerStatuses/0/restartCount")?.as_u64()),
        Some(0)
    );
    let mut watcher = demo_pods(cluster).watch().expect("watch");
    let mut seen = Vec::new();
    while let Some(event) = D::wait(watcher.next()) {
        let event = event.expect("event");
        seen.push(format!("{} {}", event.evtype, event.item.meta().version()));
        if seen.len() == 3 {
            break;
        }
    }
    assert_eq!(seen, ["ADDED 7771", "MODIFIED 7772", "MODIFIED 7773"]);
    // Nothing more arrives: "nothing yet", and the watch stays open.
    assert!(
        D::wait(watcher.next_timeout(Duration::from_millis(200)))
            .expect("no error")
            .is_none()
    );
    watcher.close();
    assert!(
        D::wait(watcher.next()).is_none(),
        "iteration ends once closed"
    );
}

/// The pods of namespace demo.
fn demo_pods<D: Driver>(cluster: &Cluster<D>) -> ClusterView<D, kubewire::Pod> {
    cluster.pods().namespace("demo").expect("ns")
}

/// A watch of the pods in demo after resourceVersion 7800 (the
/// `pods-watch` recording: three events, then silence).
fn demo_pods_after_7800<D: Driver>(
    cluster: &Cluster<D>,
) -> kubewire::client::WatchIter<D, kubewire::Pod> {
    let mut options = WatcherOptions::default();
    options.start = WatchStart::Version("7800".into());
    demo_pods(cluster).watch_with(options).expect("watch")
}

/// A cache of the pods in demo: listed, then kept current by the watch;
/// reads from memory, a label index, and a work queue of changes.
fn cache<D: Driver>(cluster: &Cluster<D>) {
    let pods = demo_pods(cluster).cache().expect("cache");
    let mut changes = pods.changes();
    D::wait(pods.wait_until_ready()).expect("ready");
    // The list's nine pods, then tour-0 and its two changes: the queue
    // holds one entry per object, tour-0's at its last version.
    let mut queued = Vec::new();
    while queued.len() < 10 {
        let change = D::wait(changes.next()).expect("a change").expect("a pod");
        queued.push(format!(
            "{:?} {} {}",
            change.kind,
            change.key,
            change.item.meta().version()
        ));
        if change.key.name == "tour-0" && change.item.meta().version() != "7773" {
            // Taken before its later changes arrived: they come next.
            queued.pop();
        }
    }
    assert_eq!(queued[0], "Added demo/api-0 7728");
    // Added, or Modified when its addition was taken at 7771 already.
    assert!(
        queued.iter().any(|q| q.ends_with("demo/tour-0 7773")),
        "{queued:?}"
    );
    let tour = pods
        .get("tour-0")
        .expect("a pod")
        .expect("tour-0 is cached");
    assert_eq!(tour.meta().version(), "7773");
    assert_eq!(tour.meta().labels().get("stage"), Some("two"));
    let names = |items: Vec<kubewire::Bound<D, kubewire::Pod>>| {
        items
            .iter()
            .map(|p| p.meta().name().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(pods.list_by_label("app", "web").expect("pods")),
        ["web-0", "web-1"]
    );
    assert_eq!(
        names(pods.list_by_label("stage", "two").expect("pods")),
        ["tour-0"]
    );
    assert_eq!(pods.len(), 10);
    let snapshot = pods.snapshot();
    assert_eq!(snapshot.in_namespace("demo").count(), 10);
    assert_eq!(pods.list_in("demo").expect("pods").len(), 10);
    assert!(pods.list_in("other").expect("pods").is_empty());
    assert!(pods.get("nope").expect("no error").is_none());
    pods.close();
    assert!(
        D::wait(changes.next()).is_none(),
        "the changes end when the cache is closed"
    );
    assert_eq!(pods.len(), 10, "a closed cache keeps what it had");
}

/// A cache of Deployments follows an object it first meets in a
/// `MODIFIED` event through its foreground deletion, to `DELETED`; its work
/// queue ends with one entry per object: shop added, and brief deleted
/// (folded into that last change, or absent when brief came and went
/// before the queue was taken: a work queue is about the state now).
fn cache_deletion<D: Driver>(cluster: &Cluster<D>) {
    let deployments = cluster
        .deployments()
        .namespace("demo")
        .expect("ns")
        .cache()
        .expect("cache");
    let mut changes = deployments.changes();
    D::wait(deployments.wait_until_ready()).expect("ready");
    // brief's deletion, at 7903, is the last change the recording shows.
    let started = Instant::now();
    while deployments.resource_version().as_deref() != Some("7903") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "current to 7903: {:?}",
            deployments.resource_version()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(deployments.get("brief").expect("no error").is_none());
    assert_eq!(deployments.len(), 1, "only shop is left");
    deployments.close();
    let mut seen = Vec::new();
    while let Some(change) = D::wait(changes.next()) {
        let change = change.expect("a deployment");
        seen.push((change.kind, change.key.name.clone()));
    }
    assert!(
        seen.contains(&(ChangeKind::Added, "shop".to_string())),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .filter(|(_, name)| name == "brief")
            .all(|(kind, _)| *kind == ChangeKind::Deleted),
        "{seen:?}"
    );
}

/// A cache whose list the server refuses for good: waiting for it says
/// why, and its changes end.
fn cache_forbidden<D: Driver>(cluster: &Cluster<D>) {
    let pods = demo_pods(cluster).cache().expect("cache");
    let mut changes = pods.changes();
    let err = D::wait(pods.wait_until_ready()).expect_err("refused");
    assert_eq!(err.api().map(|a| a.http_status), Some(403), "{err}");
    assert!(err.to_string().contains("forbidden"), "{err}");
    assert!(D::wait(changes.next()).is_none(), "the changes end");
    assert!(!pods.is_ready() && pods.is_empty());
}

fn next_timeout<D: Driver>(cluster: &Cluster<D>) {
    let mut w = demo_pods_after_7800(cluster);
    let started = Instant::now();
    let mut types = Vec::new();
    while types.len() < 3 {
        match D::wait(w.next_timeout(Duration::from_secs(5))).expect("no error") {
            Some(e) => types.push(e.evtype),
            None => panic!("an event within 5 s"),
        }
    }
    assert_eq!(
        types,
        [
            WatchEventType::Added,
            WatchEventType::Modified,
            WatchEventType::Modified
        ]
    );
    let idle = Instant::now();
    assert!(
        D::wait(w.next_timeout(Duration::from_millis(300)))
            .expect("no error")
            .is_none()
    );
    assert!(
        idle.elapsed() < Duration::from_secs(3),
        "next_timeout does not block beyond its timeout"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // A stop handle ends the iteration from another thread while it waits.
    let stop = w.stop_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        stop.stop();
    });
    let waiting = Instant::now();
    assert!(D::wait(w.next()).is_none(), "iteration ends once stopped");
    assert!(waiting.elapsed() < Duration::from_secs(3));
    stopper.join().expect("stopper");
}

/// A streaming list: the ten pods arrive as `ADDED`; neither the bookmark
/// that ends the initial events nor the plain one after it is delivered.
fn bookmarks<D: Driver>(cluster: &Cluster<D>) {
    let mut options = WatcherOptions::default();
    options.start = WatchStart::InitialEvents;
    options.timeout_seconds = Some(3);
    let mut w = demo_pods(cluster).watch_with(options).expect("watch");
    let mut seen = Vec::new();
    while let Some(event) = D::wait(w.next_timeout(Duration::from_millis(1500))).expect("no error")
    {
        seen.push(format!("{} {}", event.evtype, event.item.meta().name()));
    }
    assert_eq!(seen.len(), 10, "{seen:?}");
    assert!(seen.iter().all(|s| s.starts_with("ADDED ")), "{seen:?}");
    assert_eq!(seen[9], "ADDED web-1");
}

fn close<D: Driver>(cluster: &Cluster<D>) {
    let mut w = demo_pods_after_7800(cluster);
    for _ in 0..3 {
        D::wait(w.next()).expect("an event").expect("no error");
    }
    // Closing from elsewhere ends the idle watch at once.
    let closer = {
        let cluster = cluster.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            cluster.close();
        })
    };
    let waiting = Instant::now();
    assert!(
        D::wait(w.next()).is_none(),
        "the watch ends when its cluster closes"
    );
    assert!(waiting.elapsed() < Duration::from_secs(3));
    closer.join().expect("closer");
    assert!(cluster.is_closed());
    let err = D::wait(cluster.pods().fetch("web-0", Some("demo"))).unwrap_err();
    assert!(matches!(err, Error::Closed), "{err}");
}

fn fallback<D: Driver>(cluster: &Cluster<D>) {
    let resource =
        ApiResource::new("apps", "v2", "Deployment", "deployments", true).expect("valid");
    let view = View::dynamic(cluster.config().clone(), resource)
        .with_api_paths(vec!["apis/apps/v2".into(), "apis/apps/v1".into()])
        .expect("paths")
        .namespace("demo")
        .expect("ns");
    let items: Vec<_> =
        D::wait(ClusterView::new(cluster.clone(), view).list()).expect("apps/v1 answers");
    assert!(!items.is_empty());
    assert!(items.iter().all(|d| d.api_version() == "apps/v1"));
}

fn namespace_delete_409<D: Driver>(cluster: &Cluster<D>) {
    D::wait(cluster.namespaces().delete("scratch", None)).expect("terminating");
    D::wait(cluster.namespaces().delete("scratch", None))
        .expect("the 409 of a terminating namespace is hidden");
    let err = D::wait(cluster.namespaces().fetch("scratch", None)).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
}

fn retry_429<D: Driver>(cluster: &Cluster<D>) {
    let started = Instant::now();
    let nodes = D::wait(cluster.nodes().list()).expect("retried after Retry-After");
    assert_eq!(nodes[0].meta().name(), "node-1");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited for Retry-After"
    );
}

fn errors_and_proxy<D: Driver>(cluster: &Cluster<D>) {
    let pod = D::wait(cluster.pods().fetch("web-0", Some("demo"))).expect("web-0");
    assert_eq!(pod.containers().expect("containers").len(), 2);
    let err = D::wait(cluster.pods().fetch("nope-0", Some("demo"))).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    assert!(
        matches!(
            D::wait(cluster.pods().fetch("web-0", None)),
            Err(Error::Namespace(_))
        ),
        "no request is made"
    );
}

fn discovery_proxy<D: Driver>(cluster: &Cluster<D>) {
    let proxy = cluster.proxy();
    assert_eq!(
        D::wait(proxy.get(&["version"], &[])).expect("version")["gitVersion"],
        "v1.36.2"
    );
    assert_eq!(
        D::wait(proxy.get(&["api"], &[])).expect("api")["versions"][0],
        "v1"
    );
    assert!(D::wait(proxy.get(&["api", "v1"], &[])).expect("v1")["resources"].is_array());
    assert!(D::wait(proxy.get(&["apis"], &[])).expect("apis")["groups"].is_array());
    assert!(D::wait(proxy.get(&["apis/apps", "v1"], &[])).expect("apps")["resources"].is_array());
}

fn create<D: Driver>(cluster: &Cluster<D>) {
    let configmaps = ApiResource::new("", "v1", "ConfigMap", "configmaps", true).expect("valid");
    let cms = ClusterView::<D, Item>::new(
        cluster.clone(),
        View::dynamic(cluster.config().clone(), configmaps),
    )
    .namespace("demo")
    .expect("ns");
    let manifest = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "fast"}});
    let created = D::wait(cms.create(manifest.clone())).expect("created");
    assert_eq!(created.meta().version(), "7775");
    let err = D::wait(cms.create(manifest)).unwrap_err();
    assert_eq!(err.api().map(|e| e.reason()), Some("AlreadyExists"));
    let err = D::wait(cluster.create(
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap"}),
        Some("demo"),
    ))
    .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "no name: {err}");
    let err = D::wait(cluster
        .create(serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "a"}}), Some("b")))
        .unwrap_err();
    assert!(matches!(err, Error::Namespace(_)), "{err}");
}

fn logs<D: Driver>(cluster: &Cluster<D>) {
    let pods = cluster.pods();
    let mut params = kubewire::LogParams::default();
    params.container = Some("nginx".into());
    params.tail_lines = Some(3);
    let lines = D::wait(pods.logs("web-0", Some("demo"), &params)).expect("logs");
    assert_eq!(
        lines.last().map(|l| l.text.as_str()),
        Some("last line without newline")
    );
    let mut params = kubewire::LogParams::default();
    params.container = Some("nginx".into());
    params.timestamps = true;
    let lines = D::wait(pods.logs("web-0", Some("demo"), &params)).expect("logs");
    assert!(lines.iter().all(|l| l.timestamp.is_some()), "{lines:?}");
    let mut params = kubewire::LogParams::default();
    params.container = Some("nginx".into());
    let mut lines = D::wait(pods.follow_logs("web-0", Some("demo"), &params)).expect("follow");
    let mut followed = Vec::new();
    while let Some(line) = D::wait(lines.next()) {
        followed.push(line.expect("line").text);
    }
    assert_eq!(
        followed,
        [
            "nginx: starting",
            "nginx: listening on :80",
            "GET /healthz 200",
            "GET /healthz 200"
        ]
    );
}

fn proxy_watch<D: Driver>(cluster: &Cluster<D>) {
    let proxy = cluster.proxy();
    let mut events = D::wait(proxy.watch(
        &["api/v1", "namespaces", "demo", "pods"],
        &[("resourceVersion", "7800"), ("allowWatchBookmarks", "true")],
    ))
    .expect("watch");
    let versions: Vec<String> = (0..3)
        .filter_map(|_| D::wait(events.next()))
        .map(|e| e.map(|e| e.item.meta().version().to_string()))
        .collect::<kubewire::Result<_>>()
        .expect("events");
    assert_eq!(versions, ["7801", "7802", "7803"]);
}

fn create_seed_kind<D: Driver>(cluster: &Cluster<D>) {
    let created = D::wait(cluster.create(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}),
        None,
    ))
    .expect("created");
    let kubewire::AnyItem::Namespace(ns) = created else {
        panic!("the item of the right kind, got {created:?}")
    };
    assert_eq!(
        ns.phase().expect("phase"),
        kubewire::model::NamespacePhase::Active
    );
}

fn pod_at(name: &str, version: &str) -> kubewire::Pod {
    let json = format!(
        r#"{{"kind":"Pod","apiVersion":"v1","metadata":{{"name":"{name}","namespace":"demo","resourceVersion":"{version}"}},"status":{{"phase":"Pending"}}}}"#
    );
    kubewire::model::TypedItem::from_item(
        kubewire::request::decode_item(bytes::Bytes::from(json)).expect("pod"),
    )
    .expect("a Pod")
}

fn wait_ready<D: Driver>(cluster: &Cluster<D>) {
    let pod = cluster.pods().bind(pod_at("db-0", "7729"));
    let ready = D::wait(pod.wait(&["Ready"], &[], Duration::from_secs(10))).expect("ready");
    assert_eq!(ready.meta().version(), "7877");
}

fn wait_by_name<D: Driver>(cluster: &Cluster<D>) {
    let ready = D::wait(cluster.pods().wait(
        "db-0",
        Some("demo"),
        &["Ready"],
        &[],
        Duration::from_secs(10),
    ))
    .expect("ready");
    assert_eq!(ready.meta().version(), "7877");
}

fn wait_raises<D: Driver>(cluster: &Cluster<D>) {
    let pod = cluster.pods().bind(pod_at("db-0", "7729"));
    let err =
        D::wait(pod.wait(&["ContainersReady"], &["Ready"], Duration::from_secs(10))).unwrap_err();
    assert!(
        matches!(err, Error::Wait(kubewire::error::WaitFailure::Raised { ref condition, .. }) if condition == "Ready"),
        "{err}"
    );
}

fn wait_times_out<D: Driver>(cluster: &Cluster<D>) {
    let pod = cluster.pods().bind(pod_at("db-0", "7729"));
    let started = Instant::now();
    let err = D::wait(pod.wait(&["Initialized"], &[], Duration::from_millis(500))).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Wait(kubewire::error::WaitFailure::TimedOut { .. })
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

fn discovered_resource<D: Driver>(cluster: &Cluster<D>) {
    let crds = cluster.resource_at(
        ApiResource::new(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
        )
        .expect("valid"),
    );
    let manifest = corpus_fixture("crd-discovery").exchanges[0]
        .request
        .body
        .json()
        .expect("the recorded CRD manifest");
    D::wait(crds.create(manifest)).expect("crd created");
    let crd = D::wait(
        D::wait(crds.fetch("backups.ops.example.com", None))
            .expect("crd")
            .wait(&["Established"], &[], Duration::from_secs(5)),
    )
    .expect("already established");
    assert_eq!(crd.meta().name(), "backups.ops.example.com");
    // kubernetes_lite's resource(api_version, kind), through discovery.
    let backups = D::wait(cluster.resource("ops.example.com/v1", "Backup"))
        .expect("discovered")
        .namespace("demo")
        .expect("namespaced");
    let created = D::wait(backups
        .create(serde_json::json!({"apiVersion": "ops.example.com/v1", "kind": "Backup", "metadata": {"name": "nightly", "labels": {"tier": "db"}}, "spec": {"schedule": "0 3 * * *", "retain": 7}})))
        .expect("backup");
    let names: Vec<String> = D::wait(backups.list())
        .expect("list")
        .iter()
        .map(|b| b.meta().name().to_string())
        .collect();
    assert_eq!(names, ["nightly"]);
    assert_eq!(
        D::wait(backups.fetch("nightly", None))
            .expect("fetch")
            .meta()
            .uid(),
        created.meta().uid()
    );
    // Cached: all namespaces asks no discovery again.
    let everywhere = D::wait(
        D::wait(cluster.resource("ops.example.com/v1", "Backup"))
            .expect("cached")
            .list(),
    )
    .expect("all namespaces");
    assert_eq!(everywhere[0].meta().namespace(), Some("demo"));
}

fn discovery_refresh<D: Driver>(cluster: &Cluster<D>) {
    let deploy = D::wait(cluster.discover("apps/v1", "Deployment")).expect("deployments");
    assert_eq!(deploy.subresources(), ["scale", "status"]);
    let backups =
        D::wait(cluster.discover("ops.example.com/v1", "Backup")).expect("found after a refresh");
    assert_eq!(backups.plural(), "backups");
    let err = D::wait(cluster.resource("ops.example.com/v1", "Bakup")).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownKind { near, .. } if near.first().is_some_and(|n| n == "ops.example.com/v1 Backup")),
        "{err}"
    );
}

fn configmaps_in_demo<D: Driver>(cluster: &Cluster<D>) -> ClusterView<D, Item> {
    cluster
        .resource_at(ApiResource::new("", "v1", "ConfigMap", "configmaps", true).expect("valid"))
        .namespace("demo")
        .expect("ns")
}

fn replace_and_dry_run<D: Driver>(cluster: &Cluster<D>) {
    let cms = configmaps_in_demo(cluster);
    let manifest = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "fast"}});
    let created = D::wait(cms.create(manifest.clone())).expect("created");
    D::wait(cms.create(manifest.clone())).expect_err("exists");
    let mut bad = manifest.clone();
    bad["metadata"]["name"] = "Bad_Name".into();
    let err = D::wait(cms.create(bad)).unwrap_err();
    assert_eq!(err.http_status(), Some(422), "{err}");
    let mut changed = created.to_value().expect("JSON");
    changed["data"]["mode"] = "safe".into();
    let replaced =
        D::wait(cms.replace(changed.clone(), &kubewire::WriteParams::default())).expect("replaced");
    assert_eq!(replaced.meta().version(), "7776");
    // The same body again carries the stale resourceVersion: 409 Conflict.
    let err = D::wait(cms.replace(changed, &kubewire::WriteParams::default())).unwrap_err();
    assert_eq!(
        (err.http_status(), err.api().map(|e| e.reason())),
        (Some(409), Some("Conflict"))
    );
    assert!(err.to_string().contains("has been modified"), "{err}");
    let mut dry = kubewire::WriteParams::default();
    dry.dry_run = true;
    let mut manifest = manifest;
    manifest["metadata"]["name"] = "dry".into();
    let answer = D::wait(cms.create_with(manifest, &dry)).expect("dry run");
    assert!(answer.meta().version().is_empty(), "nothing persisted");
}

fn patch_types<D: Driver>(cluster: &Cluster<D>) {
    let pod = cluster.pods().bind(pod_at("web-1", "7776"));
    let labelled = D::wait(pod.labels().set("mylabel", "value")).expect("set");
    assert_eq!(labelled.labels().get("mylabel"), Some("value"));
    let unlabelled = D::wait(labelled.labels().set("mylabel", None)).expect("removed");
    assert_eq!(unlabelled.labels().get("mylabel"), None);
    let annotated = D::wait(unlabelled
        .patch(
            &kubewire::Patch::Json(serde_json::json!([{"op": "add", "path": "/metadata/annotations", "value": {"note": "hi"}}])),
            &kubewire::WriteParams::default(),
        ))
        .expect("json patch");
    assert_eq!(annotated.annotations().get("note"), Some("hi"));
    let err = D::wait(annotated.patch(
        &kubewire::Patch::Json(
            serde_json::json!([{"op": "test", "path": "/metadata/name", "value": "other"}]),
        ),
        &kubewire::WriteParams::default(),
    ))
    .unwrap_err();
    assert_eq!(err.http_status(), Some(422), "a failed test op: {err}");
    let cms = configmaps_in_demo(cluster);
    let applied = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": "v1"}});
    let mine = kubewire::WriteParams::default().field_manager("kubewire");
    D::wait(cms.apply(applied.clone(), &mine)).expect("created by apply");
    let mut theirs = applied;
    theirs["data"]["k"] = "v2".into();
    let other = kubewire::WriteParams::default().field_manager("other-tool");
    let err = D::wait(cms.apply(theirs.clone(), &other)).unwrap_err();
    let causes = &err
        .api()
        .and_then(|e| e.status())
        .and_then(|s| s.details.as_ref())
        .expect("details")
        .causes;
    assert_eq!(
        (causes[0].field.as_str(), causes[0].message.as_str()),
        (".data.k", "conflict with \"kubewire\"")
    );
    let mut force = other;
    force.force = true;
    let taken = D::wait(cms.apply(theirs, &force)).expect("forced");
    assert_eq!(taken.spec().get("k"), None, "a ConfigMap has no spec");
    assert_eq!(taken.to_value().expect("JSON")["data"]["k"], "v2");
}

fn annotations<D: Driver>(cluster: &Cluster<D>) {
    let pod = cluster.pods().bind(pod_at("web-1", "7778"));
    let noted = D::wait(pod.annotations().set("note", "hi")).expect("set");
    assert_eq!(noted.annotations().get("note"), Some("hi"));
    let plain = D::wait(noted.annotations().set("note", None)).expect("removed");
    assert_eq!(plain.annotations().get("note"), None);
    assert_eq!(plain.meta().version(), "7780");
}

fn deletes<D: Driver>(cluster: &Cluster<D>) {
    let pods = demo_pods(cluster);
    let mut now = kubewire::DeleteParams::default();
    now.grace_period_seconds = Some(0);
    D::wait(pods.delete_with("gone-0", None, &now)).expect("deleted");
    let deleted = D::wait(
        pods.clone()
            .filter(Some("app=tmp"), None)
            .expect("selector")
            .delete_collection(&kubewire::DeleteParams::default()),
    )
    .expect("collection");
    let names: Vec<&str> = deleted.iter().map(|p| p.meta().name()).collect();
    assert_eq!(names, ["tmp-0", "tmp-1"]);
    let err = D::wait(pods.delete("gone-0", None)).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    let err = D::wait(
        cluster
            .pods()
            .delete_collection(&kubewire::DeleteParams::default()),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Namespace(_)), "no request: {err}");
}

fn scale<D: Driver>(cluster: &Cluster<D>) {
    let rs = D::wait(cluster.replicasets().scale("auth-v3", Some("demo"))).expect("rs");
    assert_eq!(rs.name(), "auth-v3");
    let rc = D::wait(
        cluster
            .replicationcontrollers()
            .scale("legacy", Some("demo")),
    )
    .expect("rc");
    let deployments = cluster.deployments();
    let shop = D::wait(deployments.scale("shop", Some("demo"))).expect("deploy");
    let replaced = D::wait(
        deployments.replace_scale(&shop.with_replicas(2), &kubewire::WriteParams::default()),
    )
    .expect("replaced");
    assert_eq!(replaced.replicas(), 2);
    let set = D::wait(cluster.replicationcontrollers().set_scale(
        "legacy",
        Some("demo"),
        2,
        &kubewire::WriteParams::default(),
    ))
    .expect("set");
    assert_eq!((rc.name(), set.replicas()), ("legacy", 2));
}

fn status<D: Driver>(cluster: &Cluster<D>) {
    let backups = cluster
        .resource_at(
            ApiResource::new("ops.example.com", "v1", "Backup", "backups", true).expect("valid"),
        )
        .namespace("demo")
        .expect("ns");
    let condition = serde_json::json!({"type": "Ready", "status": "False", "reason": "Scheduling", "message": "waiting for window", "lastTransitionTime": "2026-11-21T05:30:00Z"});
    let patched = D::wait(backups.patch_status(
        "nightly",
        None,
        &kubewire::Patch::Merge(serde_json::json!({"status": {"conditions": [condition]}})),
        &kubewire::WriteParams::default(),
    ))
    .expect("patched");
    assert_eq!(patched.conditions()[0].0, "Ready");
    let current = D::wait(backups.status("nightly", None)).expect("status");
    let mut status = current.to_value().expect("JSON")["status"].clone();
    status["conditions"][0]["message"] = "window opens 03:00".into();
    let replaced = D::wait(current.update_status(status, &kubewire::WriteParams::default()))
        .expect("update_status");
    assert_eq!(replaced.meta().version(), "7857");
    let main = D::wait(replaced.patch(
        &kubewire::Patch::Merge(
            serde_json::json!({"status": {"conditions": []}, "spec": {"retain": 8}}),
        ),
        &kubewire::WriteParams::default(),
    ))
    .expect("main patch");
    assert_eq!(
        main.to_value().expect("JSON")["status"]["conditions"][0]["message"],
        "window opens 03:00",
        "a status write on the main resource is ignored"
    );
    let mut apply = kubewire::WriteParams::default().field_manager("kubewire-status");
    apply.force = true;
    let applied = D::wait(cluster
        .deployments()
        .apply_status(
            "shop",
            Some("demo"),
            serde_json::json!({"conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ok"}]}),
            &apply,
        ))
        .expect("apply_status");
    assert_eq!(applied.meta().version(), "7859");
}

fn wait_deleted<D: Driver>(cluster: &Cluster<D>) {
    let deployments = cluster.deployments();
    let mut dry = kubewire::DeleteParams::default();
    dry.dry_run = true;
    D::wait(deployments.delete_with("brief", Some("demo"), &dry)).expect("dry run");
    let json = r#"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"brief","namespace":"demo","resourceVersion":"7887"}}"#;
    let brief = deployments.bind(
        kubewire::model::TypedItem::from_item(
            kubewire::request::decode_item(bytes::Bytes::from(json)).expect("item"),
        )
        .expect("a Deployment"),
    );
    // The wait runs beside the deletion it waits for, as it must against
    // a server: the deletion's events are what the wait sees.
    let waiter = {
        let brief = brief.clone();
        std::thread::spawn(move || {
            D::wait(brief.wait(&["Available"], &[], Duration::from_secs(10))).unwrap_err()
        })
    };
    let mut foreground = kubewire::DeleteParams::default();
    foreground.propagation_policy = Some(kubewire::request::PropagationPolicy::Foreground);
    D::wait(brief.delete_with(&foreground)).expect("deleted");
    let err = waiter.join().expect("the waiter");
    assert!(
        matches!(err, Error::Wait(kubewire::error::WaitFailure::Deleted { ref name }) if name == "brief"),
        "{err}"
    );
}

fn multi_document<D: Driver>(cluster: &Cluster<D>) {
    let created = D::wait(cluster
        .create_all(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n\
             ---\n\
             apiVersion: ops.example.com/v1\nkind: Backup\nmetadata:\n  name: nightly\n  labels: {tier: db}\n\
             spec:\n  schedule: \"0 3 * * *\"\n  retain: 7\n",
            Some("demo"),
            &kubewire::WriteParams::default(),
        ))
        .expect("created");
    let kinds: Vec<&str> = created.iter().map(|i| i.item().kind()).collect();
    assert_eq!(kinds, ["ConfigMap", "Backup"]);
    // A bad document anywhere: nothing is sent.
    let err = D::wait(cluster.create_all(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\nkind: Secret\n",
        Some("demo"),
        &kubewire::WriteParams::default(),
    ))
    .unwrap_err();
    assert!(err.to_string().contains("YAML document 2"), "{err}");
    let applied = D::wait(cluster.apply_all(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {k: v1}\n\
             ---\napiVersion: ops.example.com/v1\nkind: Backup\n\
             metadata: {name: nightly, labels: {tier: db}}\n\
             spec: {schedule: \"0 3 * * *\", retain: 7}\n",
        Some("demo"),
        &kubewire::WriteParams::default().field_manager("kubewire"),
    ))
    .expect("applied");
    assert_eq!(applied.len(), 2);
    assert_eq!(applied[1].item().meta().namespace(), Some("demo"));
}

#[cfg(feature = "typed")]
fn typed_interop<D: Driver>(cluster: &Cluster<D>) {
    use k8s_openapi::api::core::v1::Pod as OpenApiPod;
    let pod = D::wait(cluster.pods().fetch("web-0", Some("demo"))).expect("web-0");
    let typed: OpenApiPod = pod.item().to_typed().expect("a k8s-openapi Pod");
    assert_eq!(typed.metadata.name.as_deref(), Some("web-0"));
    assert_eq!(typed.spec.as_ref().expect("spec").containers.len(), 2);
    assert_eq!(
        typed.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Running")
    );
    let back = Item::from_typed(&typed).expect("back");
    assert_eq!(back, *pod.item(), "same uid and resourceVersion");
    assert!(
        pod.item()
            .to_typed::<k8s_openapi::api::core::v1::Secret>()
            .is_err()
    );
}

/// `cluster.typed::<K>()`: the views of any k8s-openapi type, here a
/// cache of k8s-openapi Pods whose items convert on access.
#[cfg(feature = "typed")]
fn typed_cache<D: Driver>(cluster: &Cluster<D>) {
    use k8s_openapi::api::core::v1::Pod as OpenApiPod;
    let pods = cluster
        .typed::<OpenApiPod>()
        .expect("a typed view")
        .namespace("demo")
        .expect("ns")
        .cache()
        .expect("cache");
    let mut changes = pods.changes();
    D::wait(pods.wait_until_ready()).expect("ready");
    // The watch's first event: every recorded request was made.
    while let Some(change) = D::wait(changes.next()) {
        if change.expect("a pod").key.name == "tour-0" {
            break;
        }
    }
    let web = pods.get("web-0").expect("a pod").expect("web-0");
    assert_eq!(web.meta().labels().get("app"), Some("web"), "raw accessors");
    let typed: OpenApiPod = web.typed().expect("a k8s-openapi Pod");
    assert_eq!(typed.metadata.name.as_deref(), Some("web-0"));
    assert_eq!(
        pods.list_by_label("tier", "frontend").expect("pods").len(),
        2
    );
    pods.close();
}

fn exec<D: Driver>(cluster: &Cluster<D>) {
    let pods = cluster.pods();
    let out =
        D::wait(pods.exec("web-0", Some("demo"), &sh("echo out; echo err >&2"))).expect("exec");
    assert_eq!(
        (&out.stdout[..], &out.stderr[..]),
        (&b"out\n"[..], &b"err\n"[..])
    );
    assert_eq!(out.exit_code(), Some(0));
}

fn exec_exit_code<D: Driver>(cluster: &Cluster<D>) {
    let pods = cluster.pods();
    let out = D::wait(pods.exec("web-0", Some("demo"), &sh("exit 3"))).expect("exec");
    assert_eq!(out.exit_code(), Some(3), "a nonzero exit is a value");
    let mut raising = sh("exit 3");
    raising.raise_on_error = true;
    let err = D::wait(pods.exec("web-0", Some("demo"), &raising)).unwrap_err();
    assert!(matches!(err, Error::Exec { code: Some(3), .. }), "{err}");
    assert!(err.to_string().contains("code 3"), "{err}");
}

fn exec_refused<D: Driver>(cluster: &Cluster<D>) {
    let pods = cluster.pods();
    let err = D::wait(pods.exec("nope", Some("demo"), &sh("echo out"))).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    let mut params = sh("echo out");
    params.container = Some("nope".into());
    let err = D::wait(pods.exec("web-0", Some("demo"), &params)).unwrap_err();
    assert_eq!(err.http_status(), Some(400));
    assert!(
        err.to_string().contains("container nope is not valid"),
        "{err}"
    );
}

fn exec_stdin<D: Driver>(cluster: &Cluster<D>) {
    let mut params = kubewire::ExecParams::command(["cat"]);
    params.container = Some("app".into());
    params.stdin = true;
    params.stderr = false;
    let pods = cluster.pods();
    let mut session = D::wait(pods.exec_session("web-0", Some("demo"), &params)).expect("session");
    assert_eq!(session.protocol(), kubewire::stream::ChannelProtocol::V5);
    D::wait(session.write(b"hello\n")).expect("write");
    D::wait(session.write(b"world\n")).expect("write");
    D::wait(session.close_stdin()).expect("close stdin");
    let out = D::wait(session.finish(true)).expect("the rest");
    assert_eq!(out.stdout, b"hello\nworld\n");
}

fn exec_streaming<D: Driver>(cluster: &Cluster<D>) {
    use std::io::Read;
    let mut params = kubewire::ExecParams::command(["cat"]);
    params.container = Some("app".into());
    params.stderr = false;
    // Two reads of stdin, two messages (as recorded).
    let mut stdin = (&b"hello\n"[..]).chain(&b"world\n"[..]);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let exit = D::wait(cluster.pods().exec_streaming(
        "web-0",
        Some("demo"),
        &params,
        Some(&mut stdin),
        &mut stdout,
        &mut stderr,
    ))
    .expect("exec");
    assert_eq!(exit.code(), Some(0));
    assert_eq!(stdout, b"hello\nworld\n");
}

fn exec_tty<D: Driver>(cluster: &Cluster<D>) {
    let mut params = sh("read a; stty size; read b; stty size");
    params.stdin = true;
    params.tty = true;
    let pods = cluster.pods();
    let mut session = D::wait(pods.exec_session("web-0", Some("demo"), &params)).expect("session");
    D::wait(session.resize(80, 24)).expect("resize");
    D::wait(session.write(b"a\r")).expect("write");
    D::wait(session.resize(100, 30)).expect("resize");
    D::wait(session.write(b"b\r")).expect("write");
    let out = D::wait(session.finish(true)).expect("the rest");
    assert_eq!(out.stdout, b"a\r\n24 80\r\nb\r\n30 100\r\n");
}

fn exec_large<D: Driver>(cluster: &Cluster<D>) {
    let mut params = kubewire::ExecParams::command(["seq", "1", "40000"]);
    params.container = Some("app".into());
    params.stderr = false;
    let out = D::wait(cluster.pods().exec("web-0", Some("demo"), &params)).expect("exec");
    let expected: String = (1..=40000).map(|n| format!("{n}\n")).collect();
    assert!(
        out.stdout == expected.as_bytes(),
        "{} bytes",
        out.stdout.len()
    );
}

fn attach<D: Driver>(cluster: &Cluster<D>) {
    let mut params = kubewire::AttachParams::default();
    params.container = Some("main".into());
    params.stdin = true;
    let mut session =
        D::wait(cluster.pods().attach("shell", Some("demo"), &params)).expect("attach");
    let mut stdout = Vec::new();
    // Read as it arrives: the first line comes before any input.
    while stdout.len() < b"attached\n".len() {
        match D::wait(session.next()) {
            Some(Ok(kubewire::stream::ExecEvent::Stdout(b))) => stdout.extend_from_slice(&b),
            other => panic!("{other:?}"),
        }
    }
    D::wait(session.write(b"hi\n")).expect("write");
    D::wait(session.close_stdin()).expect("close stdin");
    let rest = D::wait(session.finish(true)).expect("the rest");
    stdout.extend_from_slice(&rest.stdout);
    assert_eq!(stdout, b"attached\ngot: hi\nbye\n");
}

fn read_exactly<D: Driver>(stream: &mut kubewire::client::PortStream<D>, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while got.len() < n {
        let read = D::wait(stream.read(&mut buf)).expect("read");
        assert!(read > 0, "the stream ended after {got:?}");
        got.extend_from_slice(&buf[..read]);
    }
    got
}

fn port_forward<D: Driver>(cluster: &Cluster<D>) {
    let mut streams =
        D::wait(cluster.pods().port_forward("web-0", Some("demo"), &[18080])).expect("forward");
    let mut stream = streams.pop().expect("one stream");
    assert_eq!(stream.port(), 18080);
    D::wait(stream.write_all(b"ping\n")).expect("write");
    assert_eq!(read_exactly(&mut stream, 5), b"ping\n");
    D::wait(stream.write_all(b"second\n")).expect("write");
    assert_eq!(read_exactly(&mut stream, 7), b"second\n");
    drop(stream); // the last stream closes the connection (close 1000)
}

fn port_forward_refused<D: Driver>(cluster: &Cluster<D>) {
    let mut streams =
        D::wait(cluster.pods().port_forward("web-0", Some("demo"), &[1])).expect("forward");
    let mut buf = [0u8; 16];
    let err = D::wait(streams[0].read(&mut buf)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(
        err.to_string()
            .starts_with("error forwarding port 1 to pod demo_web-0"),
        "{err}"
    );
}

/// Every facade check, with the fixtures each replays.
fn checks<D: Driver>() -> Vec<Check<D>> {
    #[allow(unused_mut)] // without the `typed` feature nothing is added
    let mut checks: Vec<Check<D>> = vec![
        ("quickstart", &["seed-quickstart"], quickstart::<D>),
        ("next-timeout", &["pods-watch"], next_timeout::<D>),
        ("cache", &["pods-cache"], cache::<D>),
        (
            "cache-forbidden",
            &["pods-cache-forbidden"],
            cache_forbidden::<D>,
        ),
        (
            "cache-deletion",
            &["deployments-cache"],
            cache_deletion::<D>,
        ),
        ("close", &["pods-watch"], close::<D>),
        ("bookmarks", &["pods-watch-bookmark"], bookmarks::<D>),
        ("api-version-fallback", &["api-fallback"], fallback::<D>),
        (
            "namespace-delete-conflict-hidden",
            &["namespace-delete-409"],
            namespace_delete_409::<D>,
        ),
        ("retry-after-429", &["pods-list-429"], retry_429::<D>),
        (
            "typed-fetch-and-errors",
            &["pod-fetch-running"],
            errors_and_proxy::<D>,
        ),
        ("proxy-discovery", &["discovery"], discovery_proxy::<D>),
        ("create", &["writes-create-replace"], create::<D>),
        ("logs", &["pod-logs"], logs::<D>),
        ("wait-ready", &["wait-pod-ready"], wait_ready::<D>),
        ("proxy-watch", &["pods-watch"], proxy_watch::<D>),
        (
            "create-seed-kind",
            &["namespace-create"],
            create_seed_kind::<D>,
        ),
        ("wait-raises", &["wait-pod-ready"], wait_raises::<D>),
        ("wait-times-out", &["wait-pod-ready"], wait_times_out::<D>),
        (
            "resource-by-kind",
            &["crd-discovery"],
            discovered_resource::<D>,
        ),
        (
            "discovery-refresh",
            &["discovery-refresh"],
            discovery_refresh::<D>,
        ),
        (
            "replace-and-dry-run",
            &["writes-create-replace"],
            replace_and_dry_run::<D>,
        ),
        (
            "patch-types",
            &["patch-types-strategic-removal"],
            patch_types::<D>,
        ),
        ("annotations", &["pod-annotate"], annotations::<D>),
        ("delete-options", &["delete"], deletes::<D>),
        ("scale", &["scale-subresource"], scale::<D>),
        ("status", &["status-subresource"], status::<D>),
        (
            "wait-deleted",
            &["delete-foreground-concurrent"],
            wait_deleted::<D>,
        ),
        ("wait-by-name", &["wait-by-name"], wait_by_name::<D>),
        (
            "multi-document-yaml",
            &["manifests-multi-document"],
            multi_document::<D>,
        ),
        ("exec", &["exec-stdout-stderr"], exec::<D>),
        (
            "exec-exit-code",
            &["exec-exit-code", "exec-exit-code"],
            exec_exit_code::<D>,
        ),
        (
            "exec-refused",
            &["exec-pod-not-found", "exec-container-not-found"],
            exec_refused::<D>,
        ),
        ("exec-stdin", &["exec-stdin-close"], exec_stdin::<D>),
        ("exec-streaming", &["exec-stdin-close"], exec_streaming::<D>),
        ("exec-tty", &["exec-tty-resize"], exec_tty::<D>),
        ("exec-large-output", &["exec-large-output"], exec_large::<D>),
        ("attach", &["attach-echo"], attach::<D>),
        ("port-forward", &["portforward-echo"], port_forward::<D>),
        (
            "port-forward-refused",
            &["portforward-refused"],
            port_forward_refused::<D>,
        ),
    ];
    #[cfg(feature = "typed")]
    checks.push(("typed-interop", &["pod-fetch-running"], typed_interop::<D>));
    #[cfg(feature = "typed")]
    checks.push(("typed-cache", &["pods-cache"], typed_cache::<D>));
    checks
}

/// The fixtures the facade suite replays.
pub fn fixtures() -> Vec<&'static str> {
    checks::<SansIoTransport>()
        .into_iter()
        .flat_map(|(_, f, _)| f.iter().copied())
        .collect()
}

/// Runs every facade check with clusters from `harness`, which gets a
/// check's fixtures and returns the cluster to use and a function that ends
/// the replay and reports what it saw. Returns the failures.
pub fn run_facade_with<D: Driver>(name: &str, harness: &Harness<D>) -> Vec<String> {
    run_checks(name, harness, &|_| true)
}

/// The facade checks the fake apiserver cannot stand in for, and why.
pub const NOT_FOR_THE_FAKE: &[(&str, &str)] = &[
    (
        "namespace-delete-conflict-hidden",
        "its recording is the 409 of servers before v1.36; the fake answers as v1.36 does (200)",
    ),
    ("logs", KUBELET),
    ("exec", KUBELET),
    ("exec-exit-code", KUBELET),
    ("exec-refused", KUBELET),
    ("exec-stdin", KUBELET),
    ("exec-streaming", KUBELET),
    ("exec-tty", KUBELET),
    ("exec-large-output", KUBELET),
    ("attach", KUBELET),
    ("port-forward", KUBELET),
    ("port-forward-refused", KUBELET),
];

const KUBELET: &str = "it talks to a kubelet (logs and streams); the fake answers 501";

/// Runs the facade checks against a [`FakeApiserver`] on loopback, seeded
/// with the state each check's recordings started from (every check but
/// those in [`NOT_FOR_THE_FAKE`]); `connect` makes the cluster that talks
/// to it (over its `base_url`, or in process).
pub fn run_facade_fake<D: Driver>(
    name: &str,
    connect: &dyn Fn(&FakeApiserver) -> Cluster<D>,
) -> Vec<String> {
    let harness = |fixtures: Vec<Fixture>| -> (Cluster<D>, Box<dyn FnOnce() -> Report>) {
        let fake = FakeApiserver::start().expect("the fake listens");
        for f in &fixtures {
            seed_prerequisites(&fake, &f.name, |other, index| {
                corpus_fixture(other)
                    .exchanges
                    .get(index)?
                    .request
                    .body
                    .json()
            })
            .expect("the prerequisite seeds");
            fake.seed_fixture(f).expect("the recording's state seeds");
            fake.replay_writers(f);
            as_recorded(&fake, f);
        }
        let cluster = connect(&fake);
        (
            cluster,
            Box::new(move || {
                fake.stop();
                Report::default()
            }),
        )
    };
    run_checks(name, &harness, &|check| {
        !NOT_FOR_THE_FAKE.iter().any(|(c, _)| *c == check)
    })
}

/// What a recording shows beyond its state and its watches' events, asked
/// of the fake: the refusal or throttling the server chose, the CRD
/// another client created between two discovery reads.
fn as_recorded(fake: &FakeApiserver, fixture: &Fixture) {
    match fixture.name.as_str() {
        "pods-list-429" => fake.inject(Fault::TooManyRequests { retry_after: 1 }, 1),
        "pods-cache-forbidden" => fake.inject(
            Fault::Forbidden {
                user: "system:serviceaccount:demo:nobody".into(),
            },
            1,
        ),
        "discovery-refresh" => {
            let crd = corpus_fixture("crd-discovery").exchanges[0]
                .request
                .body
                .json()
                .expect("crd-discovery creates the Backup CRD");
            fake.write_after(1, crd);
        }
        _ => {}
    }
}

/// A harness borrowed for one run (see [`Harness`]).
type Borrowed<'a, D> = dyn Fn(Vec<Fixture>) -> (Cluster<D>, Box<dyn FnOnce() -> Report>) + 'a;

fn run_checks<D: Driver>(
    name: &str,
    harness: &Borrowed<'_, D>,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut failures = Vec::new();
    for (check, fixtures, run) in checks::<D>().into_iter().filter(|(c, _, _)| wanted(c)) {
        let fixtures = fixtures.iter().map(|f| corpus_fixture(f)).collect();
        let (cluster, finish) = harness(fixtures);
        let outcome = catch_unwind(AssertUnwindSafe(|| run(&cluster)));
        cluster.close();
        let report = finish();
        // No helper thread outlives its closed cluster once the server is
        // gone (a thread inside a read ends with its connection).
        let closed = Instant::now();
        while cluster.helper_threads() > 0 && closed.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        if cluster.helper_threads() > 0 {
            failures.push(format!(
                "facade {check} [{name}]: {} helper thread(s) outlive the closed cluster",
                cluster.helper_threads()
            ));
        }
        drop(cluster);
        // Partial checks use the first exchanges of a longer recording.
        let partial = ["create", "resource-by-kind", "typed-interop"].contains(&check);
        let clean = report.failures.is_empty() && (partial || report.unconsumed.is_empty());
        match outcome {
            Ok(()) if clean => {}
            Ok(()) => failures.push(format!(
                "facade {check} [{name}]: replay not clean\n{report}"
            )),
            Err(p) => {
                let msg = crate::suite::panic_text(p.as_ref());
                failures.push(format!("facade {check} [{name}]: {msg}\n{report}"));
            }
        }
    }
    failures
}

/// Runs every facade check over transport `T` against the replay server on
/// loopback, then checks that a refused connection is a distinct error.
pub fn run_facade<D: ConnectDriver>(name: &str) -> Vec<String> {
    let mut failures = run_facade_with::<D>(name, &|fixtures| {
        let server = ReplayServer::start_with(fixtures, ServeOptions::default()).expect("server");
        let cluster = Cluster::<D>::new(&server.base_url()).expect("cluster");
        (cluster, Box::new(move || server.stop()))
    });
    // A refused connection is a distinct transport error, not a hang.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    match Cluster::<D>::new(&format!("http://127.0.0.1:{port}"))
        .and_then(|c| D::wait(c.nodes().list()))
    {
        // The error names the server it tried.
        Err(Error::Transport {
            kind: TransportErrorKind::Connect,
            message,
        }) if message.contains(&format!("127.0.0.1:{port}")) => {}
        other => failures.push(format!("facade refused-connection [{name}]: {other:?}")),
    }
    failures
}

/// Runs every facade check through the sans-IO runner (no sockets), once
/// per chunking in [`Chunking::SANS_IO`].
pub fn run_facade_sans_io() -> Vec<String> {
    let mut failures = Vec::new();
    for chunking in Chunking::SANS_IO {
        failures.extend(run_facade_with::<SansIoTransport>(
            &format!("sans-io {chunking:?}"),
            &move |fixtures| {
                let transport = SansIoTransport::new(SansIoDriver::new(fixtures, chunking));
                let report = transport.reporter();
                let cluster = Cluster::with_transport(Config::default(), transport);
                (cluster, Box::new(report))
            },
        ));
    }
    failures
}

/// Runs the facade suite and the TLS checks for a transport, and the
/// facade suite against the fake apiserver: one line per transport.
#[macro_export]
macro_rules! facade_suite {
    ($name:ident, $transport:ty) => {
        #[test]
        fn $name() {
            let mut failures = $crate::facade::run_facade::<$transport>(stringify!($name));
            failures.extend($crate::facade::run_tls::<$transport>(stringify!($name)));
            failures.extend($crate::timeouts::run_timeouts::<$transport>(stringify!(
                $name
            )));
            failures.extend($crate::request_heads::run_request_heads::<$transport>(
                stringify!($name),
            ));
            failures.extend($crate::facade::run_facade_fake::<$transport>(
                concat!(stringify!($name), " against the fake"),
                &|fake| kubewire::Cluster::<$transport>::new(&fake.base_url()).expect("cluster"),
            ));
            $crate::assert_clean(failures);
        }
    };
}

/// TLS over transport `T`: in-memory PEM from a kubeconfig reaches a
/// server that requires a client certificate; a wrong CA, a key that does
/// not match its certificate and a missing client certificate are errors.
pub fn run_tls<D: ConnectDriver>(name: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let pki = match crate::tls::TestPki::new() {
        Ok(p) => p,
        Err(e) => return vec![format!("tls [{name}]: cannot make test certificates: {e}")],
    };
    let server = ReplayServer::start(vec![
        corpus_fixture("pod-fetch-running"),
        corpus_fixture("exec-stdout-stderr"),
    ])
    .expect("server");
    let front = crate::tls::TlsFront::start(&pki, server.addr()).expect("tls front");
    let config = match tls_kubeconfig(&pki, &front, name) {
        Ok(c) => c,
        Err(e) => return vec![format!("tls [{name}]: kubeconfig: {e}")],
    };
    let mut wrong_ca = config.clone();
    wrong_ca.credentials.certificate_authority = Some(pki.other_ca.clone());
    // An upgraded connection (exec) is set up with the same TLS.
    match tls_exec::<D>(wrong_ca.clone()) {
        Err(Error::Transport {
            kind: TransportErrorKind::Tls,
            ..
        }) => {}
        other => failures.push(format!(
            "tls [{name}] exec with a wrong CA: expected a TLS error, got {other:?}"
        )),
    }
    let mut stray_key = config.clone();
    if let Some(cert) = &mut stray_key.credentials.client_certificate {
        cert.key_pem = kubewire::config::Sensitive::new(pki.stray_key.clone());
    }
    let mut garbage = config.clone();
    if let Some(cert) = &mut garbage.credentials.client_certificate {
        cert.certificate_pem =
            b"-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n".to_vec();
    }
    match tls_fetch::<D>(garbage) {
        Err(Error::Transport {
            kind: TransportErrorKind::Tls,
            message,
        }) if !message.contains("does not match") => {}
        other => failures.push(format!(
            "tls [{name}] a garbage client certificate: expected a TLS error saying so, got {other:?}"
        )),
    }
    let mut anonymous = config.clone();
    anonymous.credentials.client_certificate = None;
    for (case, config) in [
        ("wrong CA", wrong_ca),
        ("key not matching its certificate", stray_key),
    ] {
        match tls_fetch::<D>(config) {
            Err(Error::Transport {
                kind: TransportErrorKind::Tls,
                ..
            }) => {}
            other => failures.push(format!(
                "tls [{name}] {case}: expected a TLS error, got {other:?}"
            )),
        }
    }
    // The server refuses a client certificate its CA did not sign.
    let mut untrusted = config.clone();
    if let Some(cert) = &mut untrusted.credentials.client_certificate {
        cert.certificate_pem = pki.untrusted_cert.clone();
        cert.key_pem = kubewire::config::Sensitive::new(pki.untrusted_key.clone());
    }
    match tls_fetch::<D>(untrusted) {
        Err(Error::Transport {
            kind: TransportErrorKind::Tls,
            ..
        }) => {}
        other => failures.push(format!(
            "tls [{name}] a client certificate the server refuses: expected a TLS error, got {other:?}"
        )),
    }
    // The server refuses the session for want of a client certificate
    // (under TLS 1.3, with an alert after the handshake): a TLS error on
    // every transport.
    match tls_fetch::<D>(anonymous) {
        Err(Error::Transport {
            kind: TransportErrorKind::Tls,
            ..
        }) => {}
        other => failures.push(format!(
            "tls [{name}] no client certificate: expected a TLS error, got {other:?}"
        )),
    }
    match tls_fetch::<D>(config.clone()) {
        Ok(pod) if pod == "web-0" => {}
        other => failures.push(format!(
            "tls [{name}] mutual TLS from kubeconfig PEM: {other:?}"
        )),
    }
    if config.default_namespace != "demo" {
        failures.push(format!(
            "tls [{name}]: the kubeconfig's namespace was not taken"
        ));
    }
    match Cluster::<D>::from_config(config.clone())
        .and_then(|c| D::wait(c.pods().fetch("nope-0", Some("demo"))).map(|_| ()))
    {
        Err(Error::NotFound(_)) => {}
        other => failures.push(format!("tls [{name}] a 404 over TLS: {other:?}")),
    }
    match tls_exec::<D>(config) {
        Ok(out) if out.stdout == b"out\n" && out.exit_code() == Some(0) => {}
        other => failures.push(format!(
            "tls [{name}] exec over mutual TLS from kubeconfig PEM: {other:?}"
        )),
    }
    failures.extend(run_tls_server_name::<D>(&pki, name));
    failures.extend(run_tls_key_forms::<D>(&pki, name));
    drop(front);
    let report = server.stop();
    if !report.is_clean() {
        failures.push(format!("tls [{name}]: replay not clean\n{report}"));
    }
    failures
}

/// The TLS checks' fetch on transport `D`: pod `web-0`'s name.
fn tls_fetch<D: ConnectDriver>(config: Config) -> Result<String, Error> {
    Cluster::<D>::from_config(config).and_then(|c| {
        D::wait(c.pods().fetch("web-0", Some("demo"))).map(|p| p.meta().name().to_string())
    })
}

/// The TLS checks' exec on transport `D`: an upgraded connection, set up
/// with the same TLS as the requests.
fn tls_exec<D: ConnectDriver>(config: Config) -> Result<kubewire::client::ExecOutput, Error> {
    Cluster::<D>::from_config(config).and_then(|c| {
        D::wait(
            c.pods()
                .exec("web-0", Some("demo"), &sh("echo out; echo err >&2")),
        )
    })
}

/// A kubeconfig (read through the kubeconfig parser) for the TLS front:
/// the test CA, the client certificate, namespace `demo`.
fn tls_kubeconfig(
    pki: &crate::tls::TestPki,
    front: &crate::tls::TlsFront,
    name: &str,
) -> kubewire::Result<Config> {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let kubeconfig = format!(
        "clusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: me\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\ncontexts:\n- name: test\n  context: {{cluster: test, user: me, namespace: demo}}\ncurrent-context: test\n",
        front.base_url(),
        b64(&pki.ca),
        b64(&pki.client_cert),
        b64(&pki.client_key)
    );
    let path =
        std::env::temp_dir().join(format!("kubewire-tls-{}-{name}.yaml", std::process::id()));
    std::fs::write(&path, kubeconfig).expect("kubeconfig");
    let config = Config::from_kubeconfig(std::slice::from_ref(&path), None);
    let _ = std::fs::remove_file(&path);
    config
}

/// Mutual TLS on transport `D` with the key forms kubeconfig files carry
/// besides PKCS#8: SEC1 (`EC PRIVATE KEY`, as kind and kubeadm write it)
/// and PKCS#1 (`RSA PRIVATE KEY`).
fn run_tls_key_forms<D: ConnectDriver>(pki: &crate::tls::TestPki, name: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for (form, cert, key) in [
        ("a SEC1 EC key", &pki.client_cert, &pki.client_key_sec1),
        (
            "a PKCS#1 RSA key",
            &pki.rsa_client_cert,
            &pki.rsa_client_key_pkcs1,
        ),
    ] {
        let mut fetch = corpus_fixture("pod-fetch-running");
        fetch.exchanges.truncate(1);
        let server = ReplayServer::start(vec![fetch]).expect("server");
        let front = crate::tls::TlsFront::start(pki, server.addr()).expect("tls front");
        let mut config = match tls_kubeconfig(pki, &front, name) {
            Ok(c) => c,
            Err(e) => return vec![format!("tls [{name}] {form}: kubeconfig: {e}")],
        };
        if let Some(client) = &mut config.credentials.client_certificate {
            client.certificate_pem = cert.clone();
            client.key_pem = kubewire::config::Sensitive::new(key.clone());
        }
        match tls_fetch::<D>(config) {
            Ok(pod) if pod == "web-0" => {}
            other => failures.push(format!("tls [{name}] mutual TLS with {form}: {other:?}")),
        }
        drop(front);
        let report = server.stop();
        if !report.is_clean() {
            failures.push(format!("tls [{name}] {form}: replay not clean\n{report}"));
        }
    }
    failures
}

/// kubeconfig's `tls-server-name` on transport `D`: the connection goes to
/// the URL's host (127.0.0.1) and the certificate must carry the name
/// given instead, for requests and upgraded connections alike.
fn run_tls_server_name<D: ConnectDriver>(pki: &crate::tls::TestPki, name: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let mut fetch = corpus_fixture("pod-fetch-running");
    fetch.exchanges.truncate(1);
    let server =
        ReplayServer::start(vec![fetch, corpus_fixture("exec-stdout-stderr")]).expect("server");
    let front = crate::tls::TlsFront::start(pki, server.addr()).expect("tls front");
    let config = match tls_kubeconfig(pki, &front, name) {
        Ok(c) => c,
        Err(e) => return vec![format!("tls-server-name [{name}]: kubeconfig: {e}")],
    };
    let named = |server_name: &str| {
        let mut named = config.clone();
        named.tls_server_name = Some(server_name.into());
        named
    };
    for (what, outcome) in [
        ("fetch", tls_fetch::<D>(named("other.internal")).map(|_| ())),
        ("exec", tls_exec::<D>(named("other.internal")).map(|_| ())),
    ] {
        match outcome {
            Err(Error::Transport {
                kind: TransportErrorKind::Tls,
                ..
            }) => {}
            other => failures.push(format!(
                "tls-server-name [{name}] {what} with a name the certificate lacks: expected a TLS error, got {other:?}"
            )),
        }
    }
    match (
        tls_fetch::<D>(named("kubewire-api.internal")),
        tls_exec::<D>(named("kubewire-api.internal")),
    ) {
        (Ok(pod), Ok(out)) if pod == "web-0" && out.stdout == b"out\n" => {}
        other => failures.push(format!(
            "tls-server-name [{name}] a name the certificate carries: expected a fetch and an exec, got {other:?}"
        )),
    }
    drop(front);
    let report = server.stop();
    if !report.is_clean() {
        failures.push(format!(
            "tls-server-name [{name}]: replay not clean\n{report}"
        ));
    }
    failures
}

/// Exec through an HTTP proxy on transport `D`: the upgraded connection
/// goes through the proxy's `CONNECT` tunnel, with the proxy URL's
/// credentials, as the transport's requests do.
pub fn run_proxy_exec<D: ConnectDriver>(name: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let server = ReplayServer::start(vec![corpus_fixture("exec-stdout-stderr")]).expect("server");
    let proxy = crate::connect_proxy::ConnectProxy::start().expect("proxy");
    let mut options = kubewire::TransportOptions::default();
    options.trust_env = false;
    options.proxy = Some(proxy.url().replace("http://", "http://user:p%40ss@"));
    let config = Config::new(&server.base_url()).expect("config");
    let outcome = Cluster::<D>::with_options(config, &options).and_then(|cluster| {
        D::wait(
            cluster
                .pods()
                .exec("web-0", Some("demo"), &sh("echo out; echo err >&2")),
        )
    });
    match outcome {
        Ok(out) if out.stdout == b"out\n" && out.stderr == b"err\n" => {}
        other => failures.push(format!("proxy exec [{name}]: {other:?}")),
    }
    let seen = proxy.requests();
    let target = server.addr().to_string();
    // "user:p@ss", percent-decoded, in Basic.
    let basic = "Basic dXNlcjpwQHNz";
    if !seen
        .iter()
        .any(|r| r.target == target && r.authorization.as_deref() == Some(basic))
    {
        failures.push(format!(
            "proxy exec [{name}]: expected CONNECT {target} with {basic}, the proxy saw {seen:?}"
        ));
    }
    let report = server.stop();
    if !report.is_clean() {
        failures.push(format!("proxy exec [{name}]: replay not clean\n{report}"));
    }
    failures
}

/// 100 fetches over transport `D` against the replay server, and how many
/// process and thread ids the system handed out meanwhile (Linux's
/// `ns_last_pid`): a transport that starts a thread per request takes at
/// least 100. `None` where the kernel does not say.
pub fn ids_spent_on_100_fetches<D: ConnectDriver>() -> Option<u64> {
    let last_pid = || {
        std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
    };
    let mut fixture = corpus_fixture("pod-fetch-running");
    let first = fixture.exchanges[0].clone();
    fixture.exchanges = vec![first; 100];
    let server = ReplayServer::start(vec![fixture]).expect("server");
    let cluster = Cluster::<D>::new(&server.base_url()).expect("cluster");
    // The first fetch opens the pooled connection (and any agent thread).
    D::wait(cluster.pods().fetch("web-0", Some("demo"))).expect("fetch");
    let before = last_pid()?;
    for _ in 1..100 {
        D::wait(cluster.pods().fetch("web-0", Some("demo"))).expect("fetch");
    }
    let after = last_pid()?;
    cluster.close();
    server.finish().expect("every fetch matched");
    Some(after.wrapping_sub(before))
}
