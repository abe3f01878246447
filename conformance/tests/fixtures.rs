//! Loading, validating and writing fixtures.

use std::path::Path;

use kubewire_conformance::{Fixture, suite};

#[test]
fn the_whole_corpus_loads_and_round_trips() {
    let mut n = 0;
    for dir in ["recorded", "recorded-streams", "derived", "handwritten"] {
        for fixture in Fixture::load_dir(suite::fixtures_dir().join(dir)).expect("corpus") {
            let dir = std::env::temp_dir().join(format!(
                "kubewire-rt-{}-{}",
                std::process::id(),
                fixture.name
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("{}.json", fixture.name));
            fixture.write(&path).unwrap();
            let back = Fixture::load(&path).unwrap();
            std::fs::remove_dir_all(&dir).unwrap();
            assert_eq!(back, fixture, "{}", fixture.name);
            n += 1;
        }
    }
    // recorded, recorded-streams, derived, handwritten.
    assert_eq!(n, 35 + 26 + 21 + 2);
}

fn parse(text: &str) -> Result<Fixture, String> {
    Fixture::parse(text.as_bytes(), Path::new("bad.json")).map_err(|e| e.to_string())
}

const GOOD_REQUEST: &str = r#"{"method": "GET", "path": "/api"}"#;

fn with_exchange(exchange: &str) -> String {
    format!(
        r#"{{"format": 1, "name": "bad", "description": "d", "source": "handwritten", "exchanges": [{exchange}]}}"#
    )
}

#[test]
fn malformed_fixtures_fail_with_file_and_json_path() {
    let cases: &[(String, &str)] = &[
        ("not json".into(), "bad.json: $: not valid JSON"),
        (r#"{"format": 2}"#.into(), "bad.json: $.format: must be 1"),
        (
            r#"{"format": 1, "name": "other", "description": "", "source": "recorded", "exchanges": []}"#.into(),
            "bad.json: $.name: \"other\" differs from the file name \"bad\"",
        ),
        (
            r#"{"format": 1, "name": "bad", "description": "", "source": "guessed", "exchanges": []}"#.into(),
            "bad.json: $.source: \"guessed\": expected recorded, handwritten or derived",
        ),
        (with_exchange(r#"{"request": {"method": "get", "path": "/"}, "response": {"status": 200, "body": 1}}"#), "$.exchanges[0].request.method"),
        (with_exchange(r#"{"request": {"method": "GET", "path": "api"}, "response": {"status": 200, "body": 1}}"#), "$.exchanges[0].request.path: must start with '/'"),
        (with_exchange(&format!(r#"{{"request": {GOOD_REQUEST}, "response": {{"status": 700, "body": 1}}}}"#)), "$.exchanges[0].response.status"),
        (with_exchange(&format!(r#"{{"request": {GOOD_REQUEST}, "response": {{"status": 200}}}}"#)), "$.exchanges[0].response: needs exactly one of body, body_text, chunks; found none"),
        (with_exchange(&format!(r#"{{"request": {GOOD_REQUEST}, "response": {{"status": 200, "body": 1, "body_text": ""}}}}"#)), "found body, body_text"),
        (with_exchange(&format!(r#"{{"request": {GOOD_REQUEST}, "response": {{"status": 200, "chunks": [{{"text": "a"}}, {{"base64": "!!"}}]}}}}"#)), "$.exchanges[0].response.chunks[1].base64: invalid base64"),
        (with_exchange(&format!(r#"{{"request": {GOOD_REQUEST}, "response": {{"status": 200, "chunks": [{{"text": "a", "delay_ms": -1}}]}}}}"#)), "$.exchanges[0].response.chunks[0].delay_ms"),
        (with_exchange(&format!(r#"{{"request": {GOOD_REQUEST}, "response": {{"status": 200, "body": 1, "end": "later"}}}}"#)), "$.exchanges[0].response.end: \"later\""),
        (with_exchange(r#"{"request": {"method": "GET", "path": "/", "query": [["a"]]}, "response": {"status": 200, "body": 1}}"#), "$.exchanges[0].request.query[0]"),
        (with_exchange(r#"{"request": {"method": "GET", "path": "/", "headers": {"Accept": "x"}}, "response": {"status": 200, "body": 1}}"#), "$.exchanges[0].request.headers.Accept"),
        (with_exchange(&format!(r#"{{"request": {GOOD_REQUEST}, "response": {{"status": 200, "body": 1}}, "optional": "yes"}}"#)), "$.exchanges[0].optional"),
        (with_exchange(&format!(r#"{{"request": {GOOD_REQUEST}, "response": {{"status": 200, "body": 1, "trailers": {{}}}}}}"#)), "$.exchanges[0].response.trailers: unknown field"),
    ];
    for (text, expected) in cases {
        let err = parse(text).expect_err(text);
        assert!(err.contains(expected), "{err}\n  should contain {expected}");
        assert!(err.starts_with("bad.json: $"), "{err}");
    }
    let err = Fixture::load("/nonexistent/x.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/nonexistent/x.json: $: cannot read"),
        "{err}"
    );
}

#[test]
fn optional_exchanges_base64_chunks_and_text_bodies_are_kept() {
    let text = with_exchange(
        r#"{"request": {"method": "POST", "path": "/x", "body_text": "raw"}, "response": {"status": 200, "chunks": [{"base64": "zg==", "delay_ms": 3}, {"text": "\u00a9"}], "end": "cut"}, "optional": true}"#,
    );
    let f = parse(&text).unwrap();
    let e = &f.exchanges[0];
    assert!(e.optional);
    assert_eq!(
        e.request.body,
        kubewire_conformance::RequestBody::Text("raw".into())
    );
    assert_eq!(e.response.end, kubewire_conformance::End::Cut);
    let json = f.to_json();
    assert_eq!(
        json["exchanges"][0]["response"]["chunks"][0]["base64"], "zg==",
        "invalid UTF-8 stays base64"
    );
    assert_eq!(
        json["exchanges"][0]["response"]["chunks"][1]["text"],
        "\u{a9}"
    );
    assert_eq!(json["exchanges"][0]["optional"], true);
}
