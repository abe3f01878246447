//! kubeconfig files: clusters, users, contexts, merged as kubectl merges
//! them. Part of the `config` side of the core: the one place that reads
//! files, environment variables and runs exec credential plugins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use crate::config::{Auth, ClientCertificate, Config};
use crate::error::{Error, Result};
use crate::sensitive::Sensitive;
use crate::token::{DynamicToken, ExecSpec};

#[derive(Deserialize, Default)]
struct File {
    #[serde(default)]
    clusters: Vec<NamedCluster>,
    #[serde(default)]
    users: Vec<NamedUser>,
    #[serde(default)]
    contexts: Vec<NamedContext>,
    #[serde(default, rename = "current-context")]
    current_context: Option<String>,
}

#[derive(Deserialize)]
struct NamedCluster {
    name: String,
    cluster: ClusterEntry,
}

#[derive(Deserialize)]
struct NamedUser {
    name: String,
    #[serde(default)]
    user: UserEntry,
}

#[derive(Deserialize)]
struct NamedContext {
    name: String,
    context: ContextEntry,
}

#[derive(Deserialize, Clone, Default)]
#[serde(rename_all = "kebab-case")]
struct ClusterEntry {
    server: String,
    #[serde(default)]
    certificate_authority: Option<String>,
    #[serde(default)]
    certificate_authority_data: Option<String>,
    #[serde(default)]
    insecure_skip_tls_verify: bool,
    #[serde(default)]
    tls_server_name: Option<String>,
    #[serde(default)]
    proxy_url: Option<String>,
}

#[derive(Deserialize, Clone, Default)]
#[serde(rename_all = "kebab-case")]
struct UserEntry {
    #[serde(default)]
    token: Option<String>,
    #[serde(default, rename = "tokenFile")]
    token_file: Option<String>,
    #[serde(default)]
    client_certificate: Option<String>,
    #[serde(default)]
    client_certificate_data: Option<String>,
    #[serde(default)]
    client_key: Option<String>,
    #[serde(default)]
    client_key_data: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    exec: Option<ExecEntry>,
    #[serde(default, rename = "as")]
    act_as: Option<String>,
    #[serde(default)]
    as_groups: Option<Vec<String>>,
    #[serde(default)]
    as_uid: Option<String>,
    #[serde(default)]
    as_user_extra: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    auth_provider: Option<AuthProvider>,
}

#[derive(Deserialize, Clone, Default)]
struct AuthProvider {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct ExecEntry {
    command: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: Option<Vec<ExecEnv>>,
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    interactive_mode: Option<String>,
}

#[derive(Deserialize, Clone)]
struct ExecEnv {
    name: String,
    value: String,
}

#[derive(Deserialize, Clone)]
struct ContextEntry {
    cluster: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

/// Where an entry came from: relative paths resolve against its file.
struct Sourced<T> {
    dir: PathBuf,
    entry: T,
}

/// The merged kubeconfig: for each name the first file that defines it
/// wins, as kubectl merges `KUBECONFIG`.
pub(crate) struct Kubeconfig {
    clusters: ByName<Sourced<ClusterEntry>>,
    users: ByName<Sourced<UserEntry>>,
    contexts: ByName<ContextEntry>,
    current_context: Option<String>,
}

/// Entries by name in the order the files define them, the first
/// definition of a name kept. A list, not a map: a kubeconfig names a
/// handful of each.
struct ByName<T>(Vec<(String, T)>);

impl<T> ByName<T> {
    /// Adds `value` as `name` unless `name` is already defined.
    fn add(&mut self, name: String, value: T) {
        if self.get(&name).is_none() {
            self.0.push((name, value));
        }
    }

    fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }
}

/// Within one file a name is defined once: kubectl refuses a file whose
/// list names two entries alike (only across files does the first win).
fn unique<'a>(path: &Path, list: &str, names: impl Iterator<Item = &'a String>) -> Result<()> {
    let mut seen: Vec<&str> = Vec::new();
    for name in names {
        if seen.contains(&name.as_str()) {
            return Err(invalid(path, format!("duplicate name {name:?} in {list}")));
        }
        seen.push(name);
    }
    Ok(())
}

fn invalid(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::InvalidInput(format!("kubeconfig {}: {message}", path.display()))
}

