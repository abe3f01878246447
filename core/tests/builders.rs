//! Pins the exact method, path, query and headers of every request builder.

use std::sync::Arc;

use kubewire::config::*;
use kubewire::error::*;
use kubewire::http::Method;
use kubewire::model::*;
use kubewire::request::*;
use kubewire::*;
use serde_json::json;

fn config() -> Arc<Config> {
    Arc::new(Config::default())
}

fn endpoint(kind: Kind, scope: Scope) -> Endpoint {
    Endpoint::new(config(), kind.api_resource(0).unwrap(), scope).unwrap()
}

fn demo(kind: Kind) -> Endpoint {
    endpoint(kind, Scope::Namespace("demo".into()))
}

fn decode(s: &str) -> String {
    percent_decode(s)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The query as decoded pairs, in order.
fn query(req: &http::Request<bytes::Bytes>) -> Vec<(String, String)> {
    req.uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (decode(k), decode(v))
        })
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[track_caller]
fn pin(
    req: &http::Request<bytes::Bytes>,
    method: Method,
    path: &str,
    q: &[(&str, &str)],
    content_type: Option<&str>,
) {
    assert_eq!(req.method(), method);
    assert_eq!(req.uri().path(), path);
    assert_eq!(query(req), pairs(q));
    assert_eq!(req.headers()["accept"], "application/json");
    assert_eq!(req.headers()["user-agent"], DEFAULT_USER_AGENT);
    assert_eq!(
        req.headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap()),
        content_type
    );
    assert!(req.headers().get("authorization").is_none());
    if content_type.is_none() {
        assert!(req.body().is_empty());
    }
}

fn body(req: &http::Request<bytes::Bytes>) -> serde_json::Value {
    serde_json::from_slice(req.body()).unwrap()
}

#[test]
fn get_namespaced_cluster_and_with_resource_version() {
    let req = demo(Kind::Pod).get("web-0", &GetParams::default()).unwrap();
    pin(
        &req,
        Method::GET,
        "/api/v1/namespaces/demo/pods/web-0",
        &[],
        None,
    );
    let node = endpoint(Kind::Node, Scope::Cluster);
    let mut p = GetParams::default();
    p.resource_version = Some("0".into());
    let req = node.get("node-1", &p).unwrap();
    pin(
        &req,
        Method::GET,
        "/api/v1/nodes/node-1",
        &[("resourceVersion", "0")],
        None,
    );
    let ns = endpoint(Kind::Namespace, Scope::Cluster);
    let req = ns.get("demo", &GetParams::default()).unwrap();
    pin(&req, Method::GET, "/api/v1/namespaces/demo", &[], None);
    let req = demo(Kind::Deployment)
        .get("shop", &GetParams::default())
        .unwrap();
    pin(
        &req,
        Method::GET,
        "/apis/apps/v1/namespaces/demo/deployments/shop",
        &[],
        None,
    );
}

#[test]
fn list_with_every_option() {
    let req = demo(Kind::Pod).list(&ListParams::default()).unwrap();
    pin(
        &req,
        Method::GET,
        "/api/v1/namespaces/demo/pods",
        &[("limit", "500")],
        None,
    );
    let mut p = ListParams::default()
        .labels("tier in (frontend,backend),app!=api")
        .fields("status.phase=Running")
        .limit(Some(2));
    p.continue_token = Some("eyJ2Ijo+/=".into());
    p.resource_version = Some("7774".into());
    p.resource_version_match = Some(ResourceVersionMatch::NotOlderThan);
    p.timeout_seconds = Some(30);
    p.extra = vec![("pretty".into(), "true".into())];
    let req = demo(Kind::Pod).list(&p).unwrap();
    pin(
        &req,
        Method::GET,
        "/api/v1/namespaces/demo/pods",
        &[
            ("labelSelector", "tier in (frontend,backend),app!=api"),
            ("fieldSelector", "status.phase=Running"),
            ("limit", "2"),
            ("continue", "eyJ2Ijo+/="),
            ("resourceVersion", "7774"),
            ("resourceVersionMatch", "NotOlderThan"),
            ("timeoutSeconds", "30"),
            ("pretty", "true"),
        ],
        None,
    );
    // Selector values are percent-encoded on the wire.
    assert!(req.uri().query().unwrap().starts_with(
        "labelSelector=tier%20in%20(frontend,backend),app!%3Dapi&fieldSelector=status.phase%3DRunning"
    ));
    let req = demo(Kind::Pod)
        .list(&ListParams::default().limit(None))
        .unwrap();
    assert_eq!(req.uri().query(), None);
}

