//! The fake apiserver, verb by verb, through its in-process transport:
//! statuses, bodies and wording as a client sees them.

use std::io::Read;

use bytes::Bytes;
use kubewire::{RequestKind, Transport};
use kubewire_conformance::fake::{Controllers, FakeApiserver, Fault};
use serde_json::{Value, json};

/// Sends one request; the status and the body (JSON, or a string).
fn call(
    fake: &FakeApiserver,
    method: &str,
    path: &str,
    content_type: &str,
    body: &Value,
) -> (u16, Value) {
    let body = if body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(body.to_string())
    };
    call_raw(fake, method, path, content_type, body)
}

fn call_raw(
    fake: &FakeApiserver,
    method: &str,
    path: &str,
    content_type: &str,
    body: Bytes,
) -> (u16, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .header("user-agent", "fake-test/1.0")
        .body(body)
        .unwrap();
    let response = Transport::send(fake, request, RequestKind::Normal).unwrap();
    let status = response.status().as_u16();
    let mut text = String::new();
    response.into_body().read_to_string(&mut text).unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn get(fake: &FakeApiserver, path: &str) -> (u16, Value) {
    call(fake, "GET", path, "application/json", &Value::Null)
}

const JSON: &str = "application/json";
const MERGE: &str = "application/merge-patch+json";
const CMS: &str = "/api/v1/namespaces/demo/configmaps";

#[test]
fn a_write_whose_body_is_not_an_object_is_a_bad_request() {
    let fake = demo();
    for body in [json!([{"kind": "Pod"}]), json!(7), json!("pod")] {
        let (status, answer) = call(
            &fake,
            "POST",
            "/api/v1/namespaces/demo/pods",
            "application/json",
            &body,
        );
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["kind"], "Status", "{body}: {answer}");
    }
    assert_eq!(get(&fake, "/api/v1/namespaces/demo/pods").0, 200);
}

fn demo() -> FakeApiserver {
    let fake = FakeApiserver::new();
    fake.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}))
        .unwrap();
    fake
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"mode": "fast"}})
}

