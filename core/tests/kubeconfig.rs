#![allow(clippy::disallowed_methods)] // tests set up files and real instants for the code under test
//! kubeconfig loading: merging, contexts, credentials, exec plugins, errors.

use std::path::PathBuf;

use kubewire::{Auth, Config, Error};

struct TempDir(PathBuf);

fn bearer(config: &Config) -> String {
    config
        .credentials
        .authorization()
        .unwrap()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("kubewire-kc-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";

#[test]
fn merges_files_like_kubectl_and_resolves_relative_paths() {
    let dir = TempDir::new("merge");
    dir.write("ca.crt", CA);
    dir.write("token", "tok-from-file\n");
    let first = dir.write(
        "first",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster:\n    server: https://10.0.0.1:6443\n    certificate-authority: ca.crt\nusers:\n- name: u1\n  user:\n    tokenFile: token\ncontexts:\n- name: a\n  context:\n    cluster: c1\n    user: u1\n    namespace: team-a\n",
    );
    let second = dir.write(
        "second",
        "clusters:\n- name: c1\n  cluster:\n    server: https://ignored:1\n- name: c2\n  cluster:\n    server: https://10.0.0.2:6443/k8s/clusters/x\n    insecure-skip-tls-verify: true\nusers:\n- name: u2\n  user:\n    username: admin\n    password: hunter2\ncontexts:\n- name: b\n  context:\n    cluster: c2\n    user: u2\ncurrent-context: a\n",
    );
    let config = Config::from_kubeconfig(&[first.clone(), second.clone()], None).unwrap();
    assert_eq!(
        config.base_url(),
        "https://10.0.0.1:6443/",
        "c1 from the first file wins"
    );
    assert_eq!(config.default_namespace, "team-a");
    assert_eq!(
        config.credentials.certificate_authority.as_deref(),
        Some(CA.as_bytes())
    );
    assert_eq!(bearer(&config), "Bearer tok-from-file");
    // The token file rotates: the next refresh reads the new token.
    dir.write("token", "rotated-token-2\n");
    config
        .credentials
        .refresh(std::time::SystemTime::now())
        .unwrap();
    assert_eq!(bearer(&config), "Bearer rotated-token-2");
    let b = Config::from_kubeconfig(&[first, second], Some("b")).unwrap();
    assert_eq!(b.base_url(), "https://10.0.0.2:6443/k8s/clusters/x/");
    assert!(b.credentials.insecure_skip_verify);
    assert!(matches!(&b.credentials.auth, Auth::Basic { username, .. } if username == "admin"));
    assert!(
        !format!("{b:?}").contains("hunter2"),
        "secrets never in Debug"
    );
    assert_eq!(b.default_namespace, "default");
}

#[test]
fn inline_certificates_and_missing_pieces() {
    let dir = TempDir::new("inline");
    // base64 of "CERT" and "KEY" stand in for PEM here; the transport checks them.
    let path = dir.write(
        "config",
        "clusters:\n- name: c\n  cluster:\n    server: https://k:443\n    certificate-authority-data: Q0E=\nusers:\n- name: u\n  user:\n    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n- name: half\n  user:\n    client-certificate-data: Q0VSVA==\ncontexts:\n- name: ok\n  context: {cluster: c, user: u}\n- name: half\n  context: {cluster: c, user: half}\n- name: nocluster\n  context: {cluster: nope}\ncurrent-context: ok\n",
    );
    let config = Config::from_kubeconfig(std::slice::from_ref(&path), None).unwrap();
    let cert = config.credentials.client_certificate.as_ref().unwrap();
    assert_eq!(
        (cert.certificate_pem.as_slice(), cert.key_pem.expose()),
        (&b"CERT"[..], &b"KEY"[..])
    );
    assert_eq!(
        config.credentials.certificate_authority.as_deref(),
        Some(&b"CA"[..])
    );
    let err = Config::from_kubeconfig(std::slice::from_ref(&path), Some("half"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("without its key"), "{err}");
    let err = Config::from_kubeconfig(std::slice::from_ref(&path), Some("nocluster"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"nope\""), "{err}");
    let err = Config::from_kubeconfig(std::slice::from_ref(&path), Some("prod"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"prod\" not found") && err.contains("half, nocluster, ok"),
        "{err}"
    );
}

#[test]
fn malformed_files_name_the_file_and_the_place() {
    let dir = TempDir::new("bad");
    let path = dir.write(
        "config",
        "clusters:\n- name: c\n  cluster:\n    server: [unterminated\n",
    );
    let err = Config::from_kubeconfig(std::slice::from_ref(&path), None).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    let path = dir.write(
        "config2",
        "clusters:\n- name: c\n  cluster:\n    server: 42\n    insecure-skip-tls-verify: perhaps\n",
    );
    let msg = Config::from_kubeconfig(std::slice::from_ref(&path), None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("config2"), "{msg}");
    let empty = dir.write("empty", "clusters: []\n");
    let msg = Config::from_kubeconfig(&[empty], None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("no current-context"), "{msg}");
}

#[cfg(unix)]
#[test]
fn exec_plugins() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("exec");
    let script = |name: &str, body: &str| {
        let p = dir.write(name, &format!("#!/bin/sh\n{body}\n"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
        p.display().to_string()
    };
    let good = script(
        "good",
        r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-tok","expirationTimestamp":"2099-01-01T00:00:00Z"}}'"#,
    );
    let failing = script("failing", "echo 'no credentials for you' >&2; exit 3");
    let garbage = script("garbage", "echo 'hello'");
    let kubeconfig = |command: &str| {
        format!(
            "clusters:\n- name: c\n  cluster:\n    server: https://k:443\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {command}\n      args: [get-token]\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
        )
    };
    let path = dir.write("ok", &kubeconfig(&good));
    let config = Config::from_kubeconfig(&[path], None).unwrap();
    assert_eq!(bearer(&config), "Bearer exec-tok");
    // The token is cached until it expires: a counting plugin shows how often it ran.
    let counter = dir.0.join("runs");
    let counting = |name: &str, expiry: &str| {
        script(
            name,
            &format!(
                "n=$(($(cat {c} 2>/dev/null || echo 0) + 1)); echo $n > {c}; echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"run-'$n'\",\"expirationTimestamp\":\"{expiry}\"}}}}'",
                c = counter.display()
            ),
        )
    };
    let now = std::time::SystemTime::now();
    let lasting = Config::from_kubeconfig(
        &[dir.write(
            "l",
            &kubeconfig(&counting("lasting", "2099-01-01T00:00:00Z")),
        )],
        None,
    )
    .unwrap();
    lasting.credentials.refresh(now).unwrap();
    lasting.credentials.refresh(now).unwrap();
    assert_eq!(
        bearer(&lasting),
        "Bearer run-1",
        "a valid token is not fetched again"
    );
    std::fs::remove_file(&counter).unwrap();
    let expired = Config::from_kubeconfig(
        &[dir.write(
            "e",
            &kubeconfig(&counting("expired", "2000-01-01T00:00:00Z")),
        )],
        None,
    )
    .unwrap();
    assert_eq!(bearer(&expired), "Bearer run-1");
    expired.credentials.refresh(now).unwrap();
    assert_eq!(
        bearer(&expired),
        "Bearer run-2",
        "an expired token is fetched again"
    );
    let msg = Config::from_kubeconfig(&[dir.write("f", &kubeconfig(&failing))], None)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("failed") && msg.contains("no credentials for you"),
        "{msg}"
    );
    let msg = Config::from_kubeconfig(&[dir.write("g", &kubeconfig(&garbage))], None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("printed no ExecCredential"), "{msg}");
    let msg = Config::from_kubeconfig(&[dir.write("m", &kubeconfig("/nonexistent/plugin"))], None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("/nonexistent/plugin"), "{msg}");
}