#[test]
fn list_paths_cluster_and_all_namespaces() {
    let req = endpoint(Kind::Node, Scope::Cluster)
        .list(&ListParams::default())
        .unwrap();
    pin(
        &req,
        Method::GET,
        "/api/v1/nodes",
        &[("limit", "500")],
        None,
    );
    let req = endpoint(Kind::Pod, Scope::AllNamespaces)
        .list(&ListParams::default())
        .unwrap();
    pin(&req, Method::GET, "/api/v1/pods", &[("limit", "500")], None);
    let req = endpoint(Kind::Deployment, Scope::AllNamespaces)
        .list(&ListParams::default())
        .unwrap();
    pin(
        &req,
        Method::GET,
        "/apis/apps/v1/deployments",
        &[("limit", "500")],
        None,
    );
}

#[test]
fn empty_selectors_and_zero_limit_are_rejected() {
    for p in [
        ListParams::default().labels(""),
        ListParams::default().fields("  "),
    ] {
        let err = demo(Kind::Pod).list(&p).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        assert!(err.to_string().contains("select everything"), "{err}");
    }
    assert!(
        demo(Kind::Pod)
            .list(&ListParams::default().limit(Some(0)))
            .is_err()
    );
}

#[test]
fn watch_with_every_option() {
    let req = demo(Kind::Pod)
        .watch(&WatchParams::default().from_version("7800"))
        .unwrap();
    pin(
        &req,
        Method::GET,
        "/api/v1/namespaces/demo/pods",
        &[
            ("watch", "true"),
            ("resourceVersion", "7800"),
            ("allowWatchBookmarks", "true"),
        ],
        None,
    );
    let mut p = WatchParams::default();
    p.field_selector = Some("metadata.name=db-0".into());
    p.label_selector = Some("app=db".into());
    p.send_initial_events = true;
    p.timeout_seconds = Some(3);
    let req = demo(Kind::Pod).watch(&p).unwrap();
    pin(
        &req,
        Method::GET,
        "/api/v1/namespaces/demo/pods",
        &[
            ("watch", "true"),
            ("labelSelector", "app=db"),
            ("fieldSelector", "metadata.name=db-0"),
            ("sendInitialEvents", "true"),
            ("resourceVersionMatch", "NotOlderThan"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", "3"),
        ],
        None,
    );
    let mut p = WatchParams::default();
    p.allow_bookmarks = false;
    let req = endpoint(Kind::Pod, Scope::AllNamespaces).watch(&p).unwrap();
    pin(
        &req,
        Method::GET,
        "/api/v1/pods",
        &[("watch", "true")],
        None,
    );
}

#[test]
fn create_with_dry_run_field_manager_and_validation() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "fast"}});
    let cms = Endpoint::new(
        config(),
        ApiResource::new("", "v1", "ConfigMap", "configmaps", true).unwrap(),
        Scope::Namespace("demo".into()),
    )
    .unwrap();
    let req = cms.create(&cm, &WriteParams::default()).unwrap();
    pin(
        &req,
        Method::POST,
        "/api/v1/namespaces/demo/configmaps",
        &[],
        Some("application/json"),
    );
    assert_eq!(body(&req), cm);
    let mut p = WriteParams::default().field_manager("kubewire");
    p.dry_run = true;
    p.field_validation = Some(FieldValidation::Strict);
    let req = cms.create(&cm, &p).unwrap();
    pin(
        &req,
        Method::POST,
        "/api/v1/namespaces/demo/configmaps",
        &[
            ("dryRun", "All"),
            ("fieldManager", "kubewire"),
            ("fieldValidation", "Strict"),
        ],
        Some("application/json"),
    );
    // Per-cluster defaults apply when the call names none.
    let mut c = Config::default();
    c.dry_run = true;
    c.field_manager = Some("ops".into());
    let cms = Endpoint::new(
        Arc::new(c),
        cms.resource().clone(),
        Scope::Namespace("demo".into()),
    )
    .unwrap();
    let req = cms.create(&cm, &WriteParams::default()).unwrap();
    assert_eq!(
        query(&req),
        pairs(&[("dryRun", "All"), ("fieldManager", "ops")])
    );
    // Create never works across all namespaces, and a contradicting namespace is refused.
    let all = endpoint(Kind::Pod, Scope::AllNamespaces);
    assert!(matches!(
        all.create(&cm, &WriteParams::default()),
        Err(Error::Namespace(_))
    ));
    let other = json!({"metadata": {"name": "x", "namespace": "other"}});
    assert!(matches!(
        demo(Kind::Pod).create(&other, &WriteParams::default()),
        Err(Error::Namespace(_))
    ));
}

