#![allow(clippy::disallowed_methods)] // tests set up files and real instants for the code under test
//! Views: kinds, namespaces, filters and the requests they build.

use std::sync::Arc;

use bytes::Bytes;
use kubewire::config::*;
use kubewire::error::*;
use kubewire::model::*;
use kubewire::request::*;
use kubewire::watch::*;
use kubewire::*;

fn config() -> Arc<Config> {
    Arc::new(Config::default())
}

fn uri(r: Result<http::Request<Bytes>>) -> String {
    let r = r.unwrap();
    format!("{} {}", r.method(), r.uri().path_and_query().unwrap())
}

#[test]
fn every_seed_view_knows_its_kind_resource_and_paths() {
    fn check<T: TypedItem>(resource: &str, namespaced: bool) {
        let v = View::<T>::new(config());
        assert_eq!(
            (v.kind(), v.resource(), v.bound_namespace()),
            (Some(T::KIND), resource, None)
        );
        assert_eq!(v.api_paths(), T::KIND.api_paths());
        assert_eq!(
            v.clone().namespace("demo").is_ok(),
            namespaced,
            "{resource}"
        );
    }
    check::<Node>("nodes", false);
    check::<Namespace>("namespaces", false);
    check::<Pod>("pods", true);
    check::<Service>("services", true);
    check::<Secret>("secrets", true);
    check::<ReplicaSet>("replicasets", true);
    check::<ReplicationController>("replicationcontrollers", true);
    check::<DaemonSet>("daemonsets", true);
    check::<Deployment>("deployments", true);
    let err = View::<Node>::new(config()).namespace("demo").unwrap_err();
    assert!(matches!(err, Error::Namespace(_)), "{err}");
}

