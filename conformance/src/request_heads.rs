//! What a transport puts on the wire around a request's body: a request
//! whose method takes none (a fetch) goes out without one — no
//! `Content-Length: 0`, no chunked encoding — while a create carries its
//! body's exact length. Every request names kubewire as its user agent,
//! once.

use std::net::TcpListener;
use std::sync::atomic::AtomicBool;

use kubewire::client::ConnectDriver;
use kubewire::model::Item;
use kubewire::request::{ApiResource, View};
use kubewire::{Cluster, ClusterView};

use crate::http1::{Framing, RequestHead, Wire, framing, header, write_head};

/// What the server answers every request with.
const CONFIG_MAP: &str = r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"settings","namespace":"demo","resourceVersion":"7"},"data":{"mode":"fast"}}"#;

/// Runs the check over transport `D`; the failures, named with `name`.
pub fn run_request_heads<D: ConnectDriver>(name: &str) -> Vec<String> {
    match bodies_on_the_wire::<D>() {
        Ok(()) => Vec::new(),
        Err(e) => vec![format!("request heads [{name}]: {e}")],
    }
}

/// A fetch, then a create, each on its own connection; what each head
/// says about a body.
fn bodies_on_the_wire<D: ConnectDriver>() -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let server = std::thread::spawn(move || serve(&listener, 2));
    let client = || -> kubewire::Result<()> {
        let cluster = Cluster::<D>::new(&url)?;
        let resource = ApiResource::new("", "v1", "ConfigMap", "configmaps", true)?;
        let view = View::dynamic(cluster.config().clone(), resource);
        let cms = ClusterView::<D, Item>::new(cluster, view).namespace("demo")?;
        D::wait(cms.fetch("settings", None))?;
        D::wait(cms.create(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings"}, "data": {"mode": "fast"},
        })))?;
        Ok(())
    };
    let outcome = client();
    let heads = server.join().map_err(|_| "the server panicked")??;
    outcome.map_err(|e| format!("the requests failed: {e}"))?;
    let [(fetch, fetched), (create, created)] = &heads[..] else {
        return Err(format!("want two requests, got {heads:?}"));
    };
    if fetch.method != "GET" || !fetched.is_empty() {
        return Err(format!("want a GET without a body first, got {fetch:?}"));
    }
    for name in ["content-length", "transfer-encoding", "expect"] {
        if let Some(value) = header(&fetch.headers, name) {
            return Err(format!("a GET went out with `{name}: {value}`"));
        }
    }
    for head in [fetch, create] {
        let agents: Vec<_> = head
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
            .map(|(_, value)| value.as_str())
            .collect();
        if agents != [kubewire::config::DEFAULT_USER_AGENT] {
            return Err(format!(
                "a {} went out with user agents {agents:?}, want [{:?}]",
                head.method,
                kubewire::config::DEFAULT_USER_AGENT
            ));
        }
    }
    let length = header(&create.headers, "content-length");
    if create.method != "POST" || length != Some(created.len().to_string().as_str()) {
        return Err(format!(
            "want a POST with its body's length ({} bytes), got {length:?} on {create:?}",
            created.len()
        ));
    }
    Ok(())
}

/// Serves `requests` requests, one per connection; each head and body.
fn serve(listener: &TcpListener, requests: usize) -> Result<Vec<(RequestHead, Vec<u8>)>, String> {
    let stop = AtomicBool::new(false);
    (0..requests)
        .map(|_| {
            let (stream, _) = listener.accept().map_err(|e| e.to_string())?;
            let mut wire = Wire::new(stream).map_err(|e| e.to_string())?;
            let head = wire.read_request_head(&stop).map_err(|e| e.to_string())?;
            let framing = framing(&head.headers, Framing::Length(0))
                .ok_or_else(|| format!("unreadable framing: {head:?}"))?;
            let body = wire.read_body(framing, &stop).map_err(|e| e.to_string())?;
            let answer = [
                ("content-type".to_string(), "application/json".to_string()),
                ("content-length".to_string(), CONFIG_MAP.len().to_string()),
                ("connection".to_string(), "close".to_string()),
            ];
            let status = if head.method == "POST" { 201 } else { 200 };
            let stream = wire.stream();
            write_head(stream, status, &answer)
                .and_then(|()| std::io::Write::write_all(stream, CONFIG_MAP.as_bytes()))
                .map_err(|e| e.to_string())?;
            Ok((head, body))
        })
        .collect()
}
