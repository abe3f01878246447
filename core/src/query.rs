//! Query strings: ordered name/value pairs, percent-encoded when rendered.

use crate::segment::push_query;

/// An ordered list of query parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_string(), value.into()));
    }

    pub(crate) fn push_opt(&mut self, name: &str, value: Option<impl ToString>) {
        if let Some(v) = value {
            self.push(name, v.to_string());
        }
    }

    pub(crate) fn push_flag(&mut self, name: &str, on: bool) {
        if on {
            self.push(name, "true");
        }
    }

    pub(crate) fn extend(&mut self, pairs: &[(String, String)]) {
        self.0.extend(pairs.iter().cloned());
    }

    /// `a=1&b=2`, each name and value percent-encoded.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            push_query(&mut out, k);
            out.push('=');
            push_query(&mut out, v);
        }
        out
    }
}