#[test]
fn create_and_replace_answer_as_the_recorded_apiserver() {
    let fake = demo();
    let (status, cm) = call(&fake, "POST", CMS, JSON, &configmap("settings"));
    assert_eq!(status, 201, "{cm}");
    let meta = &cm["metadata"];
    assert_eq!(
        (meta["namespace"].as_str(), cm["kind"].as_str()),
        (Some("demo"), Some("ConfigMap"))
    );
    assert_eq!(meta["uid"].as_str().unwrap().len(), 36);
    assert!(
        meta["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    assert!(
        meta.get("generation").is_none(),
        "a ConfigMap has no generation"
    );
    assert_eq!(meta["managedFields"][0]["manager"], "fake-test");
    assert_eq!(
        meta["managedFields"][0]["fieldsV1"],
        json!({"f:data": {".": {}, "f:mode": {}}})
    );

    let (status, again) = call(&fake, "POST", CMS, JSON, &configmap("settings"));
    assert_eq!(
        (status, again["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );
    assert_eq!(again["message"], "configmaps \"settings\" already exists");
    assert_eq!(
        again["details"],
        json!({"name": "settings", "kind": "configmaps"})
    );

    let (status, bad) = call(&fake, "POST", CMS, JSON, &configmap("Bad_Name"));
    assert_eq!((status, bad["reason"].as_str()), (422, Some("Invalid")));
    assert!(bad["message"].as_str().unwrap().starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));

    let mut changed = cm.clone();
    changed["data"]["mode"] = json!("safe");
    let (status, replaced) = call(&fake, "PUT", &format!("{CMS}/settings"), JSON, &changed);
    assert_eq!(status, 200);
    assert_ne!(
        replaced["metadata"]["resourceVersion"],
        cm["metadata"]["resourceVersion"]
    );
    assert_eq!(replaced["metadata"]["uid"], cm["metadata"]["uid"]);
    let (status, stale) = call(&fake, "PUT", &format!("{CMS}/settings"), JSON, &changed);
    assert_eq!((status, stale["reason"].as_str()), (409, Some("Conflict")));
    assert_eq!(
        stale["message"],
        "Operation cannot be fulfilled on configmaps \"settings\": the object has been modified; please apply your changes to the latest version and try again"
    );

    let (status, dry) = call(
        &fake,
        "POST",
        &format!("{CMS}?dryRun=All"),
        JSON,
        &configmap("dry"),
    );
    assert_eq!(status, 201);
    assert!(dry["metadata"].get("resourceVersion").is_none());
    assert_eq!(get(&fake, &format!("{CMS}/dry")).0, 404);

    let (status, generated) = call(
        &fake,
        "POST",
        CMS,
        JSON,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "job-"}}),
    );
    assert_eq!(status, 201);
    let name = generated["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("job-") && name.len() == 9, "{name}");

    let (status, missing_ns) = call(
        &fake,
        "POST",
        "/api/v1/namespaces/nowhere/configmaps",
        JSON,
        &configmap("x"),
    );
    assert_eq!(
        (status, missing_ns["message"].as_str()),
        (404, Some("namespaces \"nowhere\" not found"))
    );
}

#[test]
fn patches_of_every_kind_and_server_side_apply() {
    let fake = demo();
    fake.seed(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "demo",
        "labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "v1"}]}}),
    )
    .unwrap();
    let pod = "/api/v1/namespaces/demo/pods/web-1";
    let (status, p) = call(
        &fake,
        "PATCH",
        pod,
        "application/strategic-merge-patch+json",
        &json!({"metadata": {"labels": {"mylabel": "value"}}, "spec": {"containers": [{"name": "side", "image": "s"}]}}),
    );
    assert_eq!(status, 200);
    assert_eq!(
        p["metadata"]["labels"],
        json!({"app": "web", "mylabel": "value"})
    );
    assert_eq!(
        p["spec"]["containers"].as_array().unwrap().len(),
        2,
        "containers merge by name"
    );
    let (_, p) = call(
        &fake,
        "PATCH",
        pod,
        MERGE,
        &json!({"metadata": {"labels": {"mylabel": null}}}),
    );
    assert_eq!(p["metadata"]["labels"], json!({"app": "web"}));
    let (_, p) = call(
        &fake,
        "PATCH",
        pod,
        "application/json-patch+json",
        &json!([{"op": "add", "path": "/metadata/annotations", "value": {"note": "hi"}}]),
    );
    assert_eq!(p["metadata"]["annotations"], json!({"note": "hi"}));
    let (status, failed) = call(
        &fake,
        "PATCH",
        pod,
        "application/json-patch+json",
        &json!([{"op": "test", "path": "/metadata/name", "value": "other"}]),
    );
    assert_eq!(
        (status, failed["message"].as_str()),
        (
            422,
            Some("the server rejected our request due to an error in our request")
        )
    );
    assert_eq!(call(&fake, "PATCH", pod, "text/plain", &json!({})).0, 415);

    let applied = "/api/v1/namespaces/demo/configmaps/applied";
    let config = |v: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": v}});
    let apply = "application/apply-patch+yaml";
    let (status, first) = call(
        &fake,
        "PATCH",
        &format!("{applied}?fieldManager=kubewire"),
        apply,
        &config("v1"),
    );
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["metadata"]["managedFields"][0]["operation"], "Apply");
    let (status, conflict) = call(
        &fake,
        "PATCH",
        &format!("{applied}?fieldManager=other-tool"),
        apply,
        &config("v2"),
    );
    assert_eq!(status, 409);
    assert_eq!(
        conflict["message"],
        "Apply failed with 1 conflict: conflict with \"kubewire\": .data.k"
    );
    assert_eq!(
        conflict["details"]["causes"][0],
        json!({"reason": "FieldManagerConflict", "message": "conflict with \"kubewire\"", "field": ".data.k"})
    );
    let (status, forced) = call(
        &fake,
        "PATCH",
        &format!("{applied}?fieldManager=other-tool&force=true"),
        apply,
        &config("v2"),
    );
    assert_eq!((status, forced["data"]["k"].as_str()), (200, Some("v2")));
    assert_eq!(
        forced["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // YAML bodies are read as YAML.
    let (status, yaml) = call_raw(
        &fake,
        "PATCH",
        &format!("{applied}?fieldManager=other-tool"),
        apply,
        Bytes::from(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v3\n",
        ),
    );
    assert_eq!((status, yaml["data"]["k"].as_str()), (200, Some("v3")));
    assert_eq!(
        call(&fake, "PATCH", applied, apply, &config("v1")).0,
        400,
        "fieldManager is required"
    );
}

#[test]
fn lists_select_and_page_through_a_consistent_snapshot() {
    let fake = demo();
    for (i, app) in ["web", "web", "api", "db", "web"].iter().enumerate() {
        fake.seed(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("p-{i}"), "namespace": "demo",
            "labels": {"app": app}}, "status": {"phase": if i % 2 == 0 { "Running" } else { "Pending" }}})).unwrap();
    }
    let pods = "/api/v1/namespaces/demo/pods";
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, web) = get(&fake, &format!("{pods}?labelSelector=app%3Dweb"));
    assert_eq!(names(&web), ["p-0", "p-1", "p-4"]);
    assert_eq!(web["kind"], "PodList");
    assert!(
        web["items"][0].get("kind").is_none(),
        "list items carry no kind, as recorded"
    );
    let (_, running) = get(
        &fake,
        &format!("{pods}?fieldSelector=status.phase%3DRunning&labelSelector=app%20in%20(web,db)"),
    );
    assert_eq!(names(&running), ["p-0", "p-4"]);
    let (status, bad) = get(&fake, &format!("{pods}?fieldSelector=spec.bogus%3D1"));
    assert_eq!(
        (status, bad["message"].as_str()),
        (400, Some("field label not supported: spec.bogus"))
    );

    let (_, page1) = get(&fake, &format!("{pods}?limit=2"));
    assert_eq!(names(&page1), ["p-0", "p-1"]);
    assert_eq!(page1["metadata"]["remainingItemCount"], 3);
    let token = page1["metadata"]["continue"].as_str().unwrap().to_string();
    // A write between pages is not seen by the pages that follow.
    call(&fake, "DELETE", &format!("{pods}/p-3"), JSON, &Value::Null);
    let (_, page2) = get(&fake, &format!("{pods}?limit=2&continue={token}"));
    assert_eq!(names(&page2), ["p-2", "p-3"]);
    assert_eq!(
        page2["metadata"]["resourceVersion"],
        page1["metadata"]["resourceVersion"]
    );
    let token2 = page2["metadata"]["continue"].as_str().unwrap().to_string();
    fake.compact();
    let (status, expired) = get(&fake, &format!("{pods}?limit=2&continue={token2}"));
    assert_eq!((status, expired["reason"].as_str()), (410, Some("Expired")));
    assert!(
        expired["message"]
            .as_str()
            .unwrap()
            .starts_with("The provided continue parameter is too old")
    );
    let inconsistent = expired["metadata"]["continue"].as_str().unwrap();
    let (status, rest) = get(&fake, &format!("{pods}?limit=2&continue={inconsistent}"));
    assert_eq!((status, names(&rest)), (200, vec!["p-4".to_string()]));
    assert_eq!(get(&fake, &format!("{pods}?continue=garbage")).0, 400);
    let (_, all) = get(&fake, "/api/v1/pods");
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
}

