//! When to send a request again: 429 for any verb, 503/504 for idempotent
//! ones, honouring `Retry-After`, a bounded number of times.

use std::time::Duration;

use http::Method;

use crate::error::ApiError;

/// The retry policy. Sans-IO: it says how long to wait; the caller waits.
///
/// ```
/// use std::time::Duration;
/// use kubewire::exchange::RetryPolicy;
/// let policy = RetryPolicy::default();
/// let throttled = kubewire::request::error_from_response(429, &Default::default(), b"{}");
/// let api = throttled.api().unwrap();
/// assert_eq!(policy.delay(&http::Method::POST, api, 0), Some(Duration::from_secs(1)));
/// assert_eq!(policy.delay(&http::Method::POST, api, 3), None); // bounded
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The wait when the server gives no `Retry-After`.
    pub default_delay: Duration,
    /// The longest wait honoured.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            default_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn never() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// How long to wait before retrying a request that got `error` after
    /// `retries_done` retries; `None` when it must not be retried.
    pub fn delay(&self, method: &Method, error: &ApiError, retries_done: u32) -> Option<Duration> {
        if retries_done >= self.max_retries {
            return None;
        }
        let idempotent = matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        let retryable = match error.http_status {
            429 => true,
            503 | 504 => idempotent,
            _ => false,
        };
        if !retryable {
            return None;
        }
        let wait = error
            .retry_after_seconds()
            .map_or(self.default_delay, |s| Duration::from_secs(u64::from(s)));
        Some(wait.min(self.max_delay))
    }
}