#[test]
fn replace_checks_name_and_sends_put() {
    let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop", "resourceVersion": "7"}});
    let req = demo(Kind::Deployment)
        .replace("shop", &obj, &WriteParams::default())
        .unwrap();
    pin(
        &req,
        Method::PUT,
        "/apis/apps/v1/namespaces/demo/deployments/shop",
        &[],
        Some("application/json"),
    );
    assert_eq!(body(&req)["metadata"]["resourceVersion"], "7");
    let err = demo(Kind::Deployment)
        .replace("other", &obj, &WriteParams::default())
        .unwrap_err();
    assert!(err.to_string().contains("\"shop\""), "{err}");
    let req = demo(Kind::Deployment)
        .replace_subresource("shop", Some("status"), &obj, &WriteParams::default())
        .unwrap();
    pin(
        &req,
        Method::PUT,
        "/apis/apps/v1/namespaces/demo/deployments/shop/status",
        &[],
        Some("application/json"),
    );
}

#[test]
fn patch_content_types() {
    let pods = demo(Kind::Pod);
    let cases = [
        (
            Patch::Strategic(json!({"metadata": {"labels": {"a": "b"}}})),
            "application/strategic-merge-patch+json",
        ),
        (
            Patch::Merge(json!({"metadata": {"labels": {"a": null}}})),
            "application/merge-patch+json",
        ),
        (
            Patch::Json(json!([{"op": "add", "path": "/metadata/annotations", "value": {}}])),
            "application/json-patch+json",
        ),
    ];
    for (patch, ct) in cases {
        let req = pods
            .patch("web-1", &patch, &WriteParams::default())
            .unwrap();
        pin(
            &req,
            Method::PATCH,
            "/api/v1/namespaces/demo/pods/web-1",
            &[],
            Some(ct),
        );
        let (Patch::Strategic(v) | Patch::Merge(v) | Patch::Json(v) | Patch::Apply(v)) = &patch;
        assert_eq!(&body(&req), v);
    }
    assert!(
        pods.patch(
            "web-1",
            &Patch::Json(json!({"op": "add"})),
            &WriteParams::default()
        )
        .is_err()
    );
    assert!(
        pods.patch("web-1", &Patch::Merge(json!([1])), &WriteParams::default())
            .is_err()
    );
}

