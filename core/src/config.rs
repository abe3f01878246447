//! Connection settings as a plain value.

use http::Uri;

pub use crate::proxy_env::ProxyEnv;
pub use crate::sensitive::Sensitive;
pub use crate::token::DynamicToken;

use crate::error::{Error, Result};

/// The base URL `kubectl proxy` serves, the seed library's default.
pub const DEFAULT_BASE_URL: &str = "http://localhost:8001/";

/// Where Kubernetes mounts a pod's service-account credentials.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The user agent sent when none is configured.
pub const DEFAULT_USER_AGENT: &str = concat!("kubewire/", env!("CARGO_PKG_VERSION"));

/// Everything the core needs to address a cluster and everything a transport
/// needs to connect to it. A plain value: build it, clone it, compare it.
///
/// Credentials are carried for the transports and never appear in `Debug`.
///
/// ```
/// use kubewire::Config;
/// let a = Config::new("http://localhost:8001").unwrap();
/// let b = Config::new("http://localhost:8001/api").unwrap(); // the seed's form
/// assert_eq!(a.url("/api/v1/pods", "").unwrap(), b.url("/api/v1/pods", "").unwrap());
/// let c = Config::new("https://rancher.example/k8s/clusters/c-1/").unwrap();
/// assert_eq!(c.url("/api/v1/pods", "limit=1").unwrap().to_string(),
///            "https://rancher.example/k8s/clusters/c-1/api/v1/pods?limit=1");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    scheme: String,
    authority: String,
    path_prefix: String,
    /// The namespace used when neither the call nor the manifest names one.
    pub default_namespace: String,
    /// How requests authenticate.
    pub credentials: Credentials,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The `fieldManager` sent with writes when the call names none.
    pub field_manager: Option<String>,
    /// When true every write is sent with `dryRun=All`.
    pub dry_run: bool,
    /// Client-side rate limiting of every request (off when `None`).
    pub rate_limit: Option<crate::rate_limit::RateLimit>,
    /// Set by [`Config::discover`] when it fell back to `kubectl proxy`.
    fallback: bool,
    /// Who the requests act as (kubeconfig `as`, `as-groups`, `as-uid`,
    /// `as-user-extra`): sent as `Impersonate-*` headers.
    pub impersonate: Option<Impersonation>,
    /// The proxy for this server (kubeconfig `proxy-url`: `http`,
    /// `https` or `socks5`); an explicit transport proxy wins.
    pub proxy_url: Option<String>,
    /// The name to verify the server's certificate against instead of the
    /// URL's host (kubeconfig `tls-server-name`); the connection still
    /// goes to the URL's host. Transports that cannot honour it refuse the
    /// configuration.
    pub tls_server_name: Option<String>,
}

/// Every field, with the credentials hidden and a proxy URL's password
/// replaced.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("scheme", &self.scheme)
            .field("authority", &self.authority)
            .field("path_prefix", &self.path_prefix)
            .field("default_namespace", &self.default_namespace)
            .field("credentials", &self.credentials)
            .field("user_agent", &self.user_agent)
            .field("field_manager", &self.field_manager)
            .field("dry_run", &self.dry_run)
            .field("rate_limit", &self.rate_limit)
            .field("fallback", &self.fallback)
            .field("impersonate", &self.impersonate)
            .field("proxy_url", &self.proxy_url.as_deref().map(redacted_url))
            .field("tls_server_name", &self.tls_server_name)
            .finish()
    }
}

/// The identity requests impersonate (`Impersonate-User`, `-Group`, `-Uid`,
/// `-Extra-*` headers): the credentials' own identity must be allowed to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Impersonation {
    /// The user to act as.
    pub user: String,
    /// The groups to act as.
    pub groups: Vec<String>,
    /// The UID to act as.
    pub uid: Option<String>,
    /// Extra fields of the user info.
    pub extra: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for Config {
    fn default() -> Config {
        // DEFAULT_BASE_URL is a constant known to parse.
        Config::new(DEFAULT_BASE_URL).expect("the default base URL parses")
    }
}

