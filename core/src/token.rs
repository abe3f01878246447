//! Bearer tokens that change: a token file that rotates (service-account
//! tokens, kubeconfig `tokenFile`) or an exec credential plugin whose token
//! expires. Part of the `config` side of the core (files and plugins).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::sensitive::Sensitive;
use crate::time::Timestamp;

/// A bearer token re-read or re-fetched when it changes. `refresh(now)`
/// brings it up to date (the facade calls it before every request);
/// `current()` is the token to send.
///
/// Clones share the cached token. `Debug` shows where the token comes
/// from, never the token.
#[derive(Clone)]
pub struct DynamicToken {
    inner: Arc<Inner>,
}

struct Inner {
    source: Source,
    cache: Mutex<Option<Cached>>,
}

#[derive(Debug)]
enum Source {
    File(PathBuf),
    Exec(ExecSpec),
}

/// An exec credential plugin, as the kubeconfig describes it.
#[derive(Debug, Clone)]
pub(crate) struct ExecSpec {
    pub(crate) user: String,
    pub(crate) command: String,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) api_version: String,
}

struct Cached {
    token: Sensitive,
    /// When a token file was last read.
    read_at: SystemTime,
    /// Modification time and length of the token file when read.
    stamp: Option<(Option<SystemTime>, u64)>,
    /// When an exec token stops being valid.
    expires: Option<SystemTime>,
}

/// What an exec plugin printed.
pub(crate) struct ExecOutput {
    pub(crate) token: Option<String>,
    pub(crate) client_certificate: Option<(String, String)>,
    pub(crate) expires: Option<SystemTime>,
}

/// A token file is re-read at least this often.
const REREAD_FILE: Duration = Duration::from_secs(60);

/// A token is refreshed this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

impl std::fmt::Debug for DynamicToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner.source {
            Source::File(p) => write!(f, "DynamicToken(file {})", p.display()),
            Source::Exec(e) => write!(f, "DynamicToken(exec {})", e.command),
        }
    }
}

impl PartialEq for DynamicToken {
    fn eq(&self, other: &DynamicToken) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for DynamicToken {}

#[allow(clippy::disallowed_methods)] // stats a token file to see it rotate
fn file_stamp(path: &PathBuf) -> Result<(Option<SystemTime>, u64)> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::InvalidInput(format!("token file {}: {e}", path.display())))?;
    Ok((meta.modified().ok(), meta.len()))
}

impl DynamicToken {
    /// A token read from `path`, re-read whenever the file changes.
    pub fn from_file(path: impl Into<PathBuf>) -> Result<DynamicToken> {
        let token = DynamicToken::new(Source::File(path.into()));
        token.refresh(SystemTime::UNIX_EPOCH)?;
        Ok(token)
    }

    /// A token from an exec plugin, run now; returns what else it printed.
    pub(crate) fn from_exec(spec: ExecSpec) -> Result<(DynamicToken, ExecOutput)> {
        let out = run_exec(&spec)?;
        let token = DynamicToken::new(Source::Exec(spec));
        if let Some(t) = &out.token {
            *token.inner.cache.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
                token: Sensitive::new(t.as_str()),
                read_at: SystemTime::UNIX_EPOCH,
                stamp: None,
                expires: out.expires,
            });
        }
        Ok((token, out))
    }

    fn new(source: Source) -> DynamicToken {
        DynamicToken {
            inner: Arc::new(Inner {
                source,
                cache: Mutex::new(None),
            }),
        }
    }

    /// Brings the token up to date at time `now`: re-reads a token file
    /// that changed, re-runs an exec plugin whose token expired (or has
    /// none yet).
    #[allow(clippy::disallowed_methods)] // re-reads a rotated token file
    pub fn refresh(&self, now: SystemTime) -> Result<()> {
        let mut cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
        match &self.inner.source {
            Source::File(path) => {
                // Re-read when the file changed, and at least once a minute
                // (a same-size rewrite within the mtime's resolution).
                let stamp = file_stamp(path)?;
                let current = cache.as_ref().is_some_and(|c| {
                    c.stamp == Some(stamp)
                        && now
                            .duration_since(c.read_at)
                            .is_ok_and(|age| age < REREAD_FILE)
                });
                if current {
                    return Ok(());
                }
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::InvalidInput(format!("token file {}: {e}", path.display()))
                })?;
                *cache = Some(Cached {
                    token: Sensitive::new(text.trim()),
                    read_at: now,
                    stamp: Some(stamp),
                    expires: None,
                });
            }
            Source::Exec(spec) => {
                let fresh = cache
                    .as_ref()
                    .is_some_and(|c| c.expires.is_none_or(|t| now + EXPIRY_MARGIN < t));
                if fresh {
                    return Ok(());
                }
                let out = run_exec(spec)?;
                let token = out.token.ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "kubeconfig: user {:?} exec {:?} returned no token",
                        spec.user, spec.command
                    ))
                })?;
                *cache = Some(Cached {
                    token: Sensitive::new(token),
                    read_at: now,
                    stamp: None,
                    expires: out.expires,
                });
            }
        }
        Ok(())
    }

    /// The token to send, as last refreshed.
    pub fn current(&self) -> Option<Sensitive> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.token.clone())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredential {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    status: Option<ExecStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecStatus {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    client_certificate_data: Option<String>,
    #[serde(default)]
    client_key_data: Option<String>,
    #[serde(default)]
    expiration_timestamp: Option<Timestamp>,
}

/// Runs an exec credential plugin (client.authentication.k8s.io v1 or
/// v1beta1) and reads its ExecCredential.
#[allow(clippy::disallowed_methods)] // runs the exec credential plugin
fn run_exec(spec: &ExecSpec) -> Result<ExecOutput> {
    let (user, command) = (&spec.user, &spec.command);
    let info = serde_json::json!({"apiVersion": spec.api_version, "kind": "ExecCredential", "spec": {"interactive": false}});
    let mut cmd = std::process::Command::new(command);
    cmd.args(&spec.args)
        .env("KUBERNETES_EXEC_INFO", info.to_string())
        .stdin(std::process::Stdio::null());
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| {
        Error::InvalidInput(format!("kubeconfig: user {user:?} exec {command:?}: {e}"))
    })?;
    if !out.status.success() {
        return Err(Error::InvalidInput(format!(
            "kubeconfig: user {user:?} exec {command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let cred: ExecCredential = serde_json::from_slice(&out.stdout).map_err(|e| {
        Error::InvalidInput(format!(
            "kubeconfig: user {user:?} exec {command:?} printed no ExecCredential: {e}"
        ))
    })?;
    let status = cred.status.ok_or_else(|| {
        Error::InvalidInput(format!(
            "kubeconfig: user {user:?} exec {command:?}: the ExecCredential ({}) has no status",
            cred.api_version
        ))
    })?;
    Ok(ExecOutput {
        token: status.token,
        client_certificate: status.client_certificate_data.zip(status.client_key_data),
        expires: status.expiration_timestamp.map(|t| t.to_system_time()),
    })
}
