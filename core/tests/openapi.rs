#![allow(clippy::disallowed_methods)] // tests set up files and real instants for the code under test
//! Typed interop with k8s-openapi (feature `k8s-openapi`): recorded
//! apiserver answers decoded by kubewire, converted to the ecosystem's types.
#![cfg(feature = "k8s-openapi")]

use bytes::Bytes;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Namespace, Pod};

fn recorded_body(fixture: &str, exchange: usize) -> Bytes {
    let path = format!(
        "{}/../fixtures/recorded/{fixture}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("JSON");
    let response = &doc["exchanges"][exchange]["response"];
    match response.get("body") {
        Some(body) => Bytes::from(serde_json::to_vec(body).expect("JSON")),
        None => response["chunks"]
            .as_array()
            .expect("chunks")
            .iter()
            .map(|c| c["text"].as_str().expect("text"))
            .collect::<String>()
            .into(),
    }
}

#[test]
fn list_items_without_kind_convert() {
    let list = kubewire::request::decode_list(recorded_body("seed-quickstart", 0)).expect("list");
    let namespaces: Vec<Namespace> = list
        .items()
        .iter()
        .map(|i| i.to_typed().expect("a Namespace"))
        .collect();
    assert!(
        namespaces
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some("demo"))
    );
}

#[test]
fn a_mismatched_type_is_refused_with_both_names() {
    let list = kubewire::request::decode_list(recorded_body("seed-quickstart", 0)).expect("list");
    let err = list.items()[0].to_typed::<Pod>().unwrap_err();
    assert!(err.to_string().contains("v1 Namespace"), "{err}");
    let err = list.items()[0].to_typed::<ReplicaSet>().unwrap_err();
    assert!(err.to_string().contains("apps/v1 ReplicaSet"), "{err}");
}

#[test]
fn typed_objects_round_trip_through_items() {
    let mut pod = Pod::default();
    pod.metadata.name = Some("web-0".into());
    pod.metadata.namespace = Some("demo".into());
    let item = kubewire::Item::from_typed(&pod).expect("item");
    assert_eq!(item.meta().namespace(), Some("demo"));
    let back: Pod = item.to_typed().expect("pod");
    assert_eq!(back, pod);
}