/// A URL as errors may show it: any `user:password@` is replaced by
/// `***@` (for server and proxy URLs in messages).
///
/// ```
/// assert_eq!(kubewire::config::redacted_url("http://me:pw@proxy:3128"), "http://***@proxy:3128");
/// assert_eq!(kubewire::config::redacted_url("https://k8s:6443/x"), "https://k8s:6443/x");
/// ```
pub fn redacted_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => {
            let sep = if scheme.is_empty() { "" } else { "://" };
            format!("{scheme}{sep}***@{}", &rest[at + 1..])
        }
        None => url.to_string(),
    }
}

impl Config {
    /// A configuration for the apiserver at `base_url`.
    ///
    /// The URL must be `http` or `https` with a host. A trailing `/` and a
    /// trailing `/api` (the seed library's form) are ignored; any other path
    /// is kept as a prefix in front of every request path (a cluster behind
    /// a proxy such as `/k8s/clusters/c-1`).
    pub fn new(base_url: &str) -> Result<Config> {
        let uri: Uri = base_url.parse().map_err(|e: http::uri::InvalidUri| {
            Error::InvalidInput(format!("base URL {:?}: {e}", redacted_url(base_url)))
        })?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_string(),
            _ => {
                return Err(Error::InvalidInput(format!(
                    "base URL {:?}: scheme must be http or https",
                    redacted_url(base_url)
                )));
            }
        };
        let authority = uri
            .authority()
            .map(|a| a.to_string())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                Error::InvalidInput(format!("base URL {:?}: no host", redacted_url(base_url)))
            })?;
        if authority.contains('@') {
            return Err(Error::InvalidInput(format!(
                "base URL {:?}: put credentials in Config::credentials, not the URL",
                redacted_url(base_url)
            )));
        }
        if uri.query().is_some() {
            return Err(Error::InvalidInput(format!(
                "base URL {:?}: must not carry a query",
                redacted_url(base_url)
            )));
        }
        let mut prefix = uri.path().trim_end_matches('/');
        if let Some(stripped) = prefix.strip_suffix("/api") {
            prefix = stripped;
        }
        let mut config = Config {
            scheme,
            authority,
            path_prefix: String::new(),
            default_namespace: "default".to_string(),
            credentials: Credentials::default(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            field_manager: None,
            dry_run: false,
            rate_limit: None,
            fallback: false,
            impersonate: None,
            proxy_url: None,
            tls_server_name: None,
        };
        config.set_path_prefix(prefix)?;
        Ok(config)
    }

    /// The configuration the environment describes (the `config` module is
    /// the one place in the core that reads files and environment
    /// variables), or `kubectl proxy`'s `http://localhost:8001/` when it
    /// describes none. See [`Config::discover_configured`].
    pub fn discover() -> Result<Config> {
        Ok(Config::discover_configured()?.unwrap_or_else(|| Config {
            fallback: true,
            ..Config::default()
        }))
    }

    /// True when this is [`Config::discover`]'s fallback (`kubectl proxy`
    /// at `http://localhost:8001/`, for want of any configuration): errors
    /// reaching it say so.
    pub fn is_fallback(&self) -> bool {
        self.fallback
    }

    /// The proxy to reach this server through: the configuration's
    /// `proxy_url`, else what the environment asks for by kubectl's rules
    /// ([`ProxyEnv`]); `None` for a direct connection.
    pub fn proxy(&self, env: &ProxyEnv) -> Option<String> {
        if let Some(url) = &self.proxy_url {
            return Some(url.clone());
        }
        let (host, port) = match self.authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => (h, p.parse().unwrap_or(0)),
            _ => (
                self.authority.as_str(),
                if self.is_https() { 443 } else { 80 },
            ),
        };
        env.proxy_for(&self.scheme, host, port).map(str::to_string)
    }

    /// The configuration of `context` in the kubeconfig the environment
    /// names (`KUBECONFIG`, else `~/.kube/config`), as `kubectl --context`.
    pub fn from_context(context: &str) -> Result<Config> {
        Config::from_kubeconfig(&crate::kubeconfig::default_paths(), Some(context))
    }

    /// The configuration the environment describes, in this order:
    ///
    /// 1. inside a pod (`KUBERNETES_SERVICE_HOST`/`PORT` set and a
    ///    service-account token mounted): the in-cluster apiserver with the
    ///    account's token, CA and namespace;
    /// 2. `KUBEWIRE_URL`;
    /// 3. the kubeconfig: `KUBECONFIG` (several files, merged as kubectl
    ///    merges them) or `~/.kube/config`, at its current context.
    ///
    /// `None` when none of these exists.
    #[allow(clippy::disallowed_methods)] // reads KUBEWIRE_URL: configuration discovery
    pub fn discover_configured() -> Result<Option<Config>> {
        if let Some(config) = Config::in_cluster_at(std::path::Path::new(SERVICE_ACCOUNT_DIR))? {
            return Ok(Some(config));
        }
        if let Ok(url) = std::env::var("KUBEWIRE_URL")
            && !url.is_empty()
        {
            return Config::new(&url).map(Some);
        }
        let paths = crate::kubeconfig::default_paths();
        if paths.iter().any(|p| p.exists()) {
            return Config::from_kubeconfig(&paths, None).map(Some);
        }
        if std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty()) {
            // Named on purpose: not finding it is an error, not "no cluster".
            return Config::from_kubeconfig(&paths, None).map(Some);
        }
        Ok(None)
    }

    /// The configuration of `context` (else the current context) in the
    /// kubeconfig files `paths`, merged as kubectl merges `KUBECONFIG`: for
    /// each cluster, user and context name the first file wins (a name
    /// defined twice within one file is an error, as in kubectl). Relative
    /// certificate and token paths resolve against their file. A user's
    /// `exec` plugin is run once, now.
    ///
    /// None of `paths` existing is an error naming them (files missing
    /// beside one that exists are skipped, as kubectl does).
    pub fn from_kubeconfig(paths: &[std::path::PathBuf], context: Option<&str>) -> Result<Config> {
        if !paths.iter().any(|p| p.exists()) {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            return Err(Error::InvalidInput(format!(
                "kubeconfig: no such file: {}",
                if names.is_empty() {
                    "(none named)".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
        crate::kubeconfig::Kubeconfig::load(paths)?.config(context)
    }

    /// The in-cluster configuration from the service-account files in
    /// `dir`; `None` when not running in a cluster.
    #[allow(clippy::disallowed_methods)] // in-cluster discovery reads the service account's environment and files
    pub fn in_cluster_at(dir: &std::path::Path) -> Result<Option<Config>> {
        let (Ok(host), Ok(port)) = (
            std::env::var("KUBERNETES_SERVICE_HOST"),
            std::env::var("KUBERNETES_SERVICE_PORT"),
        ) else {
            return Ok(None);
        };
        let token_path = dir.join("token");
        if !token_path.exists() {
            return Ok(None);
        }
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| {
                Error::InvalidInput(format!("in-cluster {}: {e}", dir.join(name).display()))
            })
        };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        let mut config = Config::new(&format!("https://{host}:{port}"))?;
        // Service-account tokens rotate: re-read whenever the file changes.
        config.credentials.auth = Auth::Dynamic(DynamicToken::from_file(token_path)?);
        config.credentials.certificate_authority = Some(read("ca.crt")?);
        if let Ok(ns) = read("namespace") {
            let ns = String::from_utf8_lossy(&ns).trim().to_string();
            if !ns.is_empty() {
                config.default_namespace = ns;
            }
        }
        Ok(Some(config))
    }

    /// Sets the path prefix put in front of every request path
    /// (e.g. `/k8s/clusters/c-1`). Segments are validated like any other.
    pub fn set_path_prefix(&mut self, prefix: &str) -> Result<()> {
        let trimmed = prefix.trim_matches('/');
        let mut out = String::new();
        if !trimmed.is_empty() {
            for seg in trimmed.split('/') {
                crate::segment::check_path_component(seg, "path prefix")?;
                out.push('/');
                out.push_str(seg);
            }
        }
        self.path_prefix = out;
        Ok(())
    }

    /// The path prefix, `""` or starting with `/` without a trailing `/`.
    pub fn path_prefix(&self) -> &str {
        &self.path_prefix
    }

    /// The base URL: scheme, authority and prefix, ending with `/`.
    pub fn base_url(&self) -> String {
        format!("{}://{}{}/", self.scheme, self.authority, self.path_prefix)
    }

    /// True when the base URL uses `https`.
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// The full URL of an (already encoded) absolute `path` and `query`;
    /// an error (never a different URL) when they do not form one.
    pub fn url(&self, path: &str, query: &str) -> Result<Uri> {
        let text = || {
            let parts = [
                &self.scheme,
                "://",
                &self.authority,
                &self.path_prefix,
                path,
            ];
            let mut s = String::with_capacity(
                parts.iter().map(|p| p.len()).sum::<usize>() + 1 + query.len(),
            );
            parts.iter().for_each(|p| s.push_str(p));
            if !query.is_empty() {
                s.push('?');
                s.push_str(query);
            }
            s
        };
        // Parsed from the `String` itself: its bytes become the URI's, uncopied.
        Uri::try_from(text())
            .map_err(|e| Error::InvalidInput(format!("{:?} is not a valid URL: {e}", text())))
    }
}

/// How requests authenticate and how TLS is set up. Transports read the TLS
/// parts; the core adds the `Authorization` header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credentials {
    /// Bearer token or basic auth.
    pub auth: Auth,
    /// A client certificate (PEM chain) and its private key (PEM).
    pub client_certificate: Option<ClientCertificate>,
    /// PEM bundle of CA certificates to trust instead of the system roots.
    pub certificate_authority: Option<Vec<u8>>,
    /// Skip TLS certificate verification (kubeconfig's
    /// `insecure-skip-tls-verify`). Off by default; never turn it on silently.
    pub insecure_skip_verify: bool,
}

/// The `Authorization` scheme.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// No authorization header (e.g. behind `kubectl proxy`).
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Sensitive),
    /// `Authorization: Basic <base64(user:password)>`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Sensitive,
    },
    /// `Authorization: Bearer <token>` with a token that rotates (a token
    /// file) or expires (an exec plugin); see [`Credentials::refresh`].
    Dynamic(DynamicToken),
}

