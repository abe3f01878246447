//! The one error type of kubewire.

use std::fmt;

use crate::status::Status;

/// Everything that can go wrong between intent and result.
///
/// Server answers keep the server's own words: [`Error::Api`] and
/// [`Error::NotFound`] carry the HTTP status and the decoded [`Status`].
///
/// ```
/// let body = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict",
///   "message":"the object has been modified","code":409}"#;
/// let err = kubewire::request::error_from_response(409, &Default::default(), body);
/// assert_eq!(err.http_status(), Some(409));
/// assert_eq!(err.api().map(|e| e.reason()), Some("Conflict"));
/// match err {
///     kubewire::Error::NotFound(_) => { /* create it */ }
///     kubewire::Error::Api(e) if e.http_status == 409 => { /* refetch, retry */ }
///     other => panic!("{other}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The apiserver answered with a non-2xx status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The named object does not exist (404 naming the object).
    #[error("{0}")]
    NotFound(Box<ApiError>),
    /// A namespace was given for a cluster-scoped kind, or none was given
    /// where one is required (the seed library's `NamespaceError`).
    #[error("namespace error: {0}")]
    Namespace(String),
    /// A status field the caller asked for is absent (the seed library's
    /// `StatusError`).
    #[error("status unavailable: {field} is not set")]
    StatusUnavailable {
        /// The JSON path of the missing field, e.g. `status.podIP`.
        field: String,
    },
    /// A field holds a value of the wrong form (e.g. an IP address field
    /// holding `hostIPValue`).
    #[error("{field} holds {value:?}, expected {expected}")]
    FieldValue {
        /// The JSON path of the field, e.g. `status.hostIP`.
        field: String,
        /// The value found.
        value: String,
        /// What the field should hold.
        expected: String,
    },
    /// The caller passed a value that cannot be sent (bad name, empty
    /// selector, manifest without `kind`, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A command run by exec or attach did not succeed: it exited with a
    /// nonzero `code`, or could not run (`code` is `None`; `reason` and
    /// `message` are the server's).
    #[error("{}", exec_words(*code, reason, message))]
    Exec {
        /// The exit code, when the command ran to an exit.
        code: Option<i32>,
        /// The server's reason (`NonZeroExitCode`, `InternalError`, ...).
        reason: String,
        /// The server's words.
        message: String,
    },
    /// A body could not be decoded into what was expected.
    #[error("cannot decode {expected}: {message}")]
    Decode {
        /// What the decoder was looking for, e.g. `a list (kind *List)`.
        expected: &'static str,
        /// What went wrong, with serde's position where it has one.
        message: String,
    },
    /// One line of a watch stream could not be decoded (the decoder stays
    /// usable for the following lines).
    #[error("watch stream, event at byte offset {offset}: {message}")]
    WatchLine {
        /// Offset of the line's first byte in the stream.
        offset: u64,
        /// What was wrong.
        message: String,
    },
    /// The transport could not talk to the server.
    #[error("transport error ({kind}): {message}")]
    Transport {
        /// What failed.
        kind: TransportErrorKind,
        /// The transport's description.
        message: String,
    },
    /// A wait for a condition ended without it.
    #[error("wait: {0}")]
    Wait(WaitFailure),
    /// Discovery found no such kind in that API version; `near` names
    /// close ones (`apiVersion Kind`), e.g. the same kind in another version.
    #[error("the server has no kind {kind:?} in {api_version}{}", near_text(near))]
    UnknownKind {
        /// The API version asked for.
        api_version: String,
        /// The kind asked for.
        kind: String,
        /// Close matches, best first (at most five).
        near: Vec<String>,
    },
    /// A multi-step protocol could not finish (e.g. a list kept expiring).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The cluster was closed ([`crate::Cluster::close`]); nothing more is
    /// sent through it.
    #[error("the cluster is closed")]
    Closed,
}

fn near_text(near: &[String]) -> String {
    if near.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", near.join(", "))
    }
}

impl Error {
    /// The decoded apiserver error, for [`Error::Api`] and [`Error::NotFound`].
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) | Error::NotFound(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status of an apiserver error.
    pub fn http_status(&self) -> Option<u16> {
        self.api().map(|e| e.http_status)
    }

    pub(crate) fn decode(expected: &'static str, err: impl fmt::Display) -> Error {
        Error::Decode {
            expected,
            message: err.to_string(),
        }
    }
}

