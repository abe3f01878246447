#![allow(clippy::disallowed_methods)] // the test writes kubeconfigs and plugins, reads fixtures
//! No credential, token, password, client key or Secret value appears in
//! the `Display` or `Debug` of an error, item or configuration: every path
//! that touches one is walked with a marker secret.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use kubewire::{Config, Manifest};

const MARK: &str = "MARKER-s3cr3t";

fn clean(what: &str, text: &str) {
    assert!(!text.contains(MARK), "{what} shows the secret: {text}");
    assert!(
        !text.contains("TUFSS0VS"),
        "{what} shows the secret in base64: {text}"
    );
}

fn clean_err<T: std::fmt::Debug>(what: &str, result: kubewire::Result<T>) {
    match result {
        Err(e) => {
            clean(what, &e.to_string());
            clean(what, &format!("{e:?}"));
        }
        Ok(v) => clean(what, &format!("{v:?}")),
    }
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir =
            std::env::temp_dir().join(format!("kubewire-secrets-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn kubeconfig(user: &str) -> String {
    format!(
        "clusters:\n- name: c\n  cluster:\n    server: https://k:443\nusers:\n- name: u\n  user:\n{user}contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
    )
}

#[test]
fn kubeconfig_errors_never_quote_credentials() {
    let dir = Dir::new("kubeconfig");
    let cases = [
        (
            "syntax error after a token",
            format!("users:\n- name: u\n  user:\n    token: {MARK}\n    password: [x\n"),
        ),
        ("a token where a list belongs", format!("users: {MARK}\n")),
        (
            "a password of the wrong type",
            kubeconfig(&format!("    username: u\n    password: [{MARK}]\n")),
        ),
        (
            "a key that is not base64",
            kubeconfig(&format!(
                "    client-certificate-data: QQ==\n    client-key-data: '{MARK}!!'\n"
            )),
        ),
        (
            "a server URL with a password",
            format!(
                "clusters:\n- name: c\n  cluster:\n    server: https://admin:{MARK}@k:443\ncontexts:\n- name: x\n  context: {{cluster: c}}\ncurrent-context: x\n"
            ),
        ),
        (
            "an unparsable URL with a password",
            format!(
                "clusters:\n- name: c\n  cluster:\n    server: https://admin:{MARK}@k k:443\ncontexts:\n- name: x\n  context: {{cluster: c}}\ncurrent-context: x\n"
            ),
        ),
        (
            "a proxy URL with a password",
            format!(
                "clusters:\n- name: c\n  cluster:\n    server: https://k:443\n    proxy-url: http://me:{MARK}@proxy:3128\nusers:\n- name: u\n  user:\n    token: {MARK}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
            ),
        ),
        (
            "a token with an auth provider",
            kubeconfig(&format!(
                "    token: {MARK}\n    auth-provider: {{name: oidc, config: {{id-token: {MARK}}}}}\n"
            )),
        ),
    ];
    for (i, (what, text)) in cases.iter().enumerate() {
        let path = dir.write(&format!("c{i}"), text);
        clean_err(what, Config::from_kubeconfig(&[path], None));
    }
}

#[test]
fn configs_and_urls_never_show_credentials() {
    clean_err(
        "a base URL with a password",
        Config::new(&format!("https://admin:{MARK}@k:443")),
    );
    clean_err(
        "an unparsable base URL",
        Config::new(&format!("https://admin:{MARK}@k k")),
    );
    clean(
        "a redacted proxy URL",
        &kubewire::config::redacted_url(&format!("socks5://me:{MARK}@proxy:1080")),
    );
    let mut config = Config::default();
    config.credentials.auth =
        kubewire::config::Auth::Bearer(kubewire::config::Sensitive::new(MARK));
    clean("a bearer config", &format!("{config:?}"));
    config.credentials.auth = kubewire::config::Auth::Basic {
        username: "u".into(),
        password: kubewire::config::Sensitive::new(MARK),
    };
    clean("a basic-auth config", &format!("{config:?}"));
    config.credentials.client_certificate = Some(kubewire::config::ClientCertificate {
        certificate_pem: b"cert".to_vec(),
        key_pem: kubewire::config::Sensitive::new(MARK),
    });
    clean("a client key", &format!("{config:?}"));
    let view = kubewire::request::View::<kubewire::Pod>::new(std::sync::Arc::new(config));
    clean(
        "a request",
        &format!("{:?}", view.fetch_request("p", Some("d")).unwrap()),
    );
}

#[cfg(unix)]
#[test]
fn exec_plugin_output_stays_out_of_errors() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new("exec");
    let plugin = |name: &str, body: &str| {
        let p = dir.write(name, &format!("#!/bin/sh\n{body}\n"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
        p.display().to_string()
    };
    let exec = |command: String| {
        kubeconfig(&format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {command}\n"
        ))
    };
    let cases = [
        (
            "stdout that is not JSON",
            plugin("a", &format!("echo '{MARK}'")),
        ),
        (
            "a status of the wrong shape",
            plugin("b", &format!("echo '{{\"status\": \"{MARK}\"}}'")),
        ),
        (
            "a token of the wrong type",
            plugin(
                "c",
                &format!(
                    "echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":[\"{MARK}\"]}}}}'"
                ),
            ),
        ),
        (
            "a failure that prints the secret",
            plugin("d", &format!("echo '{MARK}'; echo 'oops' >&2; exit 1")),
        ),
    ];
    for (i, (what, command)) in cases.into_iter().enumerate() {
        let path = dir.write(&format!("k{i}"), &exec(command));
        clean_err(what, Config::from_kubeconfig(&[path], None));
    }
}

#[test]
fn manifest_errors_never_quote_secret_values() {
    let yamls = [
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  password: {MARK}\n  other: [x\n"
        ),
        format!("kind: Secret\nmetadata: {{name: s}}\nstringData: {{password: {MARK}}}\n"),
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: [{MARK}]}}\n"),
        format!("apiVersion: v1\nkind: Secret\nmetadata: {MARK}\n"),
    ];
    for (i, yaml) in yamls.iter().enumerate() {
        clean_err(
            &format!("manifest {i}"),
            Manifest::from_yaml(yaml).map(|m| m.len()),
        );
    }
}

/// Every value under a Secret's `data` or `stringData`, and its
/// annotations (a last-applied configuration repeats the data).
fn secret_values(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("kind").and_then(|k| k.as_str()) == Some("Secret") {
                for field in ["data", "stringData"] {
                    if let Some(serde_json::Value::Object(data)) = map.get(field) {
                        out.extend(
                            data.values()
                                .filter_map(|v| v.as_str())
                                .filter(|v| v.len() > 3)
                                .map(str::to_string),
                        );
                    }
                }
            }
            map.values().for_each(|v| secret_values(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| secret_values(v, out)),
        _ => {}
    }
}

fn fixture_bodies(dir: &Path, out: &mut Vec<(String, serde_json::Value)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let value: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            match value.get("exchanges").and_then(|e| e.as_array()) {
                Some(exchanges) => {
                    for e in exchanges {
                        if let Some(body) = e.pointer("/response/body") {
                            out.push((name.clone(), body.clone()));
                        }
                    }
                }
                None => out.push((name, value)),
            }
        }
    }
}

