//! Reading typed status fields out of an object's JSON: absent fields are
//! `Error::StatusUnavailable`, malformed ones `Error::FieldValue`.

use std::net::IpAddr;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::item::Item;
use crate::time::Timestamp;

/// A JSON value and the dotted path it sits at (for error messages).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields<'a> {
    root: Root<'a>,
    at: &'a str,
}

/// What paths start from: a JSON value, or a whole item (whose members
/// are parsed on demand).
#[derive(Clone, Copy, Debug)]
enum Root<'a> {
    Value(&'a Value),
    Item(&'a Item),
}

impl<'a> Fields<'a> {
    pub(crate) fn new(value: &'a Value, at: &'a str) -> Fields<'a> {
        Fields {
            root: Root::Value(value),
            at,
        }
    }

    /// The fields of a whole item.
    pub(crate) fn of(item: &'a Item) -> Fields<'a> {
        Fields {
            root: Root::Item(item),
            at: "",
        }
    }

    /// The raw value under `path` (dotted, relative), `None` when absent or
    /// null.
    pub(crate) fn get(&self, path: &str) -> Option<&'a Value> {
        let mut parts = path.split('.');
        let first = parts.next()?;
        let mut v = match self.root {
            Root::Value(value) => value.get(first)?,
            Root::Item(item) => item.member(first)?,
        };
        for part in parts {
            v = v.get(part)?;
        }
        (!v.is_null()).then_some(v)
    }

    pub(crate) fn name(&self, path: &str) -> String {
        if self.at.is_empty() {
            path.to_string()
        } else {
            format!("{}.{path}", self.at)
        }
    }

    fn missing(&self, path: &str) -> Error {
        Error::StatusUnavailable {
            field: self.name(path),
        }
    }

    fn wrong(&self, path: &str, v: &Value, expected: &str) -> Error {
        Error::FieldValue {
            field: self.name(path),
            value: match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            expected: expected.to_string(),
        }
    }

    pub(crate) fn value(&self, path: &str) -> Result<&'a Value> {
        self.get(path).ok_or_else(|| self.missing(path))
    }

    pub(crate) fn int(&self, path: &str) -> Result<i64> {
        let v = self.value(path)?;
        v.as_i64().ok_or_else(|| self.wrong(path, v, "an integer"))
    }

    pub(crate) fn boolean(&self, path: &str) -> Result<bool> {
        let v = self.value(path)?;
        v.as_bool().ok_or_else(|| self.wrong(path, v, "a boolean"))
    }

    pub(crate) fn string(&self, path: &str) -> Result<String> {
        let v = self.value(path)?;
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| self.wrong(path, v, "a string"))
    }

    pub(crate) fn time(&self, path: &str) -> Result<Timestamp> {
        let v = self.value(path)?;
        v.as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.wrong(path, v, "an RFC 3339 timestamp"))
    }

    pub(crate) fn ip(&self, path: &str) -> Result<IpAddr> {
        let v = self.value(path)?;
        v.as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.wrong(path, v, "an IPv4 or IPv6 address"))
    }

    /// A string field that must be one of a closed set of values.
    pub(crate) fn choice<T>(
        &self,
        path: &str,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<T> {
        let v = self.value(path)?;
        v.as_str()
            .and_then(parse)
            .ok_or_else(|| self.wrong(path, v, expected))
    }

    pub(crate) fn array(&self, path: &str) -> Result<&'a Vec<Value>> {
        let v = self.value(path)?;
        v.as_array().ok_or_else(|| self.wrong(path, v, "a list"))
    }
}
