#![allow(clippy::disallowed_methods)] // tests set up files and real instants for the code under test
//! Decoding of whole bodies: upstream objects, recorded lists and errors.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use kubewire::config::*;
use kubewire::error::*;
use kubewire::http::{HeaderMap, HeaderValue};
use kubewire::model::*;
use kubewire::pager::*;
use kubewire::request::*;
use kubewire::*;
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The response body and status of exchange `i` of a recorded fixture.
fn recorded(name: &str, i: usize) -> (u16, Bytes) {
    let fx = read_json(&fixtures().join("recorded").join(format!("{name}.json")));
    let resp = &fx["exchanges"][i]["response"];
    let status = resp["status"].as_u64().unwrap() as u16;
    let body = if let Some(b) = resp.get("body") {
        serde_json::to_vec(b).unwrap()
    } else if let Some(t) = resp.get("body_text") {
        t.as_str().unwrap().as_bytes().to_vec()
    } else {
        resp["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["text"].as_str().unwrap().as_bytes().to_vec())
            .collect()
    };
    (status, Bytes::from(body))
}

#[test]
fn every_upstream_object_with_metadata_decodes_as_an_item() {
    let mut items = 0;
    let mut others = 0;
    for entry in std::fs::read_dir(fixtures().join("upstream-objects")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let raw = std::fs::read(&path).unwrap();
        let json: Value = serde_json::from_slice(&raw).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let result = decode_item(Bytes::from(raw.clone()));
        let is_object = json.get("metadata").is_some() && json["kind"] != "Status";
        if !is_object {
            // Everything else is refused with a message saying what was expected.
            let err = result.expect_err(&file);
            assert!(matches!(err, Error::Decode { .. }), "{file}: {err}");
            assert!(
                err.to_string().contains("an object with metadata"),
                "{file}: {err}"
            );
            if json["kind"] == "Status" {
                assert!(decode_status(&raw).is_ok(), "{file}");
            }
            others += 1;
            continue;
        }
        let item = result.unwrap_or_else(|e| panic!("{file}: {e}"));
        let m = &json["metadata"];
        let meta = item.meta();
        assert_eq!(meta.name(), m["name"].as_str().unwrap(), "{file}");
        assert_eq!(meta.namespace(), m["namespace"].as_str(), "{file}");
        assert_eq!(meta.uid(), m["uid"].as_str().unwrap(), "{file}");
        assert_eq!(
            meta.version(),
            m["resourceVersion"].as_str().unwrap(),
            "{file}"
        );
        assert_eq!(
            meta.labels().get("labelsKey"),
            Some("labelsValue"),
            "{file}"
        );
        assert_eq!(meta.annotations().len(), 1, "{file}");
        let created = meta.created().unwrap();
        assert_eq!(
            created.to_string(),
            m["creationTimestamp"].as_str().unwrap(),
            "{file}"
        );
        assert_eq!(meta.owner_references()[0].name, "nameValue", "{file}");
        assert_eq!(meta.owner_references()[0].controller, Some(true), "{file}");
        assert_eq!(item.kind(), json["kind"].as_str().unwrap(), "{file}");
        assert_eq!(
            item.api_version(),
            json["apiVersion"].as_str().unwrap(),
            "{file}"
        );
        assert_eq!(
            item.raw().as_ref(),
            &raw[..],
            "{file}: raw JSON kept as sent"
        );
        items += 1;
    }
    assert_eq!((items, others), (171, 22));
}

#[test]
fn recorded_item_and_list_with_continue() {
    let (status, body) = recorded("pod-fetch-running", 0);
    assert_eq!(status, 200);
    let pod = decode_item(body).unwrap();
    assert_eq!(
        (pod.meta().name(), pod.meta().namespace().unwrap_or("")),
        ("web-0", "demo")
    );
    assert_eq!(pod.kind(), "Pod");
    assert!(!pod.meta().uid().is_empty());

    let (_, body) = recorded("pods-list-paginate", 0);
    let page = decode_list(body).unwrap();
    assert_eq!(page.kind(), "PodList");
    assert_eq!(page.resource_version(), "7774");
    assert_eq!(page.items().len(), 2);
    assert_eq!(page.remaining_item_count(), Some(7));
    assert!(page.continue_token().unwrap().starts_with("eyJ2Ijoi"));
    // List items carry no kind/apiVersion; the list's fill them in.
    assert_eq!(page.items()[0].kind(), "Pod");
    assert_eq!(page.items()[0].api_version(), "v1");
    assert_eq!(page.items()[1].meta().name(), "auth-v3-2ll8m");
    let item_json: Value = serde_json::from_slice(page.items()[1].raw()).unwrap();
    assert_eq!(item_json["metadata"]["generateName"], "auth-v3-");

    let (_, body) = recorded("pods-list-paginate", 4);
    let last = decode_list(body).unwrap();
    assert_eq!(last.continue_token(), None);
    assert_eq!(last.remaining_item_count(), None);
}

#[test]
fn bad_bodies_say_what_was_expected() {
    for (body, expect) in [
        (&b"not json"[..], "an object with metadata"),
        (b"{\"metadata\":{\"name\":\"a\"", "an object with metadata"),
        (b"[1,2]", "an object with metadata"),
        (b"{\"kind\":\"Pod\"}", "a Pod has no metadata"),
        (
            b"{\"metadata\":{\"labels\":[1]}}",
            "an object with metadata",
        ),
        (
            b"{\"metadata\":{\"creationTimestamp\":\"yesterday\"}}",
            "RFC 3339",
        ),
    ] {
        let err = decode_item(Bytes::from_static(body)).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        assert!(err.to_string().contains(expect), "{err}");
    }
    for body in [
        &b"{}x"[..],
        b"{\"items\":{}}",
        b"{\"kind\":\"Pod\",\"metadata\":{}}",
        b"",
    ] {
        let err = decode_list(Bytes::from_static(body)).unwrap_err();
        assert!(err.to_string().contains("a list"), "{err}");
    }
    // `items: null` is an empty list, as the apiserver sends for no matches.
    let list = decode_list(Bytes::from_static(
        br#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":null}"#,
    ))
    .unwrap();
    assert!(list.items().is_empty());
}

/// JSON a `serde_json::Value` cannot hold (a number beyond an f64, a lone
/// UTF-16 surrogate) is refused when the object is decoded, on every path,
/// rather than accepted and then lost: `spec()` and the status accessors
/// parse into `Value`s later and cannot fail then.
#[test]
fn what_a_value_cannot_hold_is_refused_at_decoding_not_lost_later() {
    let object = |member: &str| {
        format!(
            r#"{{"kind":"Pod","apiVersion":"v1","metadata":{{"name":"a","namespace":"d","resourceVersion":"1"}},{member}}}"#
        )
    };
    for (member, words) in [
        (r#""spec":{"replicas":1e400}"#, "number out of range"),
        (r#""status":{"x":[-2E+309]}"#, "number out of range"),
        (r#""spec":{"name":"\ud800"}"#, "escape"),
        (r#""data":{"\udc00":"v"}"#, "escape"),
        // After a duplicate field, which the general path decodes.
        (r#""spec":{},"spec":{"n":9e999}"#, "number out of range"),
    ] {
        let text = object(member);
        let err = decode_item(Bytes::from(text.clone())).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        assert!(err.to_string().contains(words), "{member}: {err}");

        let list = format!(
            r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{"resourceVersion":"5"}},"items":[{},{text}]}}"#,
            object(r#""spec":{"n":1e308}"#)
        );
        let err = decode_list(Bytes::from(list)).unwrap_err();
        assert!(err.to_string().contains(words), "{member}: {err}");

        let mut decoder = kubewire::watch::WatchDecoder::new();
        decoder.feed(format!("{{\"type\":\"ADDED\",\"object\":{text}}}\n").as_bytes());
        let err = decoder.next_event().unwrap().unwrap_err();
        assert!(err.to_string().contains(words), "{member}: {err}");
    }
    // Within range, and a surrogate pair: kept whole.
    let item = decode_item(Bytes::from(object(
        r#""spec":{"big":1.7976931348623157e308,"tiny":1e-400,"clef":"\ud834\udd1e"}"#,
    )))
    .unwrap();
    assert_eq!(item.spec()["big"], f64::MAX);
    assert_eq!(item.spec()["tiny"], 0.0);
    assert_eq!(item.spec()["clef"], "\u{1D11E}");
}

fn api(err: &Error) -> &ApiError {
    err.api().expect("an API error")
}

#[test]
fn recorded_status_errors() {
    let none = HeaderMap::new();
    // 404 naming the object -> NotFound.
    let (s, b) = recorded("pod-fetch-running", 1);
    let err = check_status(s, &none, &b).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    let status = api(&err).status().unwrap();
    assert_eq!((status.reason.as_str(), status.code), ("NotFound", 404));
    assert_eq!(status.details.as_ref().unwrap().name, "nope-0");
    assert_eq!(
        err.to_string(),
        "apiserver answered 404 NotFound: pods \"nope-0\" not found"
    );
    // 404 without details -> not served here (API-version fallback), not NotFound.
    let (s, b) = recorded("api-fallback", 0);
    let err = check_status(s, &none, &b).unwrap_err();
    assert!(
        matches!(err, Error::Api(_)) && api(&err).is_not_served(),
        "{err}"
    );
    // text/plain 404 -> raw text kept.
    let (s, b) = recorded("removed-group-404", 0);
    let err = check_status(s, &none, &b).unwrap_err();
    assert!(api(&err).is_not_served());
    assert_eq!(
        api(&err).body,
        ErrorBody::Text("404 page not found\n".into())
    );
    assert_eq!(api(&err).message(), "404 page not found");
    // 409 AlreadyExists, 409 Conflict, 422 Invalid with causes.
    let (s, b) = recorded("writes-create-replace", 1);
    assert_eq!(
        api(&check_status(s, &none, &b).unwrap_err()).reason(),
        "AlreadyExists"
    );
    let (s, b) = recorded("writes-create-replace", 4);
    let err = check_status(s, &none, &b).unwrap_err();
    assert_eq!(
        (err.http_status(), api(&err).reason()),
        (Some(409), "Conflict")
    );
    assert!(api(&err).message().contains("the object has been modified"));
    let (s, b) = recorded("writes-create-replace", 2);
    let err = check_status(s, &none, &b).unwrap_err();
    let details = api(&err).status().unwrap().details.clone().unwrap();
    assert_eq!(
        (api(&err).reason(), details.causes[0].field.as_str()),
        ("Invalid", "metadata.name")
    );
    // SSA conflict: 409 with causes naming the field.
    let (s, b) = recorded("patch-types", 5);
    let err = check_status(s, &none, &b).unwrap_err();
    let cause = &api(&err).status().unwrap().details.as_ref().unwrap().causes[0];
    assert_eq!(
        (cause.reason.as_str(), cause.field.as_str()),
        ("FieldManagerConflict", ".data.k")
    );
    // 410 Expired with an (inconsistent) continue token offered.
    let (s, b) = recorded("list-continue-expired", 1);
    let err = check_status(s, &none, &b).unwrap_err();
    assert!(api(&err).is_expired());
    assert!(
        api(&err)
            .status()
            .unwrap()
            .metadata
            .continue_token
            .is_some()
    );
    // 400, 401, 403.
    let (s, b) = recorded("pods-filter", 6);
    assert_eq!(
        api(&check_status(s, &none, &b).unwrap_err()).reason(),
        "BadRequest"
    );
    let (s, b) = recorded("auth-errors", 0);
    assert_eq!(
        api(&check_status(s, &none, &b).unwrap_err()).reason(),
        "Unauthorized"
    );
    let (s, b) = recorded("auth-errors", 2);
    let err = check_status(s, &none, &b).unwrap_err();
    assert!(matches!(err, Error::Api(_)));
    assert_eq!(api(&err).reason(), "Forbidden");
}

#[test]
fn handwritten_429_and_500() {
    let body = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Too many requests, please try again later.","reason":"TooManyRequests","details":{"retryAfterSeconds":3},"code":429}"#;
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from_static("5"));
    let err = check_status(429, &headers, body).unwrap_err();
    assert_eq!(api(&err).reason(), "TooManyRequests");
    assert_eq!(api(&err).retry_after, Some(5));
    assert_eq!(api(&err).retry_after_seconds(), Some(5));
    let err = check_status(429, &HeaderMap::new(), body).unwrap_err();
    assert_eq!(
        api(&err).retry_after_seconds(),
        Some(3),
        "details.retryAfterSeconds"
    );
    let body = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"etcdserver: request timed out","reason":"InternalError","details":{"causes":[{"message":"etcdserver: request timed out"}]},"code":500}"#;
    let err = check_status(500, &HeaderMap::new(), body).unwrap_err();
    assert_eq!(
        (err.http_status(), api(&err).reason()),
        (Some(500), "InternalError")
    );
    let err = check_status(502, &HeaderMap::new(), b"<html>bad gateway</html>").unwrap_err();
    assert_eq!(
        api(&err).body,
        ErrorBody::Text("<html>bad gateway</html>".into())
    );
    assert!(check_status(204, &HeaderMap::new(), b"").is_ok());
}

fn pods_endpoint(limit: u32) -> (Endpoint, ListParams) {
    let e = Endpoint::new(
        Arc::new(Config::default()),
        Kind::Pod.api_resource(0).unwrap(),
        Scope::Namespace("demo".into()),
    )
    .unwrap();
    (e, ListParams::default().limit(Some(limit)))
}

fn page(cont: &str, names: &[&str]) -> Bytes {
    let items: Vec<Value> = names
        .iter()
        .map(|n| serde_json::json!({"metadata": {"name": n}}))
        .collect();
    Bytes::from(
        serde_json::to_vec(&serde_json::json!({
        "kind": "PodList", "apiVersion": "v1",
        "metadata": {"resourceVersion": "10", "continue": cont}, "items": items}))
        .unwrap(),
    )
}

fn expired() -> Bytes {
    Bytes::from_static(br#"{"kind":"Status","apiVersion":"v1","metadata":{"continue":"bad"},"status":"Failure","message":"too old","reason":"Expired","code":410}"#)
}

#[test]
fn pager_restarts_on_expired_continue_and_never_mixes() {
    let (e, p) = pods_endpoint(2);
    let mut answers = vec![
        (200, page("t1", &["a", "b"])),
        (410, expired()),
        (200, page("t2", &["a", "b"])),
        (200, page("", &["c"])),
    ]
    .into_iter();
    let mut sent = Vec::new();
    let (items, rv) = Pager::new(e, p)
        .collect(|req| {
            sent.push(req.uri().query().unwrap_or("").to_string());
            let (status, body) = answers.next().unwrap();
            Ok(http::Response::builder().status(status).body(body).unwrap())
        })
        .unwrap();
    let names: Vec<&str> = items.iter().map(|i| i.meta().name()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(rv, "10");
    assert_eq!(
        sent,
        [
            "limit=2",
            "limit=2&continue=t1",
            "limit=2",
            "limit=2&continue=t2"
        ]
    );
}

#[test]
fn pager_reports_restart_and_gives_up_after_repeated_expiry() {
    let (e, p) = pods_endpoint(1);
    let mut pager = Pager::new(e, p);
    let none = HeaderMap::new();
    let mut restarts = 0;
    loop {
        let Some(req) = pager.next_request() else {
            panic!("pager stopped early")
        };
        let req = req.unwrap();
        let answer = if req.uri().query().unwrap().contains("continue") {
            pager.handle_response(410, &none, expired())
        } else {
            pager.handle_response(200, &none, page("t", &["a"]))
        };
        match answer {
            Ok(PageOutcome::Page(_)) => {}
            Ok(PageOutcome::Restarted { discarded_pages }) => {
                assert_eq!(discarded_pages, 1);
                restarts += 1;
            }
            Ok(other) => panic!("{other:?}"),
            Err(err) => {
                assert!(matches!(err, Error::Protocol(_)), "{err}");
                assert!(err.to_string().contains("expired"), "{err}");
                break;
            }
        }
    }
    assert_eq!(restarts, MAX_RESTARTS);
}

#[test]
fn pager_errors_on_first_page_expiry_and_repeated_tokens() {
    let none = HeaderMap::new();
    let (e, p) = pods_endpoint(1);
    let mut pager = Pager::new(e.clone(), p.clone());
    pager.next_request().unwrap().unwrap();
    let err = pager.handle_response(410, &none, expired()).unwrap_err();
    assert!(api(&err).is_expired());
    let mut pager = Pager::new(e, p);
    pager.next_request().unwrap().unwrap();
    assert!(
        pager
            .handle_response(200, &none, page("same", &["a"]))
            .is_ok()
    );
    pager.next_request().unwrap().unwrap();
    let err = pager
        .handle_response(200, &none, page("same", &["b"]))
        .unwrap_err();
    assert!(err.to_string().contains("repeated continue token"), "{err}");
    assert!(pager.next_request().is_none());
    // A response with nothing in flight is a protocol error, not a panic.
    assert!(pager.handle_response(200, &none, page("", &[])).is_err());
}

#[test]
fn a_server_offering_new_continue_tokens_forever_is_stopped() {
    let none = HeaderMap::new();
    let (e, p) = pods_endpoint(1);
    let mut pager = Pager::new(e, p);
    let mut pages = 0;
    let err = loop {
        let Some(request) = pager.next_request() else {
            panic!("the pager ended without an error");
        };
        request.unwrap();
        match pager.handle_response(200, &none, page(&format!("token-{pages}"), &["a"])) {
            Ok(_) => pages += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(pages, kubewire::pager::MAX_PAGES - 1);
    assert!(
        err.to_string().contains("pages and the server offers more"),
        "{err}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
        let b = Bytes::from(bytes);
        let _ = decode_item(b.clone());
        let _ = decode_list(b.clone());
        let _ = decode_status(&b);
        let _ = check_status(500, &HeaderMap::new(), &b);
    }
}