/// Reads a watch's lines until `n` have come.
fn lines(body: &mut impl Read, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while out.len() < n {
        match body.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => {
                out.push(serde_json::from_slice(&std::mem::take(&mut buf)).unwrap())
            }
            Ok(_) => buf.push(byte[0]),
            Err(e) => panic!("watch read failed: {e}"),
        }
    }
    out
}

fn watch(fake: &FakeApiserver, query: &str) -> impl Read + use<> {
    let request = http::Request::get(format!(
        "/api/v1/namespaces/demo/configmaps?watch=true&{query}"
    ))
    .body(Bytes::new())
    .unwrap();
    Transport::send(fake, request, RequestKind::Stream)
        .unwrap()
        .into_body()
}

#[test]
fn watches_see_every_change_in_order_and_expire_after_compaction() {
    let fake = demo();
    call(&fake, "POST", CMS, JSON, &configmap("before"));
    let from = fake.resource_version();
    let mut w = watch(
        &fake,
        &format!("resourceVersion={from}&allowWatchBookmarks=true"),
    );
    let mut labelled = watch(
        &fake,
        &format!("resourceVersion={from}&labelSelector=keep%3Dyes"),
    );
    let mut created = configmap("a");
    created["metadata"]["labels"] = json!({"keep": "yes"});
    call(&fake, "POST", CMS, JSON, &created);
    call(
        &fake,
        "PATCH",
        &format!("{CMS}/a"),
        MERGE,
        &json!({"data": {"mode": "slow"}}),
    );
    call(
        &fake,
        "PATCH",
        &format!("{CMS}/a"),
        MERGE,
        &json!({"metadata": {"labels": {"keep": "no"}}}),
    );
    call(&fake, "DELETE", &format!("{CMS}/a"), JSON, &Value::Null);
    fake.bookmark();
    let events = lines(&mut w, 5);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["ADDED", "MODIFIED", "MODIFIED", "DELETED", "BOOKMARK"]
    );
    let rvs: Vec<u64> = events
        .iter()
        .map(|e| {
            e["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        rvs.windows(2).all(|w| w[0] < w[1] || w[1] == w[0]),
        "{rvs:?}"
    );
    assert_eq!(events[0]["object"]["kind"], "ConfigMap");
    // Leaving the selector is a DELETED for that watch.
    let seen: Vec<String> = lines(&mut labelled, 3)
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, ["ADDED", "MODIFIED", "DELETED"]);

    let mut initial = watch(
        &fake,
        "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=3",
    );
    // Two seconds or less: the apiserver's bookmark before the deadline is
    // already past, and the watch ends without one (as recorded).
    let mut short = watch(
        &fake,
        &format!(
            "resourceVersion={}&allowWatchBookmarks=true&timeoutSeconds=1",
            fake.resource_version()
        ),
    );
    let first = lines(&mut initial, 2);
    assert_eq!(first[0]["type"], "ADDED");
    assert_eq!(first[1]["type"], "BOOKMARK");
    assert_eq!(
        first[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    let mut rest = String::new();
    initial.read_to_string(&mut rest).unwrap();
    let last: Value = serde_json::from_str(&rest).unwrap();
    assert_eq!(
        last["type"], "BOOKMARK",
        "the watch ends at its timeout with a bookmark: {rest}"
    );
    let mut nothing = String::new();
    short.read_to_string(&mut nothing).unwrap();
    assert_eq!(nothing, "", "no closing bookmark");

    fake.compact();
    let mut old = watch(&fake, &format!("resourceVersion={from}"));
    let error = lines(&mut old, 1);
    assert_eq!(error[0]["type"], "ERROR");
    assert_eq!(error[0]["object"]["code"], 410);
    assert_eq!(
        error[0]["object"]["message"],
        format!(
            "too old resource version: {from} ({})",
            fake.resource_version()
        )
    );
}

#[test]
fn deletes_honour_finalizers_owners_and_propagation() {
    let fake = demo();
    let mut guarded = configmap("guarded");
    guarded["metadata"]["finalizers"] = json!(["example.com/hold"]);
    call(&fake, "POST", CMS, JSON, &guarded);
    let (status, held) = call(
        &fake,
        "DELETE",
        &format!("{CMS}/guarded"),
        JSON,
        &Value::Null,
    );
    assert_eq!(status, 200);
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(
        get(&fake, &format!("{CMS}/guarded")).0,
        200,
        "kept while a finalizer stands"
    );
    call(
        &fake,
        "PATCH",
        &format!("{CMS}/guarded"),
        MERGE,
        &json!({"metadata": {"finalizers": null}}),
    );
    assert_eq!(
        get(&fake, &format!("{CMS}/guarded")).0,
        404,
        "gone once the finalizers are"
    );

    let (_, owner) = call(&fake, "POST", CMS, JSON, &configmap("owner"));
    let uid = owner["metadata"]["uid"].as_str().unwrap();
    for name in ["child-1", "child-2"] {
        let mut child = configmap(name);
        child["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]);
        call(&fake, "POST", CMS, JSON, &child);
    }
    let (status, gone) = call(&fake, "DELETE", &format!("{CMS}/owner"), JSON, &Value::Null);
    assert_eq!(
        (status, gone["kind"].as_str(), gone["status"].as_str()),
        (200, Some("Status"), Some("Success"))
    );
    assert_eq!(gone["details"]["uid"], uid);
    assert_eq!(
        get(&fake, &format!("{CMS}/child-1")).0,
        404,
        "background propagation"
    );

    let (_, owner) = call(&fake, "POST", CMS, JSON, &configmap("owner2"));
    let mut orphan = configmap("orphan");
    orphan["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner2", "uid": owner["metadata"]["uid"]}]);
    call(&fake, "POST", CMS, JSON, &orphan);
    call(
        &fake,
        "DELETE",
        &format!("{CMS}/owner2?propagationPolicy=Orphan"),
        JSON,
        &Value::Null,
    );
    let (status, kept) = get(&fake, &format!("{CMS}/orphan"));
    assert_eq!(status, 200);
    assert_eq!(kept["metadata"]["ownerReferences"], json!([]));

    fake.seed(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gone-0", "namespace": "demo"}, "spec": {}})).unwrap();
    let (status, pod) = call(
        &fake,
        "DELETE",
        "/api/v1/namespaces/demo/pods/gone-0?gracePeriodSeconds=0",
        JSON,
        &Value::Null,
    );
    assert_eq!((status, pod["kind"].as_str()), (200, Some("Pod")));
    assert_eq!(pod["metadata"]["deletionGracePeriodSeconds"], 0);
    let (status, missing) = call(
        &fake,
        "DELETE",
        "/api/v1/namespaces/demo/pods/gone-0",
        JSON,
        &Value::Null,
    );
    assert_eq!(
        (status, missing["message"].as_str()),
        (404, Some("pods \"gone-0\" not found"))
    );

    for name in ["tmp-0", "tmp-1"] {
        let mut t = configmap(name);
        t["metadata"]["labels"] = json!({"app": "tmp"});
        call(&fake, "POST", CMS, JSON, &t);
    }
    let (status, deleted) = call(
        &fake,
        "DELETE",
        &format!("{CMS}?labelSelector=app%3Dtmp"),
        JSON,
        &Value::Null,
    );
    assert_eq!(
        (status, deleted["kind"].as_str()),
        (200, Some("ConfigMapList"))
    );
    assert_eq!(deleted["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        get(&fake, &format!("{CMS}?labelSelector=app%3Dtmp")).1["items"],
        json!([])
    );
}

#[test]
fn a_deleted_namespace_terminates_refuses_writes_then_goes() {
    let fake = demo();
    fake.set_controllers(Controllers::Manual);
    let mut held = configmap("held");
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    call(&fake, "POST", CMS, JSON, &held);
    call(&fake, "POST", CMS, JSON, &configmap("plain"));
    let (status, ns) = call(
        &fake,
        "DELETE",
        "/api/v1/namespaces/demo",
        JSON,
        &Value::Null,
    );
    assert_eq!(
        (status, ns["status"]["phase"].as_str()),
        (200, Some("Terminating"))
    );
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(
        get(&fake, &format!("{CMS}/plain")).0,
        404,
        "its contents are deleted"
    );
    let (status, refused) = call(&fake, "POST", CMS, JSON, &configmap("late"));
    assert_eq!(
        (status, refused["reason"].as_str()),
        (403, Some("Forbidden"))
    );
    assert_eq!(
        refused["message"],
        "configmaps \"late\" is forbidden: unable to create new content in namespace demo because it is being terminated"
    );
    assert_eq!(
        call(
            &fake,
            "DELETE",
            "/api/v1/namespaces/demo",
            JSON,
            &Value::Null
        )
        .0,
        200,
        "again: 200 on v1.36"
    );
    fake.run_controllers();
    assert_eq!(
        get(&fake, "/api/v1/namespaces/demo").0,
        200,
        "a finalizer inside holds it"
    );
    call(
        &fake,
        "PATCH",
        &format!("{CMS}/held"),
        MERGE,
        &json!({"metadata": {"finalizers": null}}),
    );
    fake.run_controllers();
    let (status, gone) = get(&fake, "/api/v1/namespaces/demo");
    assert_eq!(
        (status, gone["message"].as_str()),
        (404, Some("namespaces \"demo\" not found"))
    );

    fake.set_controllers(Controllers::Immediate);
    fake.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scratch"}}))
        .unwrap();
    call(
        &fake,
        "DELETE",
        "/api/v1/namespaces/scratch",
        JSON,
        &Value::Null,
    );
    assert_eq!(get(&fake, "/api/v1/namespaces/scratch").0, 404);
}

#[test]
fn a_created_crd_is_served_discovered_and_has_a_status_subresource() {
    let fake = demo();
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "backups.ops.example.com"}, "spec": {"group": "ops.example.com", "scope": "Namespaced",
        "names": {"plural": "backups", "singular": "backup", "kind": "Backup", "listKind": "BackupList", "shortNames": ["bk"]},
        "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    let backups = "/apis/ops.example.com/v1/namespaces/demo/backups";
    assert_eq!(get(&fake, backups).0, 404);
    let (status, created) = call(
        &fake,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        JSON,
        &crd,
    );
    assert_eq!(status, 201);
    assert_eq!(created["status"]["conditions"], Value::Null, "as created");
    let (_, established) = get(
        &fake,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backups.ops.example.com",
    );
    assert_eq!(
        established["status"]["conditions"][1]["type"],
        "Established"
    );
    assert_eq!(
        established["status"]["acceptedNames"]["listKind"],
        "BackupList"
    );
    assert!(
        get(&fake, "/apis")
            .1
            .to_string()
            .contains("ops.example.com/v1")
    );
    let (_, resources) = get(&fake, "/apis/ops.example.com/v1");
    assert_eq!(resources["resources"][0]["name"], "backups");
    assert_eq!(resources["resources"][1]["name"], "backups/status");

    let backup = json!({"apiVersion": "ops.example.com/v1", "kind": "Backup", "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 * * *"}, "status": {"ignored": true}});
    let (status, b) = call(&fake, "POST", backups, JSON, &backup);
    assert_eq!(
        (status, b["metadata"]["generation"].as_i64()),
        (201, Some(1))
    );
    assert!(b.get("status").is_none(), "status is not written on create");
    let (_, list) = get(&fake, backups);
    assert_eq!(
        (list["kind"].as_str(), list["items"][0]["kind"].as_str()),
        (Some("BackupList"), Some("Backup"))
    );
    let (_, b) = call(
        &fake,
        "PATCH",
        &format!("{backups}/nightly/status"),
        MERGE,
        &json!({"status": {"phase": "Done"}, "spec": {"schedule": "x"}}),
    );
    assert_eq!(
        (
            b["status"]["phase"].as_str(),
            b["spec"]["schedule"].as_str()
        ),
        (Some("Done"), Some("0 3 * * *"))
    );
    let (_, b) = call(
        &fake,
        "PATCH",
        &format!("{backups}/nightly"),
        MERGE,
        &json!({"status": {"phase": "Lost"}, "spec": {"schedule": "y"}}),
    );
    assert_eq!(
        (
            b["status"]["phase"].as_str(),
            b["spec"]["schedule"].as_str()
        ),
        (Some("Done"), Some("y"))
    );
    assert_eq!(b["metadata"]["generation"], 2);
    assert_eq!(
        call(
            &fake,
            "PATCH",
            &format!("{backups}/nightly"),
            "application/strategic-merge-patch+json",
            &json!({})
        )
        .0,
        415
    );
    call(
        &fake,
        "DELETE",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backups.ops.example.com",
        JSON,
        &Value::Null,
    );
    assert_eq!(get(&fake, backups).0, 404);
}

#[test]
fn scale_reads_and_writes_replicas() {
    let fake = demo();
    fake.seed(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop", "namespace": "demo", "generation": 1},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "shop"}}}, "status": {"replicas": 1}})).unwrap();
    let scale = "/apis/apps/v1/namespaces/demo/deployments/shop/scale";
    let (_, s) = get(&fake, scale);
    assert_eq!(
        (
            s["kind"].as_str(),
            s["spec"]["replicas"].as_i64(),
            s["status"]["selector"].as_str()
        ),
        (Some("Scale"), Some(1), Some("app=shop"))
    );
    let mut s2 = s.clone();
    s2["spec"]["replicas"] = json!(3);
    let (status, s3) = call(&fake, "PUT", scale, JSON, &s2);
    assert_eq!((status, s3["spec"]["replicas"].as_i64()), (200, Some(3)));
    assert_eq!(
        call(&fake, "PUT", scale, JSON, &s2).0,
        409,
        "the Scale's resourceVersion is a precondition"
    );
    let (_, s4) = call(
        &fake,
        "PATCH",
        scale,
        MERGE,
        &json!({"spec": {"replicas": 5}}),
    );
    assert_eq!(s4["spec"]["replicas"], 5);
    let d = fake.get("apps/v1", "Deployment", "demo", "shop").unwrap();
    assert_eq!(
        (
            d["spec"]["replicas"].as_i64(),
            d["metadata"]["generation"].as_i64()
        ),
        (Some(5), Some(3))
    );
}

#[test]
fn injected_faults_come_in_order_then_stop() {
    let fake = demo();
    fake.inject(Fault::TooManyRequests { retry_after: 2 }, 1);
    fake.inject(Fault::Unavailable, 1);
    let request = || http::Request::get(CMS).body(Bytes::new()).unwrap();
    let r = Transport::send(&fake, request(), RequestKind::Normal).unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["retry-after"].to_str().unwrap()
        ),
        (429, "2")
    );
    assert_eq!(get(&fake, CMS).0, 503);
    assert_eq!(get(&fake, CMS).0, 200);

    fake.inject(Fault::Slow(std::time::Duration::from_millis(50)), 1);
    let started = std::time::Instant::now();
    assert_eq!(get(&fake, CMS).0, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(50));

    call(&fake, "POST", CMS, JSON, &configmap("a"));
    fake.inject(Fault::CutWatch, 1);
    assert_eq!(get(&fake, CMS).0, 200, "a cut applies to watches only");
    let mut cut = watch(&fake, "");
    let mut text = String::new();
    let err = cut.read_to_string(&mut text).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionAborted);
    assert!(
        text.contains("\"ADDED\""),
        "what it had is sent first: {text}"
    );
}

