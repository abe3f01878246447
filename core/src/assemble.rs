//! Assembling one `http::Request` from a method, an encoded path, a query
//! and an optional body, with the headers every request carries.

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use http::{Method, Request};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::query::Query;

/// The JSON content type.
pub(crate) const JSON: &str = "application/json";

/// Builds the request. `path` is absolute and already encoded.
pub(crate) fn build(
    config: &Config,
    method: Method,
    path: &str,
    query: &Query,
    body: Option<(Vec<u8>, &str)>,
) -> Result<Request<Bytes>> {
    let uri = config.url(path, &query.render())?;
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(ACCEPT, HeaderValue::from_static(JSON))
        .header(USER_AGENT, header_value(&config.user_agent, "user agent")?);
    if let Some(auth) = config.credentials.authorization()? {
        builder = builder.header(AUTHORIZATION, auth);
    }
    if let Some(who) = &config.impersonate {
        builder = builder.header(
            "impersonate-user",
            header_value(&who.user, "impersonated user")?,
        );
        for group in &who.groups {
            builder = builder.header(
                "impersonate-group",
                header_value(group, "impersonated group")?,
            );
        }
        if let Some(uid) = &who.uid {
            builder = builder.header("impersonate-uid", header_value(uid, "impersonated uid")?);
        }
        for (key, values) in &who.extra {
            // Header names are case-insensitive: the key travels escaped.
            let name = format!(
                "impersonate-extra-{}",
                percent_encoding::utf8_percent_encode(key, EXTRA_KEY)
            );
            for value in values {
                builder = builder.header(name.as_str(), header_value(value, "impersonated extra")?);
            }
        }
    }
    let body = match body {
        Some((bytes, content_type)) => {
            builder = builder.header(CONTENT_TYPE, content_type);
            Bytes::from(bytes)
        }
        None => Bytes::new(),
    };
    builder
        .body(body)
        .map_err(|e| Error::InvalidInput(format!("cannot build request: {e}")))
}

/// What an `Impersonate-Extra-` key escapes (as client-go does).
const EXTRA_KEY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'!')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

fn header_value(value: &str, what: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(value)
        .map_err(|_| Error::InvalidInput(format!("{what} {value:?} is not a valid header value")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Auth;
    use crate::sensitive::Sensitive;

    #[test]
    fn authorization_is_sensitive_and_hidden_from_debug() {
        let mut config = Config::default();
        config.credentials.auth = Auth::Bearer(Sensitive::new("tok-123"));
        let req = build(&config, Method::GET, "/api", &Query::default(), None).unwrap();
        assert_eq!(req.headers()[AUTHORIZATION], "Bearer tok-123");
        assert!(req.headers()[AUTHORIZATION].is_sensitive());
        assert!(!format!("{req:?}").contains("tok-123"));
        assert!(!format!("{config:?}").contains("tok-123"));
    }

    #[test]
    fn basic_auth() {
        let mut config = Config::default();
        config.credentials.auth = Auth::Basic {
            username: "admin".into(),
            password: Sensitive::new("pw"),
        };
        let req = build(&config, Method::GET, "/api", &Query::default(), None).unwrap();
        assert_eq!(req.headers()[AUTHORIZATION], "Basic YWRtaW46cHc=");
        assert!(!format!("{config:?}").contains("pw\""));
    }
}
