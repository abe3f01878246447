//! The replay server as an independent client sees it: raw bytes on a
//! `TcpStream`, parsed here without the crate's own HTTP code.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kubewire_conformance::{Chunking, Fixture, ReplayServer, ServeOptions};

fn fixture(exchanges: &str) -> Fixture {
    let text = format!(
        r#"{{"format": 1, "name": "t", "description": "test", "source": "handwritten", "exchanges": {exchanges}}}"#
    );
    Fixture::parse(text.as_bytes(), std::path::Path::new("<test>")).expect("valid fixture")
}

fn start(exchanges: &str, chunking: Chunking) -> ReplayServer {
    let options = ServeOptions {
        chunking,
        ..ServeOptions::default()
    };
    ReplayServer::start_with(vec![fixture(exchanges)], options).expect("server starts")
}

fn connect(server: &ReplayServer) -> TcpStream {
    let s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Reads until the server closes; returns the raw bytes.
fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    all
}

/// Splits a raw response into head and body bytes.
fn split(raw: &[u8]) -> (String, Vec<u8>) {
    let i = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    (
        String::from_utf8(raw[..i].to_vec()).unwrap(),
        raw[i + 4..].to_vec(),
    )
}

/// Decodes chunked framing by hand: the chunks, and whether the final
/// zero-length chunk arrived.
fn chunks(mut body: &[u8]) -> (Vec<Vec<u8>>, bool) {
    let mut out = Vec::new();
    loop {
        let Some(i) = body.windows(2).position(|w| w == b"\r\n") else {
            return (out, false);
        };
        let size = usize::from_str_radix(std::str::from_utf8(&body[..i]).unwrap(), 16).unwrap();
        if size == 0 {
            return (out, true);
        }
        out.push(body[i + 2..i + 2 + size].to_vec());
        body = &body[i + 2 + size + 2..];
    }
}

fn get(s: &mut TcpStream, target: &str, extra: &str) {
    write!(s, "GET {target} HTTP/1.1\r\nhost: test\r\n{extra}\r\n").unwrap();
}

const CHUNKED: &str = r#"[{"request": {"method": "GET", "path": "/w", "query": [["watch", "true"]]},
  "response": {"status": 200, "headers": {"content-type": "application/json"},
  "chunks": [{"text": "{\"a\":1}\n{\"b\""}, {"text": ":2}\n", "delay_ms": 300}, {"base64": "zg=="}]}}]"#;

#[test]
fn serves_status_headers_and_json_body_with_content_length() {
    let server = start(
        r#"[{"request": {"method": "GET", "path": "/api/v1/namespaces/demo/pods/web-0"},
            "response": {"status": 404, "headers": {"content-type": "application/json", "x-extra": "1"},
                         "body": {"kind": "Status", "code": 404}}},
           {"request": {"method": "GET", "path": "/x"}, "response": {"status": 204, "body_text": ""}}]"#,
        Chunking::Recorded,
    );
    let mut s = connect(&server);
    get(&mut s, "/api/v1/namespaces/demo/pods/web-0", "");
    get(&mut s, "/x", "connection: close\r\n");
    let raw = String::from_utf8(read_to_close(&mut s)).unwrap();
    // Two answers on one kept-alive connection.
    let first_end = raw.find("HTTP/1.1 204").expect("second response");
    let first = &raw[..first_end];
    assert!(first.starts_with("HTTP/1.1 404 Not Found\r\n"), "{first}");
    assert!(
        first.contains("content-type: application/json\r\n") && first.contains("x-extra: 1\r\n")
    );
    // JSON bodies are served compact (serde_json orders the keys).
    assert!(first.contains("content-length: 28\r\n"), "{first}");
    assert!(
        first.ends_with("\r\n\r\n{\"code\":404,\"kind\":\"Status\"}"),
        "{first}"
    );
    assert!(
        !raw[first_end..].contains("content-length"),
        "no body framing on 204"
    );
    assert!(server.finish().is_ok());
}

#[test]
fn chunk_boundaries_delays_and_bytes_as_recorded() {
    let server = start(CHUNKED, Chunking::Recorded);
    let mut s = connect(&server);
    let started = Instant::now();
    get(&mut s, "/w?watch=true", "connection: close\r\n");
    let raw = read_to_close(&mut s);
    assert!(
        started.elapsed() >= Duration::from_millis(280),
        "the 300 ms delay was honoured"
    );
    let (head, body) = split(&raw);
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let (got, complete) = chunks(&body);
    assert_eq!(
        got,
        [b"{\"a\":1}\n{\"b\"".to_vec(), b":2}\n".to_vec(), vec![0xce]]
    );
    assert!(complete);
    server.finish().unwrap();
}