#[test]
fn refusals_are_worded_as_rbac_and_authentication_word_them() {
    let fake = demo();
    let user = || Fault::Forbidden {
        user: "system:serviceaccount:demo:nobody".into(),
    };
    fake.inject(user(), 4);
    let (status, named) = get(&fake, &format!("{CMS}/settings"));
    assert_eq!(status, 403);
    assert_eq!(
        named["message"],
        "configmaps \"settings\" is forbidden: User \"system:serviceaccount:demo:nobody\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"demo\""
    );
    assert_eq!(
        named["details"],
        json!({"name": "settings", "kind": "configmaps"})
    );
    let (_, nodes) = call(&fake, "DELETE", "/api/v1/nodes", JSON, &Value::Null);
    assert_eq!(
        nodes["message"],
        "nodes is forbidden: User \"system:serviceaccount:demo:nobody\" cannot deletecollection resource \"nodes\" in API group \"\" at the cluster scope"
    );
    let (_, scale) = get(&fake, "/apis/apps/v1/namespaces/demo/deployments/web/scale");
    assert_eq!(
        scale["message"],
        "deployments \"web\" is forbidden: User \"system:serviceaccount:demo:nobody\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"demo\""
    );
    let (_, path) = get(&fake, "/apis");
    assert_eq!(
        path["message"],
        "forbidden: User \"system:serviceaccount:demo:nobody\" cannot get path \"/apis\""
    );
    fake.inject(Fault::Unauthorized, 1);
    let (status, body) = get(&fake, CMS);
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("Unauthorized"))
    );
    assert_eq!(get(&fake, CMS).0, 200, "the faults are used up");
}

