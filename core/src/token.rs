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
    /// Held while an exec plugin runs, so that one runs at a time; the
    /// cache itself stays free for requests whose token is still valid.
    running: Mutex<()>,
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
                running: Mutex::new(()),
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
                let usable = |c: &Option<Cached>, margin: Duration| {
                    c.as_ref()
                        .is_some_and(|c| c.expires.is_none_or(|t| now + margin < t))
                };
                if usable(&cache, EXPIRY_MARGIN) {
                    return Ok(());
                }
                // Run the plugin without holding the cache: requests whose
                // token has not expired yet go on meanwhile.
                let still_valid = usable(&cache, Duration::ZERO);
                drop(cache);
                let _running = match self.inner.running.try_lock() {
                    Ok(guard) => guard,
                    Err(_) if still_valid => return Ok(()),
                    Err(_) => self.inner.running.lock().unwrap_or_else(|e| e.into_inner()),
                };
                if usable(
                    &self.inner.cache.lock().unwrap_or_else(|e| e.into_inner()),
                    EXPIRY_MARGIN,
                ) {
                    return Ok(()); // another caller refreshed it meanwhile
                }
                let out = run_exec(spec)?;
                let token = out.token.ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "kubeconfig: user {:?} exec {:?} returned no token",
                        spec.user, spec.command
                    ))
                })?;
                *self.inner.cache.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
                    token: Sensitive::new(token),
                    read_at: now,
                    stamp: None,
                    expires: out.expires,
                });
                return Ok(());
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

/// How long an exec credential plugin may run before it is stopped:
/// 60 s, or `KUBEWIRE_EXEC_TIMEOUT` seconds.
fn exec_timeout() -> Duration {
    #[allow(clippy::disallowed_methods)] // an operational knob of the credential plugins
    let set = std::env::var("KUBEWIRE_EXEC_TIMEOUT").ok();
    set.and_then(|s| s.trim().parse().ok())
        .map_or(Duration::from_secs(60), Duration::from_secs)
}

/// Runs an exec credential plugin (client.authentication.k8s.io v1 or
/// v1beta1) and reads its ExecCredential. As kubectl does, the plugin's
/// stderr goes to this process's stderr (its messages are for the person at
/// the terminal); its stdout holds the credential and is never quoted in an
/// error. Stdin is closed: kubewire runs plugins non-interactively.
#[allow(clippy::disallowed_methods)] // runs the exec credential plugin, reads its output on a thread, waits for it
fn run_exec(spec: &ExecSpec) -> Result<ExecOutput> {
    use std::io::Read;
    let (user, command) = (&spec.user, &spec.command);
    let failed = |what: String| {
        Error::InvalidInput(format!("kubeconfig: user {user:?} exec {command:?} {what}"))
    };
    let info = serde_json::json!({"apiVersion": spec.api_version, "kind": "ExecCredential", "spec": {"interactive": false}});
    let mut cmd = std::process::Command::new(command);
    cmd.args(&spec.args)
        .env("KUBERNETES_EXEC_INFO", info.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| failed(format!("could not start: {e}")))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| failed("has no stdout".into()))?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).map(|_| out)
    });
    let (started, limit) = (std::time::Instant::now(), exec_timeout());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!(
                    "did not finish within {} s and was stopped (KUBEWIRE_EXEC_TIMEOUT)",
                    limit.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(failed(format!("could not be waited for: {e}"))),
        }
    };
    let stdout = reader
        .join()
        .map_err(|_| failed("output reader failed".into()))?
        .map_err(|e| failed(format!("output could not be read: {e}")))?;
    if !status.success() {
        return Err(failed(format!(
            "failed ({status}); its own messages went to stderr"
        )));
    }
    let cred: ExecCredential = serde_json::from_slice(&stdout).map_err(|e| {
        failed(format!(
            "printed no ExecCredential: {}",
            crate::yaml::elide_quoted(&e.to_string())
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
