#![allow(clippy::disallowed_methods)] // tests set up files and real instants for the code under test
//! kubeconfig loading: merging, contexts, credentials, exec plugins, errors.

use std::path::PathBuf;

use kubewire::{Config, Error, config::Auth};

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
fn a_name_defined_twice_in_one_file_is_refused_as_kubectl_refuses_it() {
    let dir = TempDir::new("duplicates");
    let clusters = "clusters:\n- name: c1\n  cluster:\n    server: https://a:1\n";
    let context = "- name: a\n  context:\n    cluster: c1\n";
    let user = "- name: u\n  user: {}\n";
    let second_c1 = "- name: c1\n  cluster:\n    server: https://b:1\n";
    for (list, name, text) in [
        (
            "clusters",
            "c1",
            format!("{clusters}{second_c1}contexts:\n{context}"),
        ),
        (
            "users",
            "u",
            format!("{clusters}users:\n{user}{user}contexts:\n{context}"),
        ),
        (
            "contexts",
            "a",
            format!("{clusters}contexts:\n{context}{context}"),
        ),
    ] {
        let path = dir.write(list, &text);
        let err = Config::from_kubeconfig(std::slice::from_ref(&path), Some("a"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("duplicate name {name:?} in {list}"))
                && err.contains(&path.display().to_string()),
            "{err}"
        );
    }
    // The same name in two files is no error: the first file's entry wins.
    let first = dir.write("first", &format!("{clusters}contexts:\n{context}"));
    let second = dir.write("second", &format!("clusters:\n{second_c1}"));
    let config = Config::from_kubeconfig(&[first, second], Some("a")).unwrap();
    assert_eq!(config.base_url(), "https://a:1/");
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
    let missing = Config::from_kubeconfig(&[dir.0.join("not-there")], None)
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("no such file") && missing.contains("not-there"),
        "{missing}"
    );
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
        msg.contains("failed") && !msg.contains("no credentials for you"),
        "the plugin's stderr goes to the terminal, not into the error: {msg}"
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

fn one_user(user: &str, cluster_extra: &str) -> String {
    format!(
        "clusters:\n- name: c\n  cluster:\n    server: https://k:443\n{cluster_extra}users:\n- name: u\n  user:\n{user}contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
    )
}

#[test]
fn identity_fields_are_honoured_or_refused_never_ignored() {
    let dir = TempDir::new("identity");
    let load = |name: &str, text: String| Config::from_kubeconfig(&[dir.write(name, &text)], None);
    let config = load(
        "as",
        one_user(
            "    token: t\n    as: jane\n    as-groups: [dev, ops]\n    as-uid: \"42\"\n    as-user-extra:\n      reason: [audit]\n",
            "    proxy-url: socks5://proxy:1080\n",
        ),
    )
    .unwrap();
    let who = config.impersonate.as_ref().expect("impersonation");
    assert_eq!((who.user.as_str(), who.groups.len()), ("jane", 2));
    assert_eq!(config.proxy_url.as_deref(), Some("socks5://proxy:1080"));
    let view = kubewire::request::View::<kubewire::Pod>::new(std::sync::Arc::new(config));
    let request = view.fetch_request("p", Some("demo")).unwrap();
    let headers = request.headers();
    assert_eq!(headers["impersonate-user"], "jane");
    let groups: Vec<_> = headers.get_all("impersonate-group").iter().collect();
    assert_eq!(groups, ["dev", "ops"]);
    assert_eq!(headers["impersonate-uid"], "42");
    assert_eq!(headers["impersonate-extra-reason"], "audit");
    let refused = |name: &str, text: String, word: &str| {
        let msg = load(name, text).unwrap_err().to_string();
        assert!(msg.contains(word), "{name}: {msg}");
    };
    refused(
        "provider",
        one_user(
            "    auth-provider:\n      name: oidc\n      config: {}\n",
            "",
        ),
        "auth-provider",
    );
    refused(
        "username",
        one_user("    username: admin\n", ""),
        "without a password",
    );
    refused(
        "groups",
        one_user("    token: t\n    as-groups: [dev]\n", ""),
        "without as",
    );
    refused(
        "both",
        one_user(
            "    token: t\n",
            "    insecure-skip-tls-verify: true\n    certificate-authority-data: LS0tLQ==\n",
        ),
        "insecure-skip-tls-verify",
    );
    let named = load(
        "sni",
        one_user("    token: t\n", "    tls-server-name: api.internal\n"),
    )
    .unwrap();
    assert_eq!(named.tls_server_name.as_deref(), Some("api.internal"));
}

#[cfg(unix)]
#[test]
fn exec_plugins_resolve_relative_paths_refuse_interaction_and_time_out() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("exec-more");
    std::fs::create_dir_all(dir.0.join("bin")).unwrap();
    let tool = dir.write(
        "bin/get-token",
        "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"relative-tok\"}}'\n",
    );
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o700)).unwrap();
    let exec = |command: &str, extra: &str| {
        one_user(
            &format!(
                "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {command}\n{extra}"
            ),
            "",
        )
    };
    // Relative to the kubeconfig's directory, whatever the working directory.
    let config =
        Config::from_kubeconfig(&[dir.write("rel", &exec("./bin/get-token", ""))], None).unwrap();
    assert_eq!(bearer(&config), "Bearer relative-tok");
    let msg = Config::from_kubeconfig(
        &[dir.write(
            "always",
            &exec("./bin/get-token", "      interactiveMode: Always\n"),
        )],
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("interactiveMode Always"), "{msg}");
    // A plugin that hangs is stopped: run in a child test process with a
    // 1 s limit (the variable cannot be set safely in this one).
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hung_plugin_child", "--nocapture"])
        .env("KUBEWIRE_EXEC_TIMEOUT", "1")
        .env("KUBEWIRE_TEST_CHILD_DIR", &dir.0)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
    assert!(
        text.contains("stopped after"),
        "the child really ran: {text}"
    );
}

/// Run by the test above in a child process (does nothing otherwise).
#[cfg(unix)]
#[test]
fn hung_plugin_child() {
    use std::os::unix::fs::PermissionsExt;
    let Some(dir) = std::env::var_os("KUBEWIRE_TEST_CHILD_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let hang = dir.join("hang");
    std::fs::write(&hang, "#!/bin/sh\nexec sleep 30\n").unwrap();
    std::fs::set_permissions(&hang, std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = dir.join("h");
    std::fs::write(
        &path,
        one_user(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./hang\n",
            "",
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let msg = Config::from_kubeconfig(&[path], None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("did not finish within 1 s"), "{msg}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    println!("stopped after {:?}", started.elapsed());
}
