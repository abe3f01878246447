//! The seed library's quickstart, driven through the sans-IO core over a
//! plain `std::net::TcpStream` — no HTTP client crate at all.
//!
//! With `KUBEWIRE_URL` set to a plain-HTTP apiserver address (what
//! `kubectl proxy` serves, e.g. `http://localhost:8001`) it talks to that
//! cluster; otherwise it starts an embedded demo apiserver that replays
//! traffic recorded from a real kube-apiserver v1.36.2.
//!
//! ```text
//! cargo run -p kubewire-conformance --example embedded_core
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

use kubewire::bytes::Bytes;
use kubewire::http::{self, Request};
use kubewire::{
    Config, Item, Kind, ListParams, Patch, WriteParams,
    pager::Pager,
    request::{Endpoint, GetParams, Scope},
    watch::{Watcher, WatcherEvent, WatcherOptions},
};

type Failure = Box<dyn std::error::Error>;

/// One HTTP/1.1 exchange on a fresh connection: the core built the
/// request, this function only moves bytes.
fn send(request: Request<Bytes>) -> Result<(u16, http::HeaderMap, BufReader<TcpStream>), Failure> {
    let authority = request.uri().authority().ok_or("no authority")?.to_string();
    let mut stream = TcpStream::connect(&authority)?;
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n",
        request.method()
    );
    for (name, value) in request.headers() {
        head.push_str(&format!("{name}: {}\r\n", value.to_str()?));
    }
    if kubewire::client::sends_body(request.method(), request.body()) {
        head.push_str(&format!("content-length: {}\r\n", request.body().len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(request.body())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line.split(' ').nth(1).ok_or("bad status line")?.parse()?;
    let mut headers = http::HeaderMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.append(
            http::HeaderName::from_bytes(name.trim().as_bytes())?,
            value.trim().parse()?,
        );
    }
    Ok((status, headers, reader))
}

/// Reads the next piece of a body: one HTTP chunk, or everything.
fn next_piece(
    headers: &http::HeaderMap,
    reader: &mut BufReader<TcpStream>,
) -> Result<Option<Vec<u8>>, Failure> {
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v == "chunked")
    {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let n = usize::from_str_radix(size.trim(), 16)?;
        let mut data = vec![0; n + 2];
        reader.read_exact(&mut data)?;
        data.truncate(n);
        return Ok((n > 0).then_some(data));
    }
    let mut all = Vec::new();
    reader.read_to_end(&mut all)?;
    Ok((!all.is_empty()).then_some(all))
}

/// Sends a request and returns the whole response, as the core's
/// whole-body decoders take it.
fn fetch(request: kubewire::Result<Request<Bytes>>) -> Result<http::Response<Bytes>, Failure> {
    let (status, headers, mut reader) = send(request?)?;
    let mut body = Vec::new();
    while let Some(piece) = next_piece(&headers, &mut reader)? {
        body.extend_from_slice(&piece);
    }
    let mut response = http::Response::new(Bytes::from(body));
    *response.status_mut() = http::StatusCode::from_u16(status)?;
    *response.headers_mut() = headers;
    Ok(response)
}

fn list(endpoint: Endpoint, params: ListParams) -> Result<(Vec<Item>, String), Failure> {
    Ok(Pager::new(endpoint, params)
        .collect(|req| fetch(Ok(req)).map_err(|e| kubewire::Error::Protocol(e.to_string())))?)
}