#[test]
fn server_side_apply_needs_field_manager_and_takes_force() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}});
    let cms = Endpoint::new(
        config(),
        ApiResource::new("", "v1", "ConfigMap", "configmaps", true).unwrap(),
        Scope::Namespace("demo".into()),
    )
    .unwrap();
    let apply = Patch::Apply(cm);
    let err = cms
        .patch("applied", &apply, &WriteParams::default())
        .unwrap_err();
    assert!(err.to_string().contains("fieldManager"), "{err}");
    let mut p = WriteParams::default().field_manager("other-tool");
    p.force = true;
    let req = cms.patch("applied", &apply, &p).unwrap();
    pin(
        &req,
        Method::PATCH,
        "/api/v1/namespaces/demo/configmaps/applied",
        &[("fieldManager", "other-tool"), ("force", "true")],
        Some("application/apply-patch+yaml"),
    );
    // force without apply is refused rather than silently sent.
    assert!(cms.patch("applied", &Patch::Merge(json!({})), &p).is_err());
    let req = demo(Kind::Deployment)
        .patch_subresource(
            "shop",
            Some("status"),
            &apply,
            &WriteParams::default().field_manager("kubewire-status"),
        )
        .unwrap();
    assert_eq!(
        req.uri().path(),
        "/apis/apps/v1/namespaces/demo/deployments/shop/status"
    );
}

#[test]
fn delete_with_grace_propagation_preconditions_dry_run() {
    let req = demo(Kind::Pod)
        .delete("gone-0", &DeleteParams::default())
        .unwrap();
    pin(
        &req,
        Method::DELETE,
        "/api/v1/namespaces/demo/pods/gone-0",
        &[],
        None,
    );
    let mut p = DeleteParams::default();
    p.grace_period_seconds = Some(0);
    p.dry_run = true;
    let req = demo(Kind::Pod).delete("gone-0", &p).unwrap();
    pin(
        &req,
        Method::DELETE,
        "/api/v1/namespaces/demo/pods/gone-0",
        &[("gracePeriodSeconds", "0"), ("dryRun", "All")],
        None,
    );
    let mut p = DeleteParams::default();
    p.propagation_policy = Some(PropagationPolicy::Foreground);
    p.preconditions = Some(Preconditions {
        uid: Some("u-1".into()),
        resource_version: Some("9".into()),
    });
    let req = demo(Kind::Deployment).delete("brief", &p).unwrap();
    pin(
        &req,
        Method::DELETE,
        "/apis/apps/v1/namespaces/demo/deployments/brief",
        &[],
        Some("application/json"),
    );
    assert_eq!(
        body(&req),
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground",
               "preconditions": {"uid": "u-1", "resourceVersion": "9"}})
    );
    let mut p = DeleteParams::default();
    p.propagation_policy = Some(PropagationPolicy::Orphan);
    let req = endpoint(Kind::Namespace, Scope::Cluster)
        .delete("scratch", &p)
        .unwrap();
    assert_eq!(body(&req)["propagationPolicy"], "Orphan");
}

#[test]
fn delete_collection_with_selectors() {
    let req = demo(Kind::Pod)
        .delete_collection(
            &ListParams::default().labels("app=tmp"),
            &DeleteParams::default(),
        )
        .unwrap();
    pin(
        &req,
        Method::DELETE,
        "/api/v1/namespaces/demo/pods",
        &[("labelSelector", "app=tmp")],
        None,
    );
    let all = endpoint(Kind::Pod, Scope::AllNamespaces);
    assert!(matches!(
        all.delete_collection(&ListParams::default(), &DeleteParams::default()),
        Err(Error::Namespace(_))
    ));
}