#[test]
fn fetch_follows_the_seed_namespace_rules() {
    let pods = View::<Pod>::new(config());
    assert!(
        matches!(pods.fetch_request("web-0", None), Err(Error::Namespace(_))),
        "no silent default namespace"
    );
    assert_eq!(
        uri(pods.fetch_request("web-0", Some("demo"))),
        "GET /api/v1/namespaces/demo/pods/web-0"
    );
    let in_demo = pods.clone().namespace("demo").unwrap();
    assert_eq!(
        uri(in_demo.fetch_request("web-0", None)),
        "GET /api/v1/namespaces/demo/pods/web-0"
    );
    assert!(matches!(
        in_demo.fetch_request("web-0", Some("other")),
        Err(Error::Namespace(_))
    ));
    let nodes = View::<Node>::new(config());
    assert_eq!(
        uri(nodes.fetch_request("node-1", None)),
        "GET /api/v1/nodes/node-1"
    );
    assert!(matches!(
        nodes.fetch_request("node-1", Some("demo")),
        Err(Error::Namespace(_))
    ));
    assert!(matches!(
        pods.fetch_request("../x", Some("demo")),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn filters_take_strings_or_maps_and_refuse_empty_ones() {
    let pods = View::<Pod>::new(config()).namespace("demo").unwrap();
    let web = pods
        .clone()
        .filter(
            Some("tier in (frontend,backend),app!=api"),
            Some("status.phase=Running"),
        )
        .unwrap();
    assert_eq!(
        uri(web.list_request(Some(500), None)),
        "GET /api/v1/namespaces/demo/pods?labelSelector=tier%20in%20(frontend,backend),app!%3Dapi&fieldSelector=status.phase%3DRunning&limit=500"
    );
    let mapped = pods
        .clone()
        .filter_with(Some(Selector::from([("app", "web")])), None)
        .unwrap();
    assert_eq!(mapped.label_selector(), Some("app=web"));
    for bad in [
        pods.clone().filter(Some(""), None),
        pods.clone().filter(None, Some(" ")),
        pods.clone().filter(None, None),
        pods.clone().filter(Some("app in (x"), None),
    ] {
        assert!(matches!(bad, Err(Error::InvalidInput(_))));
    }
    // Every namespace: the all-namespaces path.
    let all = View::<Pod>::new(config())
        .filter(Some("app=web"), None)
        .unwrap();
    assert_eq!(
        uri(all.list_request(None, Some("tok"))),
        "GET /api/v1/pods?labelSelector=app%3Dweb&continue=tok"
    );
    let mut pager = all.pager(Some(2)).unwrap();
    assert_eq!(
        pager.next_request().unwrap().unwrap().uri().query(),
        Some("labelSelector=app%3Dweb&limit=2")
    );
}

#[test]
fn watchers_from_views_and_items() {
    let pods = View::<Pod>::new(config())
        .namespace("demo")
        .unwrap()
        .filter(Some("app=web"), None)
        .unwrap();
    let mut w = pods.watcher(WatcherOptions::default()).unwrap();
    assert_eq!(
        w.poll_transmit(std::time::Instant::now())
            .unwrap()
            .uri()
            .query(),
        Some("labelSelector=app%3Dweb&limit=500")
    );
    let item = decode_item(Bytes::from_static(br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"db-0","namespace":"demo","resourceVersion":"7729"}}"#)).unwrap();
    let mut w = View::<Pod>::new(config())
        .item_watcher(&item, WatcherOptions::default())
        .unwrap();
    assert_eq!(
        uri(Ok(w.poll_transmit(std::time::Instant::now()).unwrap())),
        "GET /api/v1/namespaces/demo/pods?watch=true&fieldSelector=metadata.name%3Ddb-0&resourceVersion=7729&allowWatchBookmarks=true&timeoutSeconds=290"
    );
}

#[test]
fn create_delete_and_labels() {
    let pods = View::<Pod>::new(config()).namespace("demo").unwrap();
    let manifest =
        serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
    assert_eq!(
        uri(pods.create_request(manifest.clone(), None, &WriteParams::default())),
        "POST /api/v1/namespaces/demo/pods"
    );
    let global = View::<Pod>::new(config());
    assert_eq!(
        uri(global.create_request(manifest.clone(), None, &WriteParams::default())),
        "POST /api/v1/namespaces/default/pods",
        "cluster default last"
    );
    let mut other = manifest.clone();
    other["metadata"]["namespace"] = "other".into();
    assert!(matches!(
        pods.create_request(other, None, &WriteParams::default()),
        Err(Error::Namespace(_))
    ));
    assert_eq!(
        uri(pods.delete_request("p", None, &DeleteParams::default())),
        "DELETE /api/v1/namespaces/demo/pods/p"
    );
    let rs = View::<ReplicaSet>::new(config());
    let item = decode_item(Bytes::from_static(br#"{"kind":"ReplicaSet","apiVersion":"apps/v1","metadata":{"name":"auth-v3","namespace":"demo"}}"#)).unwrap();
    let req = rs.label_request(&item, "mylabel", Some("value")).unwrap();
    assert_eq!(
        req.headers()["content-type"],
        "application/strategic-merge-patch+json"
    );
    assert_eq!(
        req.body().as_ref(),
        br#"{"metadata":{"labels":{"mylabel":"value"}}}"#
    );
    let req = rs.label_request(&item, "example.com/gone", None).unwrap();
    assert_eq!(
        req.body().as_ref(),
        br#"{"metadata":{"labels":{"example.com/gone":null}}}"#
    );
    assert!(rs.label_request(&item, "bad key!", Some("v")).is_err());
    let backups = View::dynamic(
        config(),
        ApiResource::new("ops.example.com", "v1", "Backup", "backups", true).unwrap(),
    );
    let b = decode_item(Bytes::from_static(br#"{"kind":"Backup","apiVersion":"ops.example.com/v1","metadata":{"name":"nightly","namespace":"demo"}}"#)).unwrap();
    let req = backups.label_request(&b, "tier", Some("db")).unwrap();
    assert_eq!(
        req.headers()["content-type"],
        "application/merge-patch+json",
        "custom resources take merge patches"
    );
    assert_eq!(
        uri(Ok(req)),
        "PATCH /apis/ops.example.com/v1/namespaces/demo/backups/nightly"
    );
}

#[test]
fn api_path_fallback_and_decoding() {
    let d = View::<Deployment>::new(config())
        .namespace("demo")
        .unwrap()
        .at_api_path(1)
        .unwrap();
    assert_eq!(
        uri(d.list_request(None, None)),
        "GET /apis/extensions/v1beta1/namespaces/demo/deployments"
    );
    assert!(View::<Pod>::new(config()).at_api_path(1).is_err());
    let pods = View::<Pod>::new(config());
    let resp = http::Response::new(Bytes::from_static(br#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"a"}}]}"#));
    let list = pods.decode_list(resp).unwrap();
    assert_eq!(list[0].meta().name(), "a");
    let resp = http::Response::new(Bytes::from_static(
        br#"{"kind":"Node","apiVersion":"v1","metadata":{"name":"n"}}"#,
    ));
    assert!(pods.decode(resp).is_err(), "a Node is not a Pod");
}

fn body(r: &http::Request<Bytes>) -> serde_json::Value {
    serde_json::from_slice(r.body()).unwrap()
}

#[test]
fn statefulset_scale_goes_through_its_scale_subresource() {
    let sts = View::dynamic(
        config(),
        ApiResource::new("apps", "v1", "StatefulSet", "statefulsets", true).unwrap(),
    )
    .namespace("demo")
    .unwrap();
    assert_eq!(
        uri(sts.scale_request("db", None)),
        "GET /apis/apps/v1/namespaces/demo/statefulsets/db/scale"
    );
    let set = sts
        .set_scale_request("db", None, 3, &WriteParams::default())
        .unwrap();
    assert_eq!(
        (
            set.method().as_str(),
            set.headers()["content-type"].to_str().unwrap()
        ),
        ("PATCH", "application/merge-patch+json")
    );
    assert_eq!(body(&set), serde_json::json!({"spec": {"replicas": 3}}));
    assert!(
        sts.set_scale_request("db", None, -1, &WriteParams::default())
            .is_err()
    );
}

#[test]
fn metadata_writes_set_with_strategic_merge_and_remove_with_null() {
    let pods = View::<Pod>::new(config());
    let pod = decode_item(Bytes::from_static(
        br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","namespace":"demo"}}"#,
    ))
    .unwrap();
    let set = pods
        .metadata_request(
            &pod,
            MetadataMap::Annotations,
            "example.com/note",
            Some("free text: ok!"),
            &WriteParams::default(),
        )
        .unwrap();
    assert_eq!(
        set.headers()["content-type"],
        "application/strategic-merge-patch+json"
    );
    assert_eq!(
        body(&set),
        serde_json::json!({"metadata": {"annotations": {"example.com/note": "free text: ok!"}}})
    );
    let removed = pods
        .metadata_request(
            &pod,
            MetadataMap::Annotations,
            "example.com/note",
            None,
            &WriteParams::default(),
        )
        .unwrap();
    assert_eq!(
        removed.headers()["content-type"],
        "application/strategic-merge-patch+json",
        "a built-in kind: strategic merge, as kubectl (and the recorded traffic)"
    );
    assert_eq!(
        body(&removed),
        serde_json::json!({"metadata": {"annotations": {"example.com/note": null}}})
    );
    // A custom resource knows no strategic merge: a JSON merge patch.
    let backups = View::dynamic(
        config(),
        kubewire::request::ApiResource::new("ops.example.com", "v1", "Backup", "backups", true)
            .unwrap(),
    );
    let backup = decode_item(Bytes::from_static(br#"{"kind":"Backup","apiVersion":"ops.example.com/v1","metadata":{"name":"b","namespace":"demo","resourceVersion":"3"}}"#)).unwrap();
    let removed = backups
        .metadata_request(
            &backup,
            MetadataMap::Labels,
            "tier",
            None,
            &WriteParams::default(),
        )
        .unwrap();
    assert_eq!(
        removed.headers()["content-type"],
        "application/merge-patch+json"
    );
    // A key is checked (label key syntax); a label value too.
    assert!(
        pods.metadata_request(
            &pod,
            MetadataMap::Annotations,
            "bad key",
            Some("v"),
            &WriteParams::default()
        )
        .is_err()
    );
    assert!(
        pods.metadata_request(
            &pod,
            MetadataMap::Labels,
            "k",
            Some("not a label value!"),
            &WriteParams::default()
        )
        .is_err()
    );
}

#[test]
fn delete_collection_needs_a_namespace() {
    let pods = View::<Pod>::new(config());
    assert!(matches!(
        pods.delete_collection_request(&DeleteParams::default()),
        Err(Error::Namespace(_))
    ));
    let demo = pods.namespace("demo").unwrap();
    assert_eq!(
        uri(demo.delete_collection_request(&DeleteParams::default())),
        "DELETE /api/v1/namespaces/demo/pods"
    );
    let tmp = demo.filter(Some("app=tmp"), None).unwrap();
    assert_eq!(
        uri(tmp.delete_collection_request(&DeleteParams::default())),
        "DELETE /api/v1/namespaces/demo/pods?labelSelector=app%3Dtmp"
    );
    let spot = View::<Node>::new(config())
        .filter(Some("pool=spot"), None)
        .unwrap();
    assert_eq!(
        uri(spot.delete_collection_request(&DeleteParams::default())),
        "DELETE /api/v1/nodes?labelSelector=pool%3Dspot"
    );
}

#[test]
fn apply_and_replace_take_name_and_namespace_from_the_manifest() {
    let deployments = View::<Deployment>::new(config());
    let manifest = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo"}});
    let apply = deployments
        .apply_request(
            manifest.clone(),
            &WriteParams::default().field_manager("me"),
        )
        .unwrap();
    assert_eq!(
        uri(Ok(apply)),
        "PATCH /apis/apps/v1/namespaces/demo/deployments/web?fieldManager=me"
    );
    // Server-side apply without a field manager is refused before sending.
    assert!(
        deployments
            .apply_request(manifest.clone(), &WriteParams::default())
            .is_err()
    );
    assert_eq!(
        uri(deployments.replace_request(manifest.clone(), &WriteParams::default())),
        "PUT /apis/apps/v1/namespaces/demo/deployments/web"
    );
    let wrong = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}});
    assert!(
        deployments
            .replace_request(wrong, &WriteParams::default())
            .is_err()
    );
    let status = deployments
        .apply_status_request(
            "web",
            Some("demo"),
            serde_json::json!({"replicas": 1}),
            &WriteParams::default().field_manager("me"),
        )
        .unwrap();
    assert_eq!(
        status.uri().path(),
        "/apis/apps/v1/namespaces/demo/deployments/web/status"
    );
    assert_eq!(
        body(&status),
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "demo"}, "status": {"replicas": 1}})
    );
}

#[test]
fn a_name_cannot_add_selector_terms_and_a_link_checks_its_namespace() {
    let item = decode_item(Bytes::from_static(br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a,metadata.namespace=kube-system","namespace":"demo","resourceVersion":"5"}}"#)).unwrap();
    let mut w = View::<Pod>::new(config())
        .item_watcher(&item, WatcherOptions::default())
        .unwrap();
    let request = w.poll_transmit(std::time::Instant::now()).unwrap();
    let selector = request
        .uri()
        .query()
        .unwrap()
        .split('&')
        .find_map(|p| p.strip_prefix("fieldSelector="))
        .map(percent_decode)
        .unwrap();
    assert_eq!(
        selector,
        r"metadata.name=a\,metadata.namespace\=kube-system"
    );
    let escaped = decode_item(Bytes::from_static(br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"x","namespace":"..","resourceVersion":"5"}}"#)).unwrap();
    assert!(
        escaped.link("pods").is_err(),
        "a namespace of '..' is refused"
    );
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