fn main() -> Result<(), Failure> {
    let demo = match std::env::var("KUBEWIRE_URL") {
        Ok(_) => None,
        Err(_) => {
            let text = include_str!("../../fixtures/recorded/seed-quickstart.json");
            let fixture = kubewire_conformance::Fixture::parse(
                text.as_bytes(),
                "seed-quickstart.json".as_ref(),
            )?;
            Some(kubewire_conformance::ReplayServer::start(vec![fixture])?)
        }
    };
    let url = match &demo {
        Some(server) => {
            println!(
                "no KUBEWIRE_URL set: using the embedded demo apiserver at {}",
                server.base_url()
            );
            server.base_url()
        }
        None => std::env::var("KUBEWIRE_URL")?,
    };
    let config = Arc::new(Config::new(&url)?);
    let in_demo = Scope::Namespace("demo".into());
    let endpoint = |kind: Kind, scope: Scope| {
        Endpoint::new(config.clone(), kind.api_resource(0).expect("served"), scope)
    };

    // Iterate namespaces (paging through limit/continue).
    let (namespaces, _) = list(
        endpoint(Kind::Namespace, Scope::Cluster)?,
        ListParams::default(),
    )?;
    let names: Vec<&str> = namespaces.iter().map(|n| n.meta().name()).collect();
    println!("namespaces: {}", names.join(", "));

    // Fetch a ReplicaSet; read its spec and observed replicas.
    let replicasets = endpoint(Kind::ReplicaSet, in_demo.clone())?;
    let rs = kubewire::request::item_from_response(fetch(
        replicasets.get("auth-v3", &GetParams::default()),
    )?)?;
    let value = rs.to_value()?;
    println!(
        "replicaset {}: version {}, spec.replicas {}, status.replicas {}",
        rs.meta().name(),
        rs.meta().version(),
        value["spec"]["replicas"],
        value["status"]["replicas"]
    );

    // Set a label: the answer is the new revision.
    let patch = Patch::Strategic(serde_json::json!({"metadata": {"labels": {"mylabel": "value"}}}));
    let rs2 = kubewire::request::item_from_response(fetch(replicasets.patch(
        "auth-v3",
        &patch,
        &WriteParams::default(),
    ))?)?;
    println!(
        "labelled: version {} -> {}, labels {:?}",
        rs.meta().version(),
        rs2.meta().version(),
        rs2.meta().labels()
    );

    // Filter pods by label.
    let pods = endpoint(Kind::Pod, in_demo)?;
    let (web, _) = list(pods.clone(), ListParams::default().labels("app=web"))?;
    println!(
        "pods with app=web: {}",
        web.iter()
            .map(|p| p.meta().name())
            .collect::<Vec<_>>()
            .join(", ")
    );

    // Watch from now: the watcher lists for the resourceVersion, then
    // watches from it; it tells us what to send and we move the bytes.
    let mut watcher = Watcher::new(pods, WatcherOptions::default());
    let mut now = Instant::now();
    let mut seen = 0;
    println!("watching pods in demo:");
    'outer: while seen < 3 {
        let Some(request) = watcher.poll_transmit(now) else {
            match watcher.poll_timeout() {
                Some(t) => {
                    std::thread::sleep(t.saturating_duration_since(Instant::now()));
                    now = Instant::now();
                    continue;
                }
                None => break,
            }
        };
        let (status, headers, mut reader) = send(request)?;
        watcher.handle_head(status, &headers);
        loop {
            let piece = match next_piece(&headers, &mut reader) {
                Ok(Some(piece)) => piece,
                Ok(None) => {
                    watcher.handle_end(Instant::now(), true);
                    break;
                }
                Err(_) => {
                    watcher.handle_end(Instant::now(), false);
                    break;
                }
            };
            let keep = watcher.handle_body(&piece);
            while let Some(event) = watcher.poll_event() {
                if let WatcherEvent::Event(e) = event {
                    println!(
                        "  {} {} (version {})",
                        e.evtype,
                        e.item.meta().name(),
                        e.item.meta().version()
                    );
                    seen += 1;
                    if seen == 3 {
                        break 'outer;
                    }
                }
            }
            if !keep {
                watcher.handle_end(Instant::now(), false);
                break;
            }
        }
        now = Instant::now();
    }
    watcher.close();
    if let Some(server) = demo {
        server.finish()?;
        println!("the demo apiserver saw exactly the requests it expected");
    }
    Ok(())
}