#[test]
fn subresources_scale_status_log_and_any() {
    let rs = demo(Kind::ReplicaSet);
    let req = rs
        .get_subresource("auth-v3", Some("scale"), &GetParams::default())
        .unwrap();
    pin(
        &req,
        Method::GET,
        "/apis/apps/v1/namespaces/demo/replicasets/auth-v3/scale",
        &[],
        None,
    );
    let req = demo(Kind::ReplicationController)
        .patch_subresource(
            "legacy",
            Some("scale"),
            &Patch::Merge(json!({"spec": {"replicas": 2}})),
            &WriteParams::default(),
        )
        .unwrap();
    pin(
        &req,
        Method::PATCH,
        "/api/v1/namespaces/demo/replicationcontrollers/legacy/scale",
        &[],
        Some("application/merge-patch+json"),
    );
    let mut p = LogParams::default();
    p.container = Some("nginx".into());
    p.tail_lines = Some(10);
    p.previous = true;
    p.timestamps = true;
    p.since_seconds = Some(60);
    p.limit_bytes = Some(4096);
    let req = demo(Kind::Pod).logs("db-0", &p).unwrap();
    assert_eq!(req.uri().path(), "/api/v1/namespaces/demo/pods/db-0/log");
    assert_eq!(
        query(&req),
        pairs(&[
            ("container", "nginx"),
            ("previous", "true"),
            ("sinceSeconds", "60"),
            ("tailLines", "10"),
            ("timestamps", "true"),
            ("limitBytes", "4096")
        ])
    );
    let req = demo(Kind::Pod)
        .get_subresource("web-0", Some("ephemeralcontainers"), &GetParams::default())
        .unwrap();
    assert_eq!(
        req.uri().path(),
        "/api/v1/namespaces/demo/pods/web-0/ephemeralcontainers"
    );
    assert!(
        demo(Kind::Pod)
            .get_subresource("web-0", Some("../x"), &GetParams::default())
            .is_err()
    );
}

#[test]
fn namespace_rules() {
    let pods = Kind::Pod.api_resource(0).unwrap();
    let nodes = Kind::Node.api_resource(0).unwrap();
    assert!(matches!(
        Endpoint::new(config(), nodes.clone(), Scope::Namespace("demo".into())),
        Err(Error::Namespace(_))
    ));
    assert!(matches!(
        Endpoint::new(config(), nodes, Scope::AllNamespaces),
        Err(Error::Namespace(_))
    ));
    assert!(matches!(
        Endpoint::new(config(), pods.clone(), Scope::Cluster),
        Err(Error::Namespace(_))
    ));
    let all = Endpoint::new(config(), pods.clone(), Scope::AllNamespaces).unwrap();
    assert!(matches!(
        all.get("web-0", &GetParams::default()),
        Err(Error::Namespace(_))
    ));
    let err = Endpoint::new(config(), pods, Scope::Namespace("Bad_NS".into())).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains("\"Bad_NS\"")),
        "{err}"
    );
}

#[test]
fn bad_names_never_reach_another_path() {
    let pods = demo(Kind::Pod);
    for bad in ["", ".", "..", "a/b", "../secrets", "a%2F", "a b", "a\u{0}"] {
        let err = pods.get(bad, &GetParams::default()).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput(m) if m.contains(&format!("{bad:?}"))),
            "{bad:?}: {err}"
        );
        assert!(pods.delete(bad, &DeleteParams::default()).is_err());
        assert!(
            pods.replace(bad, &json!({}), &WriteParams::default())
                .is_err()
        );
    }
    // Characters Kubernetes allows in RBAC names are kept (and encoded where needed).
    let roles = Endpoint::new(
        config(),
        ApiResource::new(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            false,
        )
        .unwrap(),
        Scope::Cluster,
    )
    .unwrap();
    let req = roles
        .get("system:controller:job-controller", &GetParams::default())
        .unwrap();
    assert_eq!(
        req.uri().path(),
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:controller:job-controller"
    );
}

#[test]
fn base_url_forms_and_prefix() {
    let paths: Vec<String> = [
        "http://localhost:8001",
        "http://localhost:8001/",
        "http://localhost:8001/api",
        "http://localhost:8001/api/",
    ]
    .iter()
    .map(|u| {
        let c = Arc::new(Config::new(u).unwrap());
        Endpoint::new(
            c,
            Kind::Pod.api_resource(0).unwrap(),
            Scope::Namespace("demo".into()),
        )
        .unwrap()
        .get("web-0", &GetParams::default())
        .unwrap()
        .uri()
        .to_string()
    })
    .collect();
    assert!(
        paths
            .iter()
            .all(|p| p == "http://localhost:8001/api/v1/namespaces/demo/pods/web-0"),
        "{paths:?}"
    );
    let c = Arc::new(Config::new("https://rancher.example:8443/k8s/clusters/c-1").unwrap());
    let req = Proxy::new(c.clone()).get(&["version"], &[]).unwrap();
    assert_eq!(
        req.uri().to_string(),
        "https://rancher.example:8443/k8s/clusters/c-1/version"
    );
    assert!(c.is_https());
    for bad in [
        "ftp://x",
        "localhost:8001",
        "http://",
        "http://u:p@host/",
        "http://h/?a=b",
        "http://h/a/../b",
    ] {
        assert!(Config::new(bad).is_err(), "{bad}");
    }
}