impl Kubeconfig {
    /// Loads and merges `paths` (missing files are skipped, as kubectl does).
    #[allow(clippy::disallowed_methods)] // reads the kubeconfig files
    pub(crate) fn load(paths: &[PathBuf]) -> Result<Kubeconfig> {
        let mut merged = Kubeconfig {
            clusters: ByName(Vec::new()),
            users: ByName(Vec::new()),
            contexts: ByName(Vec::new()),
            current_context: None,
        };
        for path in paths {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(invalid(path, e)),
            };
            let file: File = crate::yaml::from_str(&text).map_err(|e| invalid(path, e))?;
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            unique(path, "clusters", file.clusters.iter().map(|c| &c.name))?;
            unique(path, "users", file.users.iter().map(|u| &u.name))?;
            unique(path, "contexts", file.contexts.iter().map(|c| &c.name))?;
            for c in file.clusters {
                let entry = Sourced {
                    dir: dir.clone(),
                    entry: c.cluster,
                };
                merged.clusters.add(c.name, entry);
            }
            for u in file.users {
                let entry = Sourced {
                    dir: dir.clone(),
                    entry: u.user,
                };
                merged.users.add(u.name, entry);
            }
            for c in file.contexts {
                merged.contexts.add(c.name, c.context);
            }
            if merged.current_context.is_none() {
                merged.current_context = file.current_context.filter(|c| !c.is_empty());
            }
        }
        Ok(merged)
    }

    /// The configuration of `context` (else the current context).
    pub(crate) fn config(&self, context: Option<&str>) -> Result<Config> {
        let name = context
            .map(str::to_string)
            .or_else(|| self.current_context.clone())
            .ok_or_else(|| {
                Error::InvalidInput(
                    "kubeconfig: no context given and no current-context set".into(),
                )
            })?;
        let ctx = self.contexts.get(&name).ok_or_else(|| {
            let mut known: Vec<&str> = self.contexts.names().collect();
            known.sort_unstable();
            Error::InvalidInput(format!(
                "kubeconfig: context {name:?} not found (known: {})",
                known.join(", ")
            ))
        })?;
        let cluster = self.clusters.get(&ctx.cluster).ok_or_else(|| {
            Error::InvalidInput(format!(
                "kubeconfig: context {name:?} names cluster {:?}, which is not defined",
                ctx.cluster
            ))
        })?;
        let mut config = Config::new(&cluster.entry.server).map_err(|e| {
            Error::InvalidInput(format!("kubeconfig: cluster {:?} server: {e}", ctx.cluster))
        })?;
        config.credentials.insecure_skip_verify = cluster.entry.insecure_skip_tls_verify;
        config.tls_server_name = cluster.entry.tls_server_name.clone();
        config.proxy_url = cluster.entry.proxy_url.clone().filter(|p| !p.is_empty());
        config.credentials.certificate_authority = pem(
            &cluster.dir,
            cluster.entry.certificate_authority_data.as_deref(),
            cluster.entry.certificate_authority.as_deref(),
            &format!("cluster {:?} certificate-authority", ctx.cluster),
        )?;
        if config.credentials.insecure_skip_verify
            && config.credentials.certificate_authority.is_some()
        {
            // kubectl refuses it too: which one was meant is unknown.
            return Err(Error::InvalidInput(format!(
                "kubeconfig: cluster {:?} has both certificate-authority and \
                 insecure-skip-tls-verify; keep one",
                ctx.cluster
            )));
        }
        if let Some(ns) = ctx.namespace.as_deref().filter(|n| !n.is_empty()) {
            crate::segment::check_namespace(ns)?;
            config.default_namespace = ns.to_string();
        }
        if let Some(user_name) = &ctx.user {
            let user = self.users.get(user_name).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "kubeconfig: context {name:?} names user {user_name:?}, which is not defined"
                ))
            })?;
            apply_user(&mut config, user, user_name)?;
        }
        Ok(config)
    }
}

/// PEM bytes from base64 `data` or a `file` (relative to `dir`).
#[allow(clippy::disallowed_methods)] // reads files a kubeconfig names
fn pem(dir: &Path, data: Option<&str>, file: Option<&str>, what: &str) -> Result<Option<Vec<u8>>> {
    if let Some(data) = data {
        return base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map(Some)
            .map_err(|e| {
                Error::InvalidInput(format!("kubeconfig: {what}-data is not base64: {e}"))
            });
    }
    match file {
        Some(f) => std::fs::read(dir.join(f)).map(Some).map_err(|e| {
            Error::InvalidInput(format!("kubeconfig: {what} {}: {e}", dir.join(f).display()))
        }),
        None => Ok(None),
    }
}

