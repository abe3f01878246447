//! Realistic bytes: watch streams and lists built from the pods recorded
//! from a real apiserver (`fixtures/recorded/`) and the Kubernetes
//! project's fully populated Pod (`fixtures/upstream-objects/`).

use std::path::PathBuf;

use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// The recorded pods (as list items: no kind or apiVersion).
pub fn recorded_pods() -> Vec<Value> {
    let text =
        std::fs::read(fixtures().join("recorded/pods-all-namespaces.json")).expect("fixture");
    let fixture: Value = serde_json::from_slice(&text).expect("JSON");
    let body: String = fixture["exchanges"][0]["response"]["chunks"]
        .as_array()
        .expect("chunks")
        .iter()
        .map(|c| c["text"].as_str().expect("text"))
        .collect();
    let list: Value = serde_json::from_str(&body).expect("list");
    list["items"].as_array().expect("items").clone()
}

/// The upstream, fully populated Pod.
pub fn upstream_pod() -> Value {
    serde_json::from_slice(
        &std::fs::read(fixtures().join("upstream-objects/core.v1.Pod.json")).expect("fixture"),
    )
    .expect("JSON")
}

/// The `n`th pod of a generated population: recorded pods with unique
/// names, uids and rising resourceVersions; one in ten is the upstream Pod.
/// `running` keeps only recorded pods (the upstream Pod's placeholder
/// values do not all decode as k8s-openapi types).
fn pod(n: usize, pods: &[Value], upstream: &Value, with_upstream: bool) -> Value {
    let mut object = if with_upstream && n % 10 == 9 {
        upstream.clone()
    } else {
        pods[n % pods.len()].clone()
    };
    object["kind"] = "Pod".into();
    object["apiVersion"] = "v1".into();
    object["metadata"]["name"] = format!("pod-{n}").into();
    object["metadata"]["namespace"] = "demo".into();
    object["metadata"]["uid"] = format!("00000000-0000-4000-8000-{n:012}").into();
    object["metadata"]["resourceVersion"] = (10_000 + n).to_string().into();
    object
}

/// A watch stream of `events` events as the apiserver writes them.
pub fn watch_stream(events: usize, with_upstream: bool) -> Vec<u8> {
    let (pods, upstream) = (recorded_pods(), upstream_pod());
    let mut out = Vec::new();
    for n in 0..events {
        let evtype = ["ADDED", "MODIFIED", "MODIFIED", "DELETED"][n % 4];
        out.extend_from_slice(format!("{{\"type\":\"{evtype}\",\"object\":").as_bytes());
        // After the list's version (20000), rising: what a watch from the
        // list receives (an older change would be a stale replay).
        let mut object = pod(n, &pods, &upstream, with_upstream);
        object["metadata"]["resourceVersion"] = (20_001 + n).to_string().into();
        serde_json::to_writer(&mut out, &object).expect("serialize");
        out.extend_from_slice(b"}\n");
    }
    out
}

/// A PodList of `items` pods as the apiserver answers a list.
pub fn pod_list(items: usize) -> Vec<u8> {
    let (pods, upstream) = (recorded_pods(), upstream_pod());
    let items: Vec<Value> = (0..items)
        .map(|n| {
            let mut p = pod(n, &pods, &upstream, false);
            // Items inside a list carry no kind or apiVersion.
            p.as_object_mut().map(|o| {
                o.remove("kind");
                o.remove("apiVersion")
            });
            p
        })
        .collect();
    // The envelope in the apiserver's order (kind, apiVersion, metadata,
    // items), which a `Value` would sort.
    let mut out =
        br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"20000"},"items":"#
            .to_vec();
    serde_json::to_writer(&mut out, &items).expect("serialize");
    out.push(b'}');
    out
}

/// One pod object as a fetch answers it.
pub fn one_pod() -> Vec<u8> {
    let (pods, upstream) = (recorded_pods(), upstream_pod());
    serde_json::to_vec(&pod(0, &pods, &upstream, false)).expect("serialize")
}

/// What a reflector cache is fed: `pods` realistic pods `ADDED` (the
/// initial list), then `changes` of them `MODIFIED` (a new
/// resourceVersion each), as watch-stream lines. Recorded pods only, so
/// every object also decodes as a k8s-openapi Pod.
pub fn cache_stream(pods: usize, changes: usize) -> Vec<u8> {
    let (recorded, upstream) = (recorded_pods(), upstream_pod());
    let mut out = Vec::new();
    for n in 0..pods + changes {
        let (evtype, index) = if n < pods {
            ("ADDED", n)
        } else {
            ("MODIFIED", (n - pods) * 7919 % pods)
        };
        let mut object = pod(index, &recorded, &upstream, false);
        object["metadata"]["resourceVersion"] = (100_000 + n).to_string().into();
        out.extend_from_slice(format!("{{\"type\":\"{evtype}\",\"object\":").as_bytes());
        serde_json::to_writer(&mut out, &object).expect("serialize");
        out.extend_from_slice(b"}\n");
    }
    out
}