impl Credentials {
    /// Brings changing credentials up to date at `now` (re-reads a rotated
    /// token file, re-runs an exec plugin whose token expired). The
    /// blocking facade calls it before every request; sans-IO users call
    /// it themselves, then [`Credentials::authorization`].
    pub fn refresh(&self, now: std::time::SystemTime) -> Result<()> {
        match &self.auth {
            Auth::Dynamic(token) => token.refresh(now),
            _ => Ok(()),
        }
    }

    /// True when the credentials change over time (a token file, an exec
    /// plugin): they must be refreshed and put on each request as it goes.
    pub fn is_changing(&self) -> bool {
        matches!(self.auth, Auth::Dynamic(_))
    }

    /// The `Authorization` header these credentials send, marked sensitive
    /// so `Debug` hides it.
    pub fn authorization(&self) -> Result<Option<http::HeaderValue>> {
        use base64::Engine as _;
        let raw = match &self.auth {
            Auth::None => return Ok(None),
            Auth::Bearer(token) => [b"Bearer ".as_slice(), token.expose()].concat(),
            Auth::Dynamic(token) => {
                let token = token.current().ok_or_else(|| {
                    Error::InvalidInput(
                        "the credentials were never loaded: call Credentials::refresh".into(),
                    )
                })?;
                [b"Bearer ".as_slice(), token.expose()].concat()
            }
            Auth::Basic { username, password } => {
                let pair = [format!("{username}:").as_bytes(), password.expose()].concat();
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
                .into_bytes()
            }
        };
        let mut value = http::HeaderValue::from_bytes(&raw).map_err(|_| {
            Error::InvalidInput("credentials hold characters not allowed in a header".to_string())
        })?;
        value.set_sensitive(true);
        Ok(Some(value))
    }
}

/// A TLS client certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCertificate {
    /// The certificate chain, PEM.
    pub certificate_pem: Vec<u8>,
    /// The private key, PEM (never printed).
    pub key_pem: Sensitive,
}