#[test]
fn rechunks_on_the_fly() {
    let server = start(CHUNKED, Chunking::Fixed(3));
    let mut s = connect(&server);
    get(&mut s, "/w?watch=true", "connection: close\r\n");
    let (_, body) = split(&read_to_close(&mut s));
    let (got, complete) = chunks(&body);
    assert!(complete);
    assert_eq!(got.concat(), b"{\"a\":1}\n{\"b\":2}\n\xce");
    assert!(got[..got.len() - 1].iter().all(|c| c.len() == 3), "{got:?}");
    server.finish().unwrap();
}

#[test]
fn cut_closes_without_the_final_chunk() {
    let server = start(
        r#"[{"request": {"method": "GET", "path": "/w"},
             "response": {"status": 200, "chunks": [{"text": "{\"type\":\"ADDED\"}\n"}, {"text": "{\"type\":\"MOD"}], "end": "cut"}}]"#,
        Chunking::Recorded,
    );
    let mut s = connect(&server);
    get(&mut s, "/w", "");
    let (_, body) = split(&read_to_close(&mut s));
    let (got, complete) = chunks(&body);
    assert_eq!(got.len(), 2);
    assert!(!complete, "no terminating zero-length chunk");
    assert!(!body.ends_with(b"0\r\n\r\n"));
    server.finish().unwrap();
}

#[test]
fn hang_keeps_the_connection_open_until_the_server_stops() {
    let server = start(
        r#"[{"request": {"method": "GET", "path": "/w"},
             "response": {"status": 200, "chunks": [{"text": "{\"type\":\"ADDED\"}\n"}], "end": "hang"}},
            {"request": {"method": "GET", "path": "/other"}, "response": {"status": 200, "body": {"ok": true}}}]"#,
        Chunking::Recorded,
    );
    let mut watch = connect(&server);
    get(&mut watch, "/w", "");
    let mut reader = BufReader::new(watch.try_clone().unwrap());
    let mut line = String::new();
    while line != "{\"type\":\"ADDED\"}\n" {
        line.clear();
        reader.read_line(&mut line).unwrap();
    }
    // Meanwhile another connection is served.
    let mut other = connect(&server);
    get(&mut other, "/other", "connection: close\r\n");
    let (head, body) = split(&read_to_close(&mut other));
    assert!(head.starts_with("HTTP/1.1 200 OK"));
    assert_eq!(body, b"{\"ok\":true}");
    // The watch stays open: a read times out instead of seeing EOF.
    watch
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 64];
    let err = reader.get_mut().read(&mut buf).unwrap_err();
    assert!(matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
    let report = server.stop();
    assert!(report.is_clean(), "{report}");
    watch
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(
        reader.get_mut().read(&mut buf).unwrap(),
        0,
        "closed when the server stops"
    );
}

#[test]
fn mismatch_answers_599_with_the_difference() {
    let server = start(
        r#"[{"request": {"method": "PATCH", "path": "/p", "query": [["a", "1"], ["a", "2"]],
                         "headers": {"content-type": "application/merge-patch+json"}, "body": {"x": [1, 2]}},
             "response": {"status": 200, "body": {}}}]"#,
        Chunking::Recorded,
    );
    let mut s = connect(&server);
    let body = r#"{"x": [2, 1]}"#;
    write!(s, "PATCH /p?a=2&b=3 HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).unwrap();
    let (head, body) = split(&read_to_close(&mut s));
    assert!(head.starts_with("HTTP/1.1 599 "), "{head}");
    let diff: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let diffs: Vec<String> = serde_json::from_value(diff["differences"].clone()).unwrap();
    assert_eq!(diffs.len(), 4, "{diffs:?}");
    assert!(diffs[0].contains("missing [(\"a\", \"1\")]"), "{diffs:?}");
    assert!(
        diffs[1].contains("unexpected [(\"b\", \"3\")]"),
        "{diffs:?}"
    );
    assert!(diffs[2].starts_with("header content-type"), "{diffs:?}");
    assert!(diffs[3].starts_with("body: expected"), "{diffs:?}");
    assert_eq!(diff["expected"]["method"], "PATCH");
    assert_eq!(
        diff["actual"]["query"],
        serde_json::json!([["a", "2"], ["b", "3"]])
    );
    let err = server.finish().unwrap_err();
    assert!(
        err.contains("mismatch") && err.contains("never requested: t#0 PATCH /p"),
        "{err}"
    );
}