fn recorded(name: &str) -> kubewire_conformance::fixture::Fixture {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../fixtures/recorded/{name}.json"));
    kubewire_conformance::fixture::Fixture::load(&path).unwrap()
}

#[test]
fn another_clients_recorded_writes_happen_when_the_client_gets_there() {
    // delete-foreground: the controller-manager's writes to brief follow
    // the client's own DELETE, never precede it.
    let fixture = recorded("delete-foreground");
    let fake = FakeApiserver::new();
    fake.set_controllers(Controllers::Manual);
    fake.seed_fixture(&fixture).unwrap();
    assert_eq!(fake.replay_writers(&fixture), 5);
    let brief = "/apis/apps/v1/namespaces/demo/deployments/brief";
    let request = http::Request::get(
        "/apis/apps/v1/namespaces/demo/deployments?watch=true&fieldSelector=metadata.name%3Dbrief&resourceVersion=7887&timeoutSeconds=1",
    )
    .body(Bytes::new())
    .unwrap();
    let mut events = Transport::send(&fake, request, RequestKind::Stream)
        .unwrap()
        .into_body();
    assert!(
        fake.get("apps/v1", "Deployment", "demo", "brief").unwrap()["metadata"]
            ["deletionTimestamp"]
            .is_null(),
        "nothing is written before the client's own deletion"
    );
    let (status, _) = call(
        &fake,
        "DELETE",
        brief,
        JSON,
        &json!({"propagationPolicy": "Foreground"}),
    );
    assert_eq!(status, 200);
    let seen: Vec<String> = lines(&mut events, 6)
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["type"].as_str().unwrap(),
                e["object"]["metadata"]["resourceVersion"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "MODIFIED 7891",
            "MODIFIED 7892",
            "MODIFIED 7899",
            "MODIFIED 7900",
            "MODIFIED 7902",
            "DELETED 7903"
        ]
    );
    assert!(fake.get("apps/v1", "Deployment", "demo", "brief").is_none());
}