#[test]
fn secret_items_never_print_their_data_over_the_whole_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut bodies = Vec::new();
    for dir in ["recorded", "derived", "handwritten", "upstream-objects"] {
        fixture_bodies(&root.join(dir), &mut bodies);
    }
    // A Secret of our own, with a last-applied annotation repeating it.
    let own = serde_json::json!({"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s", "namespace": "d",
        "resourceVersion": "1", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": format!("{{\"stringData\":{{\"p\":\"{MARK}\"}}}}")}},
        "data": {"p": "TUFSS0VSLXMzY3IzdA=="}, "stringData": {"q": MARK}});
    bodies.push(("own".into(), own));
    let mut checked = 0;
    for (name, body) in bodies {
        let mut values = Vec::new();
        secret_values(&body, &mut values);
        if values.is_empty() {
            continue;
        }
        let bytes = Bytes::from(serde_json::to_vec(&body).unwrap());
        let mut printed = Vec::new();
        if let Ok(item) = kubewire::request::decode_item(bytes.clone()) {
            printed.push(format!("{item:?}"));
            // Its metadata alone (annotations may repeat the data).
            printed.push(format!("{:?}", item.meta()));
            if let Ok(secret) =
                <kubewire::Secret as kubewire::model::TypedItem>::from_item(item.clone())
            {
                printed.push(format!("{secret:?}"));
            }
            if let Ok(any) = kubewire::AnyItem::from_item(item) {
                printed.push(format!("{any:?}"));
            }
        }
        if let Ok(list) = kubewire::request::decode_list(bytes.clone()) {
            printed.push(format!("{list:?}"));
        }
        let mut decoder = kubewire::watch::WatchDecoder::new();
        decoder.feed(
            format!(
                "{{\"type\":\"ADDED\",\"object\":{}}}\n",
                serde_json::to_string(&body).unwrap()
            )
            .as_bytes(),
        );
        if let Some(event) = decoder.next_event() {
            printed.push(format!("{event:?}"));
        }
        for text in &printed {
            for value in &values {
                assert!(
                    !text.contains(value.as_str()),
                    "{name}: a Secret value is printed: {text}"
                );
            }
            clean(&name, text);
        }
        checked += printed.len();
    }
    assert!(
        checked >= 4,
        "the corpus holds Secrets to check ({checked} printed)"
    );
}
