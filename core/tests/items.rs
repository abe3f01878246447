#![allow(clippy::disallowed_methods)] // tests set up files and real instants for the code under test
//! Typed items and every status accessor, on the Kubernetes project's
//! upstream objects (placeholder values) and on recorded real objects.

use std::net::IpAddr;
use std::path::PathBuf;

use bytes::Bytes;
use kubewire::error::*;
use kubewire::model::*;
use kubewire::request::*;
use kubewire::*;
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn upstream<T: TypedItem>(file: &str) -> T {
    let raw = std::fs::read(dir().join("upstream-objects").join(file)).unwrap();
    T::from_item(decode_item(Bytes::from(raw)).unwrap()).unwrap()
}

fn recorded<T: TypedItem>(fixture: &str, exchange: usize) -> T {
    let fx: Value = serde_json::from_slice(
        &std::fs::read(dir().join("recorded").join(format!("{fixture}.json"))).unwrap(),
    )
    .unwrap();
    let resp = &fx["exchanges"][exchange]["response"];
    let body: Vec<u8> = match resp.get("body") {
        Some(b) => serde_json::to_vec(b).unwrap(),
        None => resp["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["text"].as_str().unwrap().bytes())
            .collect(),
    };
    let body = Bytes::from(body);
    let item = match decode_item(body.clone()) {
        Ok(item) => item,
        Err(_) => decode_list(body).unwrap().into_items().remove(0),
    };
    T::from_item(item).unwrap()
}

fn unavailable<T: std::fmt::Debug>(r: Result<T>, field: &str) {
    match r {
        Err(Error::StatusUnavailable { field: f }) => assert_eq!(f, field),
        other => panic!("expected {field} to be unavailable, got {other:?}"),
    }
}

fn bad_value<T: std::fmt::Debug>(r: Result<T>, field: &str, value: &str) {
    match r {
        Err(Error::FieldValue {
            field: f, value: v, ..
        }) => assert_eq!((f.as_str(), v.as_str()), (field, value)),
        other => panic!("expected {field} to hold a bad value, got {other:?}"),
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn upstream_pod_placeholders_are_values_or_typed_errors() {
    let pod: Pod = upstream("core.v1.Pod.json");
    assert_eq!(
        (Pod::KIND, Pod::RESOURCE, pod.kind(), pod.resource()),
        (Kind::Pod, "pods", Kind::Pod, "pods")
    );
    assert_eq!(Pod::api_paths(), ["api/v1"]);
    bad_value(pod.phase(), "status.phase", "phaseValue");
    bad_value(pod.ip(), "status.podIP", "podIPValue");
    bad_value(pod.host_ip(), "status.hostIP", "hostIPValue");
    assert_eq!(pod.start_time().unwrap(), ts("2007-01-01T01:01:01Z"));
    assert_eq!(pod.message().unwrap(), "messageValue");
    assert_eq!(pod.reason().unwrap(), "reasonValue");
    assert_eq!(
        pod.link().unwrap(),
        "/api/v1/namespaces/namespaceValue/pods/nameValue"
    );
    let containers = pod.containers().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(
        (c.name(), c.image(), c.restart_count()),
        ("nameValue", "imageValue", 5)
    );
    assert_eq!(c.id().unwrap(), "containerIDValue");
    assert_eq!(c.image_id().unwrap(), "imageIDValue");
    assert!(c.ready().unwrap());
    assert_eq!(c.pod().meta().name(), "nameValue");
    let state = c.state().unwrap();
    assert!(
        state.running() && state.waiting() && state.terminated(),
        "every state at once"
    );
    bad_value(
        state.name(),
        "status.containerStatuses[0].state",
        "running,waiting,terminated",
    );
    assert_eq!(
        state.started_at().unwrap(),
        ts("2001-01-01T01:01:01Z"),
        "running's startedAt comes first"
    );
    assert_eq!(state.finished_at().unwrap(), ts("2006-01-01T01:01:01Z"));
    assert_eq!(
        (state.exit_code().unwrap(), state.signal().unwrap()),
        (1, 2)
    );
    assert_eq!(state.reason().unwrap(), "reasonValue");
    assert_eq!(state.message().unwrap(), "messageValue");
    assert_eq!(state.container_id().unwrap(), "containerIDValue");
    assert!(state.raw().get("waiting").is_some());
    assert!(c.last_state().unwrap().terminated());
}

#[test]
fn recorded_running_pod_with_an_oom_killed_sidecar() {
    let pod: Pod = recorded("pod-fetch-running", 0);
    assert_eq!(pod.phase().unwrap(), PodPhase::Running);
    assert_eq!(pod.ip().unwrap(), "10.244.1.10".parse::<IpAddr>().unwrap());
    assert_eq!(
        pod.host_ip().unwrap(),
        "192.0.2.11".parse::<IpAddr>().unwrap()
    );
    assert_eq!(pod.start_time().unwrap(), ts("2026-11-21T05:00:00Z"));
    unavailable(pod.message(), "status.message");
    unavailable(pod.reason(), "status.reason");
    let containers = pod.containers().unwrap();
    let names: Vec<&str> = containers.iter().map(|c| c.name()).collect();
    assert_eq!(names, ["nginx", "sidecar"]);
    let nginx = &containers[0];
    assert_eq!(nginx.state().unwrap().name().unwrap(), "running");
    assert_eq!(nginx.image(), "docker.io/library/nginx:1.27");
    unavailable(
        nginx.last_state().unwrap().name(),
        "status.containerStatuses[0].lastState",
    );
    let sidecar = &containers[1];
    assert_eq!(sidecar.restart_count(), 2);
    assert!(sidecar.ready().unwrap());
    assert_eq!(
        sidecar.state().unwrap().started_at().unwrap(),
        ts("2026-11-21T05:03:10Z")
    );
    let last = sidecar.last_state().unwrap();
    assert_eq!(last.name().unwrap(), "terminated");
    assert_eq!(
        (last.exit_code().unwrap(), last.signal().unwrap()),
        (137, 9)
    );
    assert_eq!(last.reason().unwrap(), "OOMKilled");
    assert_eq!(last.message().unwrap(), "memory limit exceeded");
    assert_eq!(last.finished_at().unwrap(), ts("2026-11-21T05:03:09Z"));
    assert!(
        last.container_id()
            .unwrap()
            .starts_with("containerd://3333")
    );
    assert!(sidecar.id().unwrap().starts_with("containerd://2222"));
    assert!(sidecar.image_id().unwrap().contains("busybox@sha256"));
}

#[test]
fn recorded_pending_pod_reports_absence() {
    let pod: Pod = recorded("pod-fetch-pending", 0);
    assert_eq!(pod.phase().unwrap(), PodPhase::Pending);
    unavailable(pod.ip(), "status.podIP");
    unavailable(pod.host_ip(), "status.hostIP");
    unavailable(pod.start_time(), "status.startTime");
    // Containers are listed before any status exists; their status facts are unavailable.
    let containers = pod.containers().unwrap();
    assert_eq!(
        containers.iter().map(|c| c.name()).collect::<Vec<_>>(),
        ["nginx", "sidecar"]
    );
    assert_eq!(containers[0].image(), "nginx:1.27");
    assert_eq!(containers[0].restart_count(), 0);
    unavailable(
        containers[0].ready(),
        "status.containerStatuses[name=nginx]",
    );
    unavailable(
        containers[0].state().map(|_| ()),
        "status.containerStatuses[name=nginx]",
    );
}

#[test]
fn nodes() {
    let node: Node = upstream("core.v1.Node.json");
    assert_eq!(
        node.addresses().unwrap(),
        [(
            AddressType::Other("typeValue".into()),
            "addressValue".to_string()
        )]
    );
    let cap = node.capacity().unwrap();
    assert_eq!(cap.resources()["capacityKey"], Quantity::from_nanos(0));
    unavailable(cap.cpu(), "status.capacity.cpu");
    let conds = node.conditions().unwrap();
    assert_eq!(conds[0].condition_type().unwrap(), "typeValue");
    bad_value(
        conds[0].status(),
        "status.conditions[0].status",
        "statusValue",
    );
    assert_eq!(
        conds[0].last_heartbeat_time().unwrap(),
        ts("2003-01-01T01:01:01Z")
    );
    assert_eq!(
        conds[0].last_transition_time().unwrap(),
        ts("2004-01-01T01:01:01Z")
    );
    assert_eq!(
        (conds[0].reason().unwrap(), conds[0].message().unwrap()),
        ("reasonValue".into(), "messageValue".into())
    );

    let node: Node = recorded("kinds-status", 0);
    assert_eq!(
        node.addresses().unwrap(),
        [
            (AddressType::InternalIp, "192.0.2.11".to_string()),
            (AddressType::InternalIp, "2001:db8::11".to_string()),
            (AddressType::Hostname, "node-1".to_string()),
            (AddressType::ExternalDns, "node-1.example.com".to_string()),
        ]
    );
    let cap = node.capacity().unwrap();
    assert_eq!(cap.cores().unwrap(), 3.5);
    assert_eq!(cap.cpu().unwrap().millis(), 3500);
    assert_eq!(cap.memory_bytes().unwrap(), 16 * 1024 * 1024 * 1024);
    assert_eq!(cap.resources()["pods"].whole(), 110);
    let ready = &node.conditions().unwrap()[0];
    assert_eq!(
        (
            ready.condition_type().unwrap().as_str(),
            ready.status().unwrap()
        ),
        ("Ready", ConditionStatus::True)
    );
    assert_eq!(node.link().unwrap(), "/api/v1/nodes/node-1");
    // Absent addresses are an empty list, as the seed has it.
    let bare = Node::from_item(
        decode_item(Bytes::from_static(
            br#"{"kind":"Node","apiVersion":"v1","metadata":{"name":"n"}}"#,
        ))
        .unwrap(),
    )
    .unwrap();
    assert!(bare.addresses().unwrap().is_empty());
    unavailable(bare.capacity(), "status.capacity");
}

#[test]
fn services() {
    let svc: Service = upstream("core.v1.Service.json");
    bad_value(
        svc.loadbalancer_ingress(),
        "status.loadBalancer.ingress[0].ip",
        "ipValue",
    );
    let svc: Service = recorded("kinds-status", 1);
    assert_eq!(
        svc.loadbalancer_ingress().unwrap(),
        [
            LoadBalancerIngress::Ip("203.0.113.10".parse().unwrap()),
            LoadBalancerIngress::Hostname("front.lb.example.com".into())
        ]
    );
}

#[test]
fn secrets() {
    let s: Secret = upstream("core.v1.Secret.json");
    assert_eq!(
        s.secret_type().unwrap(),
        SecretType::Other("typeValue".into())
    );
    assert_eq!(s.data().unwrap()["dataKey"], [2u8]);
    assert_eq!(*s.spec(), serde_json::json!({}), "a Secret has no spec");
    let s: Secret = recorded("kinds-status", 2);
    assert_eq!(s.secret_type().unwrap(), SecretType::Opaque);
    let data = s.data().unwrap();
    assert_eq!(
        (data["user"].as_slice(), data["password"].as_slice()),
        (&b"admin"[..], &b"s3cr3t-p4ss"[..])
    );
    let tls: Secret = recorded("kinds-status", 3);
    assert_eq!(tls.secret_type().unwrap(), SecretType::Tls);
    assert!(tls.data().unwrap()["tls.crt"].starts_with(b"-----BEGIN CERTIFICATE-----"));
    let broken = Secret::from_item(decode_item(Bytes::from_static(br#"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"x"},"data":{"k":"not base64!"}}"#)).unwrap()).unwrap();
    bad_value(broken.data(), "data.k", "<redacted>");
    assert!(
        !broken
            .data()
            .unwrap_err()
            .to_string()
            .contains("not base64"),
        "secret values are never echoed"
    );
}

#[test]
fn a_secret_read_in_place_is_not_shown_by_debug() {
    // The recorded Secret's password is "s3cr3t-p4ss", base64 in `data`.
    let s: Secret = recorded("kinds-status", 2);
    let encoded = "czNjcjN0LXA0c3M=";
    let data = s.field("data").expect("a Secret has data");
    let password = data.get("password").unwrap();
    assert_eq!(password.as_str().as_deref(), Some(encoded), "read as usual");
    assert_eq!(
        password.to_string(),
        format!("\"{encoded}\""),
        "Display prints"
    );
    let mut shown = vec![
        format!("{data:?}"),
        format!("{password:?}"),
        format!("{:?}", data.members()),
        format!("{:?}", data.members().map(|(_, v)| v).collect::<Vec<_>>()),
        format!("{:?}", s.item().json()),
        format!("{:?}", s.item().json().pointer("/data/password")),
    ];
    shown.extend(data.members().map(|(k, v)| format!("{k}: {v:?}")));
    // Arrays too: a list of values inside a Secret.
    let listed = decode_item(Bytes::from_static(
        br#"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"x"},"data":{"k":"czNjcjN0LXA0c3M="},"extra":["czNjcjN0LXA0c3M="]}"#,
    ))
    .unwrap();
    let extra = listed.field("extra").unwrap();
    shown.push(format!("{:?}", extra.elements().collect::<Vec<_>>()));
    shown.push(format!("{:?}", extra.element(0)));
    for text in &shown {
        assert!(!text.contains(encoded), "{text}");
        assert!(text.contains("bytes of a Secret"), "{text}");
    }
    // Anything else shows its text.
    let cm = decode_item(Bytes::from_static(
        br#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"},"data":{"k":"v"}}"#,
    ))
    .unwrap();
    let data = cm.field("data").unwrap();
    assert_eq!(format!("{data:?}"), r#"JsonRef("{\"k\":\"v\"}")"#);
    assert_eq!(
        format!("{:?}", data.elements()),
        r#"Elements { of: JsonRef("{\"k\":\"v\"}") }"#
    );
}

#[test]
fn namespaces() {
    let ns: Namespace = upstream("core.v1.Namespace.json");
    bad_value(ns.phase(), "status.phase", "phaseValue");
    let ns: Namespace = recorded("kinds-status", 4);
    assert_eq!(ns.phase().unwrap(), NamespacePhase::Active);
    assert_eq!(ns.meta().labels().get("team"), Some("web"));
    assert_eq!(ns.meta().namespace(), None);
}

#[test]
fn replica_counters() {
    let rs: ReplicaSet = upstream("apps.v1.ReplicaSet.json");
    assert_eq!(
        [
            rs.available_replicas().unwrap(),
            rs.fully_labeled_replicas().unwrap(),
            rs.observed_generation().unwrap(),
            rs.observed_replicas().unwrap(),
            rs.ready_replicas().unwrap()
        ],
        [5, 2, 3, 1, 4]
    );
    assert_eq!(
        ReplicaSet::api_paths(),
        ["apis/apps/v1", "apis/extensions/v1beta1"]
    );
    let rc: ReplicationController = upstream("core.v1.ReplicationController.json");
    assert_eq!(
        [
            rc.available_replicas().unwrap(),
            rc.fully_labeled_replicas().unwrap(),
            rc.observed_generation().unwrap(),
            rc.observed_replicas().unwrap(),
            rc.ready_replicas().unwrap()
        ],
        [5, 2, 3, 1, 4]
    );
    let d: Deployment = upstream("apps.v1.Deployment.json");
    assert_eq!(
        [
            d.available_replicas().unwrap(),
            d.observed_generation().unwrap(),
            d.observed_replicas().unwrap(),
            d.unavailable_replicas().unwrap(),
            d.updated_replicas().unwrap()
        ],
        [4, 1, 2, 5, 3]
    );
    let ds: DaemonSet = upstream("apps.v1.DaemonSet.json");
    assert_eq!(
        [
            ds.current_number_scheduled().unwrap(),
            ds.desired_number_scheduled().unwrap(),
            ds.number_misscheduled().unwrap(),
            ds.number_ready().unwrap()
        ],
        [1, 3, 2, 4]
    );

    // Recorded, controller-written: some counters absent.
    let d: Deployment = recorded("kinds-status", 5);
    assert_eq!(
        (
            d.observed_replicas().unwrap(),
            d.updated_replicas().unwrap(),
            d.unavailable_replicas().unwrap()
        ),
        (2, 2, 2)
    );
    unavailable(d.available_replicas(), "status.availableReplicas");
    assert_eq!(
        d.link().unwrap(),
        "/apis/apps/v1/namespaces/demo/deployments/shop"
    );
    let ds: DaemonSet = recorded("kinds-status", 6);
    assert_eq!(ds.number_ready().unwrap(), 0);
    let rc: ReplicationController = recorded("kinds-status", 7);
    assert_eq!(
        (
            rc.observed_replicas().unwrap(),
            rc.fully_labeled_replicas().unwrap()
        ),
        (1, 1)
    );
    unavailable(rc.ready_replicas(), "status.readyReplicas");
    let rs: ReplicaSet = recorded("kinds-status", 8);
    unavailable(rs.available_replicas(), "status.availableReplicas");
    assert_eq!(rs.observed_replicas().unwrap(), 2);
}

#[test]
fn every_kind_file_decodes_as_its_own_typed_item_and_kinds_are_checked() {
    fn check<T: TypedItem>(file: &str) {
        let item: T = upstream(file);
        assert_eq!(item.item().kind(), T::KIND.name());
        assert_eq!(item, item.clone(), "equal to itself");
        assert!(!item.item().spec().is_null());
    }
    check::<Pod>("core.v1.Pod.json");
    check::<Node>("core.v1.Node.json");
    check::<Namespace>("core.v1.Namespace.json");
    check::<Service>("core.v1.Service.json");
    check::<Secret>("core.v1.Secret.json");
    check::<ReplicaSet>("apps.v1.ReplicaSet.json");
    check::<ReplicationController>("core.v1.ReplicationController.json");
    check::<Deployment>("apps.v1.Deployment.json");
    check::<DaemonSet>("apps.v1.DaemonSet.json");
    check::<ReplicaSet>("apps.v1beta2.ReplicaSet.json");
    let pod = decode_item(Bytes::from(
        std::fs::read(dir().join("upstream-objects/core.v1.Pod.json")).unwrap(),
    ))
    .unwrap();
    let err = Node::from_item(pod).unwrap_err().to_string();
    assert!(err.contains("expected a Node, got a \"Pod\""), "{err}");
}

#[test]
fn items_are_equal_when_same_resource_same_version() {
    let a: Pod = recorded("pod-fetch-running", 0);
    let b: Pod = recorded("pod-fetch-running", 0);
    let c: Pod = recorded("pod-fetch-pending", 0);
    assert_eq!(a, b);
    assert_ne!(a, c);
}