#[test]
fn proxy_components() {
    let proxy = Proxy::new(config());
    let req = proxy
        .get(
            &["api/v1", "namespaces", "default", "pods"],
            &[("limit", "5")],
        )
        .unwrap();
    pin(
        &req,
        Method::GET,
        "/api/v1/namespaces/default/pods",
        &[("limit", "5")],
        None,
    );
    let req = proxy
        .watch(&["api/v1", "pods"], &[("resourceVersion", "1")])
        .unwrap();
    assert_eq!(
        query(&req),
        pairs(&[("resourceVersion", "1"), ("watch", "true")])
    );
    let req = proxy
        .post(
            &["api/v1", "namespaces"],
            &[],
            &json!({"metadata": {"name": "x"}}),
        )
        .unwrap();
    pin(
        &req,
        Method::POST,
        "/api/v1/namespaces",
        &[],
        Some("application/json"),
    );
    let req = proxy
        .put(&["api/v1", "namespaces", "x"], &[], &json!({}))
        .unwrap();
    assert_eq!(req.method(), Method::PUT);
    let req = proxy
        .patch(
            &["api/v1", "namespaces", "x"],
            &[],
            &Patch::Merge(json!({})),
        )
        .unwrap();
    assert_eq!(
        req.headers()["content-type"],
        "application/merge-patch+json"
    );
    let req = proxy.delete(&["api/v1", "namespaces", "x"], &[]).unwrap();
    assert_eq!(req.method(), Method::DELETE);
    for bad in [
        &["api/v1", "a/b"][..],
        &["api//v1"],
        &["api/v1", ""],
        &["/api/v1/../x"],
        &[],
        &["api/v1", "."],
    ] {
        assert!(proxy.get(bad, &[]).is_err(), "{bad:?}");
    }
}

#[test]
fn manifests() {
    let m = Manifest::new(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}),
    )
    .unwrap();
    assert_eq!(m.seed_kind(), Some(Kind::Namespace));
    assert!(m.namespace_for(Some("x"), "default", false).is_err());
    let req = m
        .create_request(
            config(),
            Kind::Namespace.api_resource(0).unwrap(),
            None,
            &WriteParams::default(),
        )
        .unwrap();
    pin(
        &req,
        Method::POST,
        "/api/v1/namespaces",
        &[],
        Some("application/json"),
    );
    let pod = Manifest::new(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "w-"}}),
    )
    .unwrap();
    let req = pod
        .create_request(
            config(),
            Kind::Pod.api_resource(0).unwrap(),
            None,
            &WriteParams::default(),
        )
        .unwrap();
    assert_eq!(req.uri().path(), "/api/v1/namespaces/default/pods");
    assert!(
        pod.create_request(
            config(),
            Kind::Node.api_resource(0).unwrap(),
            None,
            &WriteParams::default()
        )
        .is_err()
    );
    for bad in [
        json!({"kind": "Pod", "metadata": {"name": "x"}}),
        json!({"apiVersion": "v1", "metadata": {"name": "x"}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}}),
        json!({"apiVersion": "v1", "kind": "Pod"}),
        json!([1]),
    ] {
        let err = Manifest::new(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    }
    let old = Manifest::new(json!({"apiVersion": "extensions/v1beta1", "kind": "Deployment", "metadata": {"name": "x"}})).unwrap();
    assert_eq!(old.seed_kind(), Some(Kind::Deployment));
    let crd = Manifest::new(
        json!({"apiVersion": "ops.example.com/v1", "kind": "Backup", "metadata": {"name": "x"}}),
    )
    .unwrap();
    assert_eq!(crd.seed_kind(), None);
}
