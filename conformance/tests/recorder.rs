//! The recorder between a client and a replay server reproduces the
//! fixture (modulo redaction and timing).

use bytes::Bytes;
use kubewire_conformance::redact::{self, REDACTED};
use kubewire_conformance::{
    Driver, End, Fixture, Recorder, RecorderOptions, ReplayServer, RequestBody, ResponseBody,
    ServeOptions, WireDriver, suite,
};

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Replays the fixture's requests through `driver` as a client would,
/// reading each answer as far as the fixture says it goes.
fn play(fixture: &Fixture, driver: &mut WireDriver) {
    let base = driver.config().base_url();
    for exchange in &fixture.exchanges {
        let r = &exchange.request;
        let query: Vec<String> = r
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let mut uri = format!("{}{}", base.trim_end_matches('/'), encode(&r.path));
        if !query.is_empty() {
            uri = format!("{uri}?{}", query.join("&"));
        }
        let body = match &r.body {
            RequestBody::None => Bytes::new(),
            RequestBody::Json(v) => Bytes::from(serde_json::to_vec(v).unwrap()),
            RequestBody::Text(t) => Bytes::from(t.clone()),
        };
        let mut req = http::Request::builder().method(r.method.as_str()).uri(uri);
        for (k, v) in &r.headers {
            req = req.header(k, v);
        }
        let mut resp = driver.send(req.body(body).unwrap()).unwrap();
        assert_eq!(
            resp.status, exchange.response.status,
            "{} {}",
            r.method, r.path
        );
        match (&exchange.response.body, exchange.response.end) {
            (ResponseBody::Chunks(chunks), End::Hang) => {
                for _ in chunks {
                    resp.body.next_piece().expect("a chunk").expect("data");
                }
            }
            (_, End::Cut) => assert!(resp.body.read_all().is_err(), "the cut reaches the client"),
            _ => {
                resp.body.read_all().expect("whole body");
            }
        }
    }
}

fn redacted(fixture: &Fixture) -> Fixture {
    let mut f = fixture.clone();
    for e in &mut f.exchanges {
        let secrets = redact::is_secrets_path(&e.request.path);
        if let RequestBody::Json(v) = &mut e.request.body {
            redact::redact_value(v, secrets);
        }
        e.response.body =
            match std::mem::replace(&mut e.response.body, ResponseBody::Text(String::new())) {
                ResponseBody::Json(mut v) => {
                    redact::redact_value(&mut v, secrets);
                    ResponseBody::Json(v)
                }
                ResponseBody::Chunks(c) => ResponseBody::Chunks(redact::redact_chunks(c, secrets)),
                other => other,
            };
    }
    f
}

#[test]
fn recording_a_replay_reproduces_every_fixture_of_the_corpus() {
    let out_dir = std::env::temp_dir().join(format!("kubewire-recorder-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut secrets_seen = 0;
    for dir in ["recorded", "derived", "handwritten"] {
        for original in Fixture::load_dir(suite::fixtures_dir().join(dir)).unwrap() {
            // The recorder does not record upgraded connections (exec,
            // attach, port-forward) yet: their fixtures were recorded by
            // the tool `fixtures/recorded-streams/README.md` describes.
            if original
                .exchanges
                .iter()
                .any(|e| e.response.upgrade.is_some())
            {
                continue;
            }
            let server = ReplayServer::start_with(
                vec![original.clone()],
                ServeOptions {
                    delays: false,
                    ..ServeOptions::default()
                },
            )
            .unwrap();
            let out = out_dir.join(format!("{}.json", original.name));
            let recorder = Recorder::start(RecorderOptions::new(
                server.base_url().trim_end_matches('/'),
                &out,
            ))
            .unwrap();
            let mut client = WireDriver::new(&recorder.base_url()).unwrap();
            play(&original, &mut client);
            let recorded = recorder.stop().unwrap();
            let report = server.stop();
            assert!(report.is_clean(), "{}: {report}", original.name);
            assert_eq!(
                Fixture::load(&out).unwrap(),
                recorded,
                "the file holds what was recorded"
            );
            let expected = redacted(&original);
            assert_eq!(
                recorded.exchanges.len(),
                expected.exchanges.len(),
                "{}",
                original.name
            );
            for (i, (got, want)) in recorded
                .exchanges
                .iter()
                .zip(&expected.exchanges)
                .enumerate()
            {
                let at = format!("{}#{i}", original.name);
                assert_eq!(got.request, want.request, "{at}");
                assert_eq!(got.response.status, want.response.status, "{at}");
                assert_eq!(got.response.end, want.response.end, "{at}");
                let strip = |c: &[kubewire_conformance::Chunk]| {
                    c.iter().map(|c| c.bytes.clone()).collect::<Vec<_>>()
                };
                match (&got.response.body, &want.response.body) {
                    (ResponseBody::Chunks(g), ResponseBody::Chunks(w)) => {
                        assert_eq!(strip(g), strip(w), "{at}: chunk contents")
                    }
                    (g, w) => assert_eq!(g, w, "{at}"),
                }
                let ct =
                    |h: &[(String, String)]| h.iter().find(|(k, _)| k == "content-type").cloned();
                assert_eq!(
                    ct(&got.response.headers),
                    ct(&want.response.headers),
                    "{at}"
                );
                if String::from_utf8_lossy(&got.response.body_bytes()).contains(REDACTED) {
                    secrets_seen += 1;
                }
            }
        }
    }
    std::fs::remove_dir_all(&out_dir).unwrap();
    assert_eq!(secrets_seen, 2, "both recorded Secrets were redacted");
}
