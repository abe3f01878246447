//! Which proxy the environment asks for, by kubectl's rules (Go's
//! `httpproxy`): `HTTPS_PROXY` for https servers and `HTTP_PROXY` for http
//! ones (never one for the other), `NO_PROXY` entries that are `*`, IP
//! addresses, CIDR ranges or domain names (with subdomains, or only
//! subdomains with a leading `.`), each optionally with a port; loopback
//! and `localhost` are never proxied.

use std::net::IpAddr;

/// The environment's proxy settings, read once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    /// `HTTPS_PROXY` (or `https_proxy`).
    pub https_proxy: Option<String>,
    /// `HTTP_PROXY` (or `http_proxy`).
    pub http_proxy: Option<String>,
    /// `NO_PROXY` (or `no_proxy`).
    pub no_proxy: Option<String>,
}

impl ProxyEnv {
    /// The settings of this process's environment (upper case first, as
    /// Go reads them).
    #[allow(clippy::disallowed_methods)] // proxy settings are configuration the environment gives
    pub fn from_env() -> ProxyEnv {
        let get = |upper: &str, lower: &str| {
            [upper, lower]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        };
        ProxyEnv {
            https_proxy: get("HTTPS_PROXY", "https_proxy"),
            http_proxy: get("HTTP_PROXY", "http_proxy"),
            no_proxy: get("NO_PROXY", "no_proxy"),
        }
    }

    /// The proxy for a server at `scheme://host:port`, if any.
    ///
    /// ```
    /// use kubewire::config::ProxyEnv;
    /// let env = ProxyEnv {
    ///     https_proxy: Some("http://proxy:3128".into()),
    ///     http_proxy: None,
    ///     no_proxy: Some("10.0.0.0/8, .internal,example.com:6443".into()),
    /// };
    /// assert_eq!(env.proxy_for("https", "k8s.public", 443), Some("http://proxy:3128"));
    /// assert_eq!(env.proxy_for("https", "10.1.2.3", 6443), None);        // CIDR
    /// assert_eq!(env.proxy_for("https", "api.internal", 443), None);     // subdomain
    /// assert_eq!(env.proxy_for("https", "example.com", 6443), None);     // name and port
    /// assert_eq!(env.proxy_for("https", "example.com", 443), Some("http://proxy:3128"));
    /// assert_eq!(env.proxy_for("http", "k8s.public", 80), None);         // no HTTP_PROXY
    /// assert_eq!(env.proxy_for("https", "127.0.0.1", 6443), None);       // loopback
    /// ```
    pub fn proxy_for(&self, scheme: &str, host: &str, port: u16) -> Option<&str> {
        let proxy = match scheme {
            "https" => self.https_proxy.as_deref(),
            _ => self.http_proxy.as_deref(),
        }?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip = host.parse::<IpAddr>().ok();
        if host.eq_ignore_ascii_case("localhost") || ip.is_some_and(|ip| ip.is_loopback()) {
            return None;
        }
        let bypassed = self
            .no_proxy
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .any(|entry| bypasses(entry, host, ip, port));
        (!bypassed).then_some(proxy)
    }
}

/// True when one `NO_PROXY` entry covers the host.
fn bypasses(entry: &str, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    if let Some((net, bits)) = entry.split_once('/') {
        return match (ip, net.parse::<IpAddr>(), bits.parse::<u8>()) {
            (Some(ip), Ok(net), Ok(bits)) => in_cidr(ip, net, bits),
            _ => false,
        };
    }
    if let Ok(entry_ip) = entry
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return ip == Some(entry_ip);
    }
    // A name or an address, with an optional port.
    let (name, entry_port) = match entry.rsplit_once(':') {
        Some((name, p)) if !name.contains(':') || name.ends_with(']') => match p.parse::<u16>() {
            Ok(p) => (name, Some(p)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    };
    if entry_port.is_some_and(|p| p != port) {
        return false;
    }
    let name = name.trim_start_matches('[').trim_end_matches(']');
    if let Ok(entry_ip) = name.parse::<IpAddr>() {
        return ip == Some(entry_ip);
    }
    let host = host.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    match name.strip_prefix('.') {
        Some(domain) => host.ends_with(&format!(".{domain}")),
        None => {
            let name = name.strip_prefix("*.").unwrap_or(&name);
            host == name || host.ends_with(&format!(".{name}"))
        }
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(no_proxy: &str) -> ProxyEnv {
        ProxyEnv {
            https_proxy: Some("http://p:1".into()),
            http_proxy: Some("http://q:2".into()),
            no_proxy: Some(no_proxy.into()),
        }
    }

    /// The cases of Go's `httpproxy` tests that concern a client.
    #[test]
    fn no_proxy_like_kubectl() {
        let proxied =
            |no: &str, host: &str, port: u16| env(no).proxy_for("https", host, port).is_some();
        assert!(!proxied("*", "anything.example", 443));
        assert!(!proxied("foo.com", "foo.com", 443));
        assert!(
            !proxied("foo.com", "bar.foo.com", 443),
            "a name covers its subdomains"
        );
        assert!(proxied("foo.com", "barfoo.com", 443));
        assert!(!proxied(".foo.com", "bar.foo.com", 443));
        assert!(
            proxied(".foo.com", "foo.com", 443),
            "a leading dot: subdomains only"
        );
        assert!(!proxied("10.0.0.0/8", "10.20.30.40", 443));
        assert!(proxied("10.0.0.0/8", "11.0.0.1", 443));
        assert!(!proxied("2001:db8::/32", "[2001:db8::1]", 443));
        assert!(!proxied("192.168.1.1", "192.168.1.1", 443));
        assert!(
            !proxied("a.com, b.com ,c.com", "b.com", 443),
            "spaces after commas"
        );
        assert!(!proxied("foo.com:443", "foo.com", 443));
        assert!(proxied("foo.com:80", "foo.com", 443), "another port");
        assert!(!proxied("", "localhost", 443), "localhost is never proxied");
        assert!(!proxied("", "::1", 443));
        assert_eq!(env("").proxy_for("http", "h", 80), Some("http://q:2"));
        let https_only = ProxyEnv {
            http_proxy: Some("http://q:2".into()),
            ..ProxyEnv::default()
        };
        assert_eq!(
            https_only.proxy_for("https", "h", 443),
            None,
            "HTTP_PROXY is not used for https"
        );
    }
}