#[test]
fn a_scheduled_write_is_made_after_that_many_requests() {
    let fake = demo();
    let in_demo = |name: &str| {
        let mut cm = configmap(name);
        cm["metadata"]["namespace"] = json!("demo");
        cm
    };
    fake.write_after(2, in_demo("later"));
    assert_eq!(get(&fake, &format!("{CMS}/later")).0, 404);
    assert_eq!(get(&fake, &format!("{CMS}/later")).0, 404);
    assert_eq!(
        get(&fake, &format!("{CMS}/later")).0,
        200,
        "made once the first two were answered"
    );
    // One already due is made at once.
    fake.write_after(1, in_demo("now"));
    assert!(fake.get("v1", "ConfigMap", "demo", "now").is_some());
}

#[test]
fn bad_requests_are_status_answers_never_panics() {
    let fake = demo();
    let (status, bad) = call_raw(&fake, "POST", CMS, JSON, Bytes::from_static(b"{not json"));
    assert_eq!(
        (status, bad["kind"].as_str(), bad["reason"].as_str()),
        (400, Some("Status"), Some("BadRequest"))
    );
    let (status, text) = get(
        &fake,
        "/apis/extensions/v1beta1/namespaces/demo/deployments",
    );
    assert_eq!((status, text.as_str()), (404, Some("404 page not found\n")));
    let (status, unknown_version) = get(&fake, "/apis/apps/v2/namespaces/demo/deployments");
    assert_eq!(
        (status, unknown_version["message"].as_str()),
        (
            404,
            Some("the server could not find the requested resource")
        )
    );
    fake.seed(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "demo"}, "spec": {"nodeName": "n"}})).unwrap();
    let (status, exec) = call(
        &fake,
        "POST",
        "/api/v1/namespaces/demo/pods/p/exec",
        JSON,
        &Value::Null,
    );
    assert_eq!(
        (status, exec["reason"].as_str()),
        (501, Some("NotImplemented"))
    );
    assert!(
        exec["message"].as_str().unwrap().contains("pods/exec"),
        "{exec}"
    );
    let (status, log) = get(&fake, "/api/v1/namespaces/demo/pods/p/log");
    assert_eq!(
        (status, log["reason"].as_str()),
        (501, Some("NotImplemented"))
    );
    assert_eq!(
        call(
            &fake,
            "DELETE",
            "/api/v1/componentstatuses",
            JSON,
            &Value::Null
        )
        .0,
        405
    );
    let webhook = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "w"}});
    let (status, refused) = call(
        &fake,
        "POST",
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
        JSON,
        &webhook,
    );
    assert_eq!(
        (status, refused["reason"].as_str()),
        (501, Some("NotImplemented")),
        "not a silent success"
    );
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("admission webhooks")
    );
    // Arbitrary bodies on every write path: an answer, never a panic.
    let mut seed = 7u64;
    for i in 0..300 {
        let len = i % 40;
        let body: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 56) as u8
            })
            .collect();
        for (method, path, ct) in [
            ("POST", CMS, JSON),
            ("PUT", "/api/v1/namespaces/demo/pods/p", JSON),
            (
                "PATCH",
                "/api/v1/namespaces/demo/pods/p",
                "application/json-patch+json",
            ),
            (
                "PATCH",
                "/api/v1/namespaces/demo/pods/p",
                "application/apply-patch+yaml",
            ),
            ("DELETE", "/api/v1/namespaces/demo/pods/p", JSON),
        ] {
            let (status, _) = call_raw(
                &fake,
                method,
                &format!("{path}?fieldManager=x"),
                ct,
                Bytes::from(body.clone()),
            );
            assert!((200..600).contains(&status));
        }
        if get(&fake, "/api/v1/namespaces/demo/pods/p").0 == 404 {
            fake.seed(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "demo"}, "spec": {}})).unwrap();
        }
    }
}

