//! The apiserver's `Status` object: the body of every structured error answer.

use serde::{Deserialize, Serialize};

/// A Kubernetes `meta/v1` `Status`, as the apiserver sends it with an error
/// (and with a few successful answers, such as a dry-run delete).
///
/// ```
/// let body = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
///   "message":"pods \"x\" not found","reason":"NotFound",
///   "details":{"name":"x","kind":"pods"},"code":404}"#;
/// let status: kubewire::model::Status = serde_json::from_slice(body).unwrap();
/// assert_eq!(status.reason, "NotFound");
/// assert_eq!(status.details.as_ref().unwrap().name, "x");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `Success` or `Failure`.
    #[serde(default)]
    pub status: String,
    /// A human-readable description of the error.
    #[serde(default)]
    pub message: String,
    /// A machine-readable reason such as `NotFound`, `AlreadyExists`,
    /// `Conflict`, `Invalid`, `Expired`, `TooManyRequests`.
    #[serde(default)]
    pub reason: String,
    /// Extended data about the error, when the server gave any.
    #[serde(default)]
    pub details: Option<StatusDetails>,
    /// The HTTP status code the server meant (0 when absent).
    #[serde(default)]
    pub code: u16,
    /// List metadata; a 410 on a stale `continue` token carries a new,
    /// inconsistent token here.
    #[serde(default)]
    pub metadata: StatusListMeta,
}

/// The `metadata` of a [`Status`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusListMeta {
    /// A continue token offered by the server (see [`Status::metadata`]).
    #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
    /// The resource version, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// `Status.details`: which object the status is about, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    /// The name of the object, when the error names one.
    #[serde(default)]
    pub name: String,
    /// The API group of the object.
    #[serde(default)]
    pub group: String,
    /// The kind (often the plural resource name) of the object.
    #[serde(default)]
    pub kind: String,
    /// The object's uid, when known.
    #[serde(default)]
    pub uid: String,
    /// Individual causes, e.g. one per invalid field.
    #[serde(default)]
    pub causes: Vec<StatusCause>,
    /// Seconds the client should wait before retrying (with 429 and 5xx).
    #[serde(default)]
    pub retry_after_seconds: Option<u32>,
}

impl StatusDetails {
    /// True when the details name no object at all: the server's way of
    /// saying "this path is not served" rather than "this object is missing".
    pub fn is_empty(&self) -> bool {
        self.name.is_empty() && self.kind.is_empty() && self.group.is_empty()
    }
}

/// One cause in [`StatusDetails::causes`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCause {
    /// A machine-readable cause, e.g. `FieldValueInvalid`.
    #[serde(default)]
    pub reason: String,
    /// A human-readable description.
    #[serde(default)]
    pub message: String,
    /// The field path the cause is about, e.g. `metadata.name`.
    #[serde(default)]
    pub field: String,
}

impl Status {
    /// True when the status reports `410 Gone` / reason `Expired` or `Gone`:
    /// a resourceVersion or continue token older than the server's history.
    pub fn is_expired(&self) -> bool {
        self.code == 410 || self.reason == "Expired" || self.reason == "Gone"
    }

    /// Decodes the object of a watch `ERROR` event leniently: a Status, or
    /// an object with a `reason` or a `code` (a number, or a number in a
    /// string as some proxies send it). `None` when it is neither.
    pub(crate) fn from_error_object(bytes: &[u8]) -> Option<Status> {
        if let Some(status) = Status::from_body(bytes) {
            return Some(status);
        }
        let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let text = |k: &str| {
            value
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let code = match value.get("code") {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(0);
        let reason = text("reason");
        if code == 0 && reason.is_empty() {
            return None;
        }
        Some(Status {
            status: text("status"),
            message: text("message"),
            reason,
            code,
            ..Status::default()
        })
    }

    /// Decodes `bytes` as a Status when they are one (`"kind":"Status"`).
    pub(crate) fn from_body(bytes: &[u8]) -> Option<Status> {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default)]
            kind: String,
        }
        let probe: Probe = serde_json::from_slice(bytes).ok()?;
        if probe.kind != "Status" {
            return None;
        }
        serde_json::from_slice(bytes).ok()
    }
}