fn apply_user(config: &mut Config, user: &Sourced<UserEntry>, name: &str) -> Result<()> {
    let u = &user.entry;
    if let Some(provider) = &u.auth_provider {
        // Sending requests anonymously instead would change who the
        // client is without a word.
        return Err(Error::InvalidInput(format!(
            "kubeconfig: user {name:?} auth-provider {:?} is not supported (kubectl dropped \
             auth providers in 1.26); use an exec credential plugin",
            provider.name
        )));
    }
    if let Some(user_name) = &u.act_as {
        config.impersonate = Some(crate::config::Impersonation {
            user: user_name.clone(),
            groups: u.as_groups.clone().unwrap_or_default(),
            uid: u.as_uid.clone(),
            extra: u.as_user_extra.clone().unwrap_or_default(),
        });
    } else if u.as_groups.is_some() || u.as_uid.is_some() || u.as_user_extra.is_some() {
        return Err(Error::InvalidInput(format!(
            "kubeconfig: user {name:?} has as-groups, as-uid or as-user-extra without as"
        )));
    }
    let cert = pem(
        &user.dir,
        u.client_certificate_data.as_deref(),
        u.client_certificate.as_deref(),
        &format!("user {name:?} client-certificate"),
    )?;
    let key = pem(
        &user.dir,
        u.client_key_data.as_deref(),
        u.client_key.as_deref(),
        &format!("user {name:?} client-key"),
    )?;
    match (cert, key) {
        (Some(certificate_pem), Some(key)) => {
            config.credentials.client_certificate = Some(ClientCertificate {
                certificate_pem,
                key_pem: Sensitive::new(key),
            });
        }
        (None, None) => {}
        _ => {
            return Err(Error::InvalidInput(format!(
                "kubeconfig: user {name:?} has a client certificate without its key (or the reverse)"
            )));
        }
    }
    if let Some(token) = u.token.as_deref().filter(|t| !t.is_empty()) {
        config.credentials.auth = Auth::Bearer(Sensitive::new(token));
    } else if let Some(file) = &u.token_file {
        let token = DynamicToken::from_file(user.dir.join(file)).map_err(|e| {
            Error::InvalidInput(format!("kubeconfig: user {name:?} tokenFile: {e}"))
        })?;
        config.credentials.auth = Auth::Dynamic(token);
    } else if let (Some(username), Some(password)) = (&u.username, &u.password) {
        config.credentials.auth = Auth::Basic {
            username: username.clone(),
            password: Sensitive::new(password.as_str()),
        };
    } else if u.username.is_some() || u.password.is_some() {
        return Err(Error::InvalidInput(format!(
            "kubeconfig: user {name:?} has a username without a password (or the reverse)"
        )));
    } else if let Some(exec) = &u.exec {
        run_exec(config, exec, name, &user.dir)?;
    }
    Ok(())
}

/// Runs an exec credential plugin now (failing early on a broken one) and
/// keeps it to refresh the token when it expires.
fn run_exec(config: &mut Config, exec: &ExecEntry, user: &str, dir: &Path) -> Result<()> {
    let api_version = exec
        .api_version
        .clone()
        .unwrap_or_else(|| "client.authentication.k8s.io/v1".into());
    if !matches!(
        api_version.as_str(),
        "client.authentication.k8s.io/v1" | "client.authentication.k8s.io/v1beta1"
    ) {
        return Err(Error::InvalidInput(format!(
            "kubeconfig: user {user:?} exec apiVersion {api_version:?} is not supported"
        )));
    }
    match exec.interactive_mode.as_deref() {
        None | Some("Never" | "IfAvailable") => {}
        Some("Always") => {
            return Err(Error::InvalidInput(format!(
                "kubeconfig: user {user:?} exec interactiveMode Always needs a terminal \
                 to talk to; kubewire runs credential plugins without one"
            )));
        }
        Some(other) => {
            return Err(Error::InvalidInput(format!(
                "kubeconfig: user {user:?} exec interactiveMode {other:?} is not one of \
                 Never, IfAvailable, Always"
            )));
        }
    }
    // As kubectl: a command with a path separator that is relative is
    // relative to the kubeconfig file that names it; a bare name is looked
    // up on PATH.
    let command = Path::new(&exec.command);
    let command = if command.is_relative() && exec.command.contains(std::path::MAIN_SEPARATOR) {
        dir.join(command).to_string_lossy().into_owned()
    } else {
        exec.command.clone()
    };
    let spec = ExecSpec {
        user: user.to_string(),
        command,
        args: exec.args.clone(),
        env: exec
            .env
            .iter()
            .flatten()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect(),
        api_version,
    };
    let (token, out) = DynamicToken::from_exec(spec)?;
    if out.token.is_some() {
        config.credentials.auth = Auth::Dynamic(token);
    }
    if let Some((cert, key)) = out.client_certificate {
        config.credentials.client_certificate = Some(ClientCertificate {
            certificate_pem: cert.into_bytes(),
            key_pem: Sensitive::new(key),
        });
    }
    Ok(())
}

/// The kubeconfig files the environment names: `KUBECONFIG` (a list) or
/// `~/.kube/config`.
#[allow(clippy::disallowed_methods)] // finds the kubeconfig from KUBECONFIG and HOME
pub(crate) fn default_paths() -> Vec<PathBuf> {
    match std::env::var_os("KUBECONFIG") {
        Some(list) if !list.is_empty() => std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        _ => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".kube/config"))
            .into_iter()
            .collect(),
    }
}