#[test]
fn query_is_a_multiset_and_json_bodies_compare_by_value() {
    let server = start(
        r#"[{"request": {"method": "POST", "path": "/p q", "query": [["s", "a b"], ["s", "c=d"]], "body": {"k": 1, "j": [true]}},
             "response": {"status": 201, "body": {}}}]"#,
        Chunking::Recorded,
    );
    let mut s = connect(&server);
    let body = "{ \"j\": [true], \"k\": 1 }";
    write!(s, "POST /p%20q?s=c%3Dd&s=a+b HTTP/1.1\r\nhost: t\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).unwrap();
    let (head, _) = split(&read_to_close(&mut s));
    assert!(head.starts_with("HTTP/1.1 201"), "{head}");
    server.finish().unwrap();
}

#[test]
fn requests_after_the_last_exchange_and_optional_exchanges() {
    let server = start(
        r#"[{"request": {"method": "GET", "path": "/maybe"}, "response": {"status": 200, "body": 1}, "optional": true},
            {"request": {"method": "GET", "path": "/a"}, "response": {"status": 200, "body": 2}}]"#,
        Chunking::Recorded,
    );
    let mut s = connect(&server);
    get(&mut s, "/a", "");
    get(&mut s, "/a", "connection: close\r\n");
    let raw = String::from_utf8(read_to_close(&mut s)).unwrap();
    assert!(
        raw.starts_with("HTTP/1.1 200 OK"),
        "optional exchange skipped"
    );
    assert!(
        raw.contains("HTTP/1.1 599") && raw.contains("no exchanges left"),
        "{raw}"
    );
    let report = server.stop();
    assert_eq!(
        (
            report.served,
            report.failures.len(),
            report.unconsumed.len()
        ),
        (1, 1, 0)
    );
}

#[test]
fn malformed_requests_get_400_and_do_not_disturb_others() {
    let server = start(
        r#"[{"request": {"method": "GET", "path": "/a"}, "response": {"status": 200, "body": 1}}]"#,
        Chunking::Recorded,
    );
    for garbage in [
        &b"NOT HTTP AT ALL\r\n\r\n"[..],
        b"GET /a HTTP/1.1\r\ncontent-length: zz\r\n\r\n",
        b"GET /a HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nxyz\r\n",
    ] {
        let mut s = connect(&server);
        s.write_all(garbage).unwrap();
        let raw = String::from_utf8_lossy(&read_to_close(&mut s)).to_string();
        assert!(raw.starts_with("HTTP/1.1 400 Bad Request"), "{raw}");
    }
    // A partial request followed by a close is simply dropped.
    let mut s = connect(&server);
    s.write_all(b"GET /a HTTP/1.1\r\nhost:").unwrap();
    drop(s);
    let mut s = connect(&server);
    get(&mut s, "/a", "connection: close\r\n");
    assert!(String::from_utf8_lossy(&read_to_close(&mut s)).starts_with("HTTP/1.1 200"));
    server.finish().unwrap();
}

#[test]
fn a_client_that_never_reads_does_not_wedge_others() {
    let big = "x".repeat(4 * 1024 * 1024);
    let server = start(
        &format!(
            r#"[{{"request": {{"method": "GET", "path": "/big"}}, "response": {{"status": 200, "body_text": "{big}"}}}},
                {{"request": {{"method": "GET", "path": "/small"}}, "response": {{"status": 200, "body_text": "ok"}}}}]"#
        ),
        Chunking::Recorded,
    );
    let mut lazy = connect(&server);
    get(&mut lazy, "/big", "");
    std::thread::sleep(Duration::from_millis(100));
    let mut s = connect(&server);
    get(&mut s, "/small", "connection: close\r\n");
    let (_, body) = split(&read_to_close(&mut s));
    assert_eq!(body, b"ok");
    drop(lazy);
    server.finish().unwrap();
}