/// Why a wait for a condition failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitFailure {
    /// The object was deleted.
    Deleted {
        /// Its name.
        name: String,
    },
    /// A condition the caller said to fail on became `True`.
    Raised {
        /// The condition type.
        condition: String,
        /// Its reason and message, as the server put them.
        reason: String,
    },
    /// The time ran out.
    TimedOut {
        /// How long was waited.
        after: std::time::Duration,
    },
}

impl fmt::Display for WaitFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitFailure::Deleted { name } => write!(f, "{name} was deleted"),
            WaitFailure::Raised { condition, reason } => {
                write!(f, "condition {condition} became True ({reason})")
            }
            WaitFailure::TimedOut { after } => write!(f, "timed out after {after:?}"),
        }
    }
}

/// What kind of transport failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, unreachable, DNS).
    Connect,
    /// TLS failed (unknown CA, expired or mismatched certificate, bad key).
    Tls,
    /// A configured timeout expired.
    Timeout,
    /// The connection broke while talking.
    Io,
    /// The transport was configured with something it cannot use.
    Config,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "connect",
            TransportErrorKind::Tls => "tls",
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::Io => "io",
            TransportErrorKind::Config => "config",
        })
    }
}

/// A non-2xx answer from the apiserver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status code of the response.
    pub http_status: u16,
    /// What the body said.
    pub body: ErrorBody,
    /// The `Retry-After` header, in seconds, when the server sent one.
    pub retry_after: Option<u32>,
}

/// The body of an error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorBody {
    /// The apiserver's structured `Status`.
    Status(Box<Status>),
    /// Anything else, as text (e.g. `404 page not found` from the router).
    Text(String),
}

impl ApiError {
    /// The decoded `Status`, when the body was one.
    pub fn status(&self) -> Option<&Status> {
        match &self.body {
            ErrorBody::Status(s) => Some(s),
            ErrorBody::Text(_) => None,
        }
    }

    /// The `reason` of the Status (`NotFound`, `Conflict`, ...), or `""`.
    pub fn reason(&self) -> &str {
        self.status().map_or("", |s| s.reason.as_str())
    }

    /// The server's message: the Status message or the text body.
    pub fn message(&self) -> &str {
        match &self.body {
            ErrorBody::Status(s) => &s.message,
            ErrorBody::Text(t) => t.trim_end(),
        }
    }

    /// True for a `404` that says "this path is not served here" rather than
    /// "this object is missing": a `text/plain` 404 from the router, or a
    /// Status without details. API-version fallback moves on after these.
    pub fn is_not_served(&self) -> bool {
        self.http_status == 404
            && match &self.body {
                ErrorBody::Text(_) => true,
                ErrorBody::Status(s) => s.details.as_ref().is_none_or(|d| d.is_empty()),
            }
    }

    /// True for `410 Gone` / reason `Expired`: a resourceVersion or continue
    /// token older than the server keeps.
    pub fn is_expired(&self) -> bool {
        self.http_status == 410 || self.status().is_some_and(Status::is_expired)
    }

    /// Seconds to wait before retrying: the `Retry-After` header, else
    /// `details.retryAfterSeconds` of the Status.
    pub fn retry_after_seconds(&self) -> Option<u32> {
        self.retry_after.or_else(|| {
            self.status()
                .and_then(|s| s.details.as_ref())
                .and_then(|d| d.retry_after_seconds)
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.body {
            ErrorBody::Status(s) if !s.reason.is_empty() => write!(
                f,
                "apiserver answered {} {}: {}",
                self.http_status, s.reason, s.message
            ),
            _ => write!(
                f,
                "apiserver answered {}: {}",
                self.http_status,
                self.message()
            ),
        }
    }
}

/// `Result<T, kubewire::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn exec_words(code: Option<i32>, reason: &str, message: &str) -> String {
    match (code, reason.is_empty()) {
        (Some(code), _) => format!("command exited with code {code}: {message}"),
        (None, false) => format!("command failed ({reason}): {message}"),
        (None, true) => format!("command failed: {message}"),
    }
}