#[test]
fn the_fake_answers_as_the_recordings_do() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/recorded");
    let rows = kubewire_conformance::fake::check::check_dir(&dir).unwrap();
    let table = kubewire_conformance::fake::check::table(&rows);
    println!("{table}");
    let differing: usize = rows.iter().map(|r| r.differing.len()).sum();
    assert_eq!(differing, 0, "\n{table}");
    // Every recording is compared, every exchange of it.
    assert!(rows.iter().all(|r| r.unsupported.is_none()), "\n{table}");
    let exchanges: usize = kubewire_conformance::fixture::Fixture::load_dir(&dir)
        .unwrap()
        .iter()
        .map(|f| f.exchanges.len())
        .sum();
    let compared: usize = rows.iter().map(|r| r.compared).sum();
    assert_eq!(compared, exchanges, "\n{table}");
    assert!(rows.len() >= 33);
}

mod arbitrary_requests {
    use super::*;
    use proptest::prelude::*;

    fn method() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
        ])
    }

    fn path() -> impl Strategy<Value = String> {
        let segment = prop::sample::select(vec![
            "api",
            "apis",
            "v1",
            "apps",
            "namespaces",
            "demo",
            "pods",
            "configmaps",
            "deployments",
            "status",
            "scale",
            "log",
            "exec",
            "web-0",
            "",
            "..",
            "%00",
            "customresourcedefinitions",
            "apiextensions.k8s.io",
            "leases",
            "coordination.k8s.io",
            "x_y",
        ]);
        prop::collection::vec(segment, 0..7).prop_map(|s| format!("/{}", s.join("/")))
    }

    fn query() -> impl Strategy<Value = String> {
        let pair = prop::sample::select(vec![
            "watch=true",
            "limit=2",
            "limit=-1",
            "continue=e30",
            "continue=%ff",
            "resourceVersion=1",
            "resourceVersion=abc",
            "labelSelector=app%3Dweb",
            "labelSelector=%28%28",
            "fieldSelector=a%3Db",
            "fieldManager=m",
            "force=true",
            "dryRun=All",
            "gracePeriodSeconds=x",
            "propagationPolicy=Nope",
            "timeoutSeconds=1",
            "sendInitialEvents=true",
            "allowWatchBookmarks=true",
        ]);
        prop::collection::vec(pair, 0..4).prop_map(|q| q.join("&"))
    }

    fn content_type() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            JSON,
            MERGE,
            "application/json-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
            "text/plain",
            "",
        ])
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            Just(br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#.to_vec()),
            Just(br#"[{"op":"remove","path":"/metadata"}]"#.to_vec()),
            Just(br#"{"metadata":{"name":null},"spec":null,"status":[]}"#.to_vec()),
            Just(b"apiVersion: v1\nkind: Pod\nmetadata: {name: web-0}\n".to_vec()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        /// Any request is answered — an error is a `Status` or the mux's
        /// plain 404 — and the fake keeps serving.
        #[test]
        fn any_request_gets_an_answer_and_no_panic(method in method(), path in path(), query in query(),
                content_type in content_type(), body in body()) {
            let fake = demo();
            fake.seed(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "demo"}, "spec": {}})).unwrap();
            let watch = query.contains("watch=true");
            let target = if query.is_empty() { path } else { format!("{path}?{query}") };
            let Ok(request) = http::Request::builder().method(method).uri(target.as_str())
                .header("content-type", content_type).body(Bytes::from(body)) else {
                return Ok(());
            };
            let response = Transport::send(&fake, request, RequestKind::Normal).unwrap();
            let status = response.status().as_u16();
            let mut text = Vec::new();
            if !(watch && status == 200) {
                let _ = response.into_body().read_to_end(&mut text);
            }
            prop_assert!((200..600).contains(&status));
            if status >= 400 && status != 404 {
                let v: Value = serde_json::from_slice(&text).unwrap();
                prop_assert_eq!(&v["kind"], "Status");
                prop_assert_eq!(v["code"].as_u64(), Some(u64::from(status)));
            }
            prop_assert_eq!(get(&fake, "/api/v1/namespaces/demo/pods").0, 200);
        }
    }
}