#[test]
fn command_line_serve_prints_the_base_url() {
    let path = kubewire_conformance::suite::fixtures_dir().join("recorded/pod-fetch-running.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kubewire-conformance"))
        .args([
            "serve",
            path.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
            "--chunking",
            "7",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_string();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with('/'),
        "{base}"
    );
    let mut s =
        TcpStream::connect(base.trim_start_matches("http://").trim_end_matches('/')).unwrap();
    get(
        &mut s,
        "/api/v1/namespaces/demo/pods/web-0",
        "connection: close\r\n",
    );
    let (head, body) = split(&read_to_close(&mut s));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let (got, complete) = chunks(&body);
    assert!(complete && got.iter().all(|c| c.len() <= 7));
    let pod: serde_json::Value = serde_json::from_slice(&got.concat()).unwrap();
    assert_eq!(pod["metadata"]["name"], "web-0");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_kubewire-conformance"))
        .args(["serve", "/nonexistent.json"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent.json: $: cannot read"));
}

#[test]
fn expect_100_continue_is_answered() {
    let server = start(
        r#"[{"request": {"method": "POST", "path": "/p", "body": {"a": 1}}, "response": {"status": 201, "body": {}}}]"#,
        Chunking::Recorded,
    );
    let mut s = connect(&server);
    write!(s, "POST /p HTTP/1.1\r\nhost: t\r\nexpect: 100-continue\r\ncontent-length: 7\r\nconnection: close\r\n\r\n").unwrap();
    let mut interim = [0u8; 25];
    s.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(br#"{"a":1}"#).unwrap();
    let (head, _) = split(&read_to_close(&mut s));
    assert!(head.starts_with("HTTP/1.1 201"), "{head}");
    server.finish().unwrap();
}

#[test]
fn relaxed_matching_takes_a_group_in_any_order_ignores_listed_parameters_and_compares_subsets() {
    use kubewire_conformance::{Fixture, ReplayServer};
    let fixture = Fixture::parse(
        br#"{"format": 1, "name": "relaxed", "description": "relaxed matching", "source": "handwritten",
        "matching": {"order": "any", "ignore_query": ["limit"]},
        "exchanges": [
          {"request": {"method": "GET", "path": "/a", "query": [["limit", "500"]]}, "response": {"status": 200, "body": {"n": "a"}}},
          {"request": {"method": "GET", "path": "/b"}, "response": {"status": 200, "body": {"n": "b"}}},
          {"request": {"method": "POST", "path": "/c", "body": {"metadata": {"name": "x"}}}, "matching": {"order": "recorded", "body": "subset"},
           "response": {"status": 201, "body": {"n": "c"}}}
        ]}"#,
        std::path::Path::new("<inline>"),
    )
    .unwrap();
    // Written back, the matching rules survive.
    let again = Fixture::parse(
        fixture.to_json().to_string().as_bytes(),
        std::path::Path::new("<inline>"),
    )
    .unwrap();
    assert_eq!(again, fixture);
    let server = ReplayServer::start(vec![fixture.clone()]).unwrap();
    let ask = |method: &str, target: &str, body: &str| -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
        let req = format!(
            "{method} {target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer.lines().next().unwrap().to_string()
    };
    assert_eq!(
        ask("GET", "/b", ""),
        "HTTP/1.1 200 OK",
        "any order within the group"
    );
    assert_eq!(
        ask("GET", "/a?limit=10", ""),
        "HTTP/1.1 200 OK",
        "limit is not compared"
    );
    assert_eq!(
        ask("POST", "/c", r#"{"metadata": {"name": "y"}}"#),
        "HTTP/1.1 599 Fixture Mismatch",
        "not a subset"
    );
    assert_eq!(
        ask(
            "POST",
            "/c",
            r#"{"metadata": {"name": "x", "labels": {"a": "b"}}, "data": {}}"#
        ),
        "HTTP/1.1 201 Created"
    );
    let report = server.stop();
    assert_eq!(report.served, 3);
    let mismatch = report.failures[0].to_string();
    assert!(
        mismatch.contains("expected a body containing"),
        "the exact difference: {mismatch}"
    );
    assert!(report.unconsumed.is_empty());

    // Strict by default: the same requests out of order are a mismatch.
    let mut strict = fixture;
    strict.matching = Default::default();
    for e in &mut strict.exchanges {
        e.matching = Default::default();
    }
    let server = ReplayServer::start(vec![strict]).unwrap();
    let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
    use std::io::{Read, Write};
    s.write_all(b"GET /b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 599"), "{answer}");
    let report = server.stop();
    assert_eq!(report.unconsumed.len(), 3);
}
