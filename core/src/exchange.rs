//! One request's policy as a sans-IO state machine: fresh credentials,
//! client-side pacing, retries with `Retry-After`, and API-path fallback.
//!
//! The same driving contract as [`crate::watch::Watcher`]: ask
//! [`Exchange::poll_transmit`] for a request to send, report what came back
//! with [`Exchange::handle_response`] (or [`Exchange::handle_failure`]),
//! sleep until [`Exchange::poll_timeout`] when it has nothing to send, and
//! take the outcome from [`Exchange::poll_result`]. Time comes in as
//! arguments; the machine never reads a clock, sleeps or touches a socket.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

pub use crate::rate_limit::{RateLimit, RateLimiter};
pub use crate::retry::RetryPolicy;

use bytes::Bytes;
use http::{Request, Response};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::response;

/// A successful (2xx) answer (or any answer, see
/// [`Exchange::any_status`]) and the API path that gave it.
#[derive(Debug)]
pub struct Answer {
    /// The whole answer.
    pub response: Response<Bytes>,
    /// Which of the exchange's candidate requests was answered (0 without
    /// fallback).
    pub path: usize,
}

/// Where the machine stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The next attempt has not asked the pacer yet.
    Ready,
    /// The pacer reserved a slot at this instant.
    Paced(Instant),
    /// A request is out; waiting for its answer.
    InFlight,
    /// A retry is due at this instant.
    Backoff(Instant),
    /// The outcome is ready or taken.
    Done,
}

/// One logical request's policy: which request to send when, and what its
/// answer means.
///
/// ```
/// use std::time::{Duration, Instant, SystemTime};
/// use kubewire::{exchange::{Exchange, RetryPolicy}};
/// let request = http::Request::get("http://127.0.0.1:8001/api/v1/nodes")
///     .body(bytes::Bytes::new())?;
/// let mut exchange = Exchange::new(request).retry(RetryPolicy::default());
/// let t0 = Instant::now();
/// let sent = exchange.poll_transmit(t0, SystemTime::now()).expect("a request");
/// assert_eq!(sent.uri().path(), "/api/v1/nodes");
/// // Throttled: the exchange asks to wait for Retry-After before sending again.
/// let throttled = http::Response::builder().status(429).header("retry-after", "2")
///     .body(bytes::Bytes::from_static(b"{}"))?;
/// exchange.handle_response(throttled, t0);
/// assert_eq!(exchange.poll_timeout(), Some(t0 + Duration::from_secs(2)));
/// assert!(exchange.poll_transmit(t0 + Duration::from_secs(1), SystemTime::now()).is_none());
/// assert!(exchange.poll_transmit(t0 + Duration::from_secs(2), SystemTime::now()).is_some());
/// let ok = http::Response::builder().status(200).body(bytes::Bytes::from_static(b"{}"))?;
/// exchange.handle_response(ok, t0 + Duration::from_secs(2));
/// assert_eq!(exchange.poll_result().unwrap()?.response.status(), 200);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Exchange {
    candidates: Vec<Request<Bytes>>,
    at: usize,
    retries: u32,
    policy: RetryPolicy,
    pacer: Option<Arc<Mutex<RateLimiter>>>,
    credentials: Option<Arc<Config>>,
    any_status: bool,
    state: State,
    result: Option<Result<Answer>>,
}

impl Exchange {
    /// An exchange for one request: no retries, no pacing, credentials as
    /// the request already carries them, until configured.
    pub fn new(request: Request<Bytes>) -> Exchange {
        Exchange::with_fallback(vec![request])
    }

    /// An exchange that tries `candidates` in order (the same request at
    /// each API path of a resource, newest first), moving on after a
    /// "not served here" 404. An empty list fails at once.
    pub fn with_fallback(candidates: Vec<Request<Bytes>>) -> Exchange {
        let result = candidates
            .is_empty()
            .then(|| Err(Error::Protocol("no API path to try".into())));
        Exchange {
            state: if result.is_some() {
                State::Done
            } else {
                State::Ready
            },
            candidates,
            at: 0,
            retries: 0,
            policy: RetryPolicy::never(),
            pacer: None,
            credentials: None,
            any_status: false,
            result,
        }
    }

    /// Retries per `policy`: 429 for any verb, 503/504 for idempotent ones,
    /// honouring `Retry-After` up to the policy's cap.
    pub fn retry(mut self, policy: RetryPolicy) -> Exchange {
        self.policy = policy;
        self
    }

    /// Takes a token from a shared rate limiter before every attempt.
    pub fn pacing(mut self, limiter: Option<Arc<Mutex<RateLimiter>>>) -> Exchange {
        self.pacer = limiter;
        self
    }

    /// Brings `config`'s changing credentials (token files, exec plugins)
    /// up to date before every attempt and puts the current token on it.
    pub fn credentials(mut self, config: Arc<Config>) -> Exchange {
        self.credentials = Some(config);
        self
    }

    /// Hands back a non-2xx answer (after retries and fallback) as the
    /// result instead of its error, for callers that decide what it means
    /// (discovery, a watch's first answer).
    pub fn any_status(mut self) -> Exchange {
        self.any_status = true;
        self
    }

    /// The request to send now, if any. `now` paces and times retries;
    /// `wall` decides whether expiring credentials must be renewed.
    pub fn poll_transmit(&mut self, now: Instant, wall: SystemTime) -> Option<Request<Bytes>> {
        loop {
            match self.state {
                State::Ready => {
                    let wait = self.pacer.as_ref().map(|p| {
                        p.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .acquire(now)
                    });
                    self.state = State::Paced(now + wait.unwrap_or_default());
                }
                State::Paced(at) if now >= at => return self.transmit(wall),
                State::Backoff(at) if now >= at => self.state = State::Ready,
                State::Paced(_) | State::Backoff(_) | State::InFlight | State::Done => {
                    return None;
                }
            }
        }
    }

    fn transmit(&mut self, wall: SystemTime) -> Option<Request<Bytes>> {
        let mut request = self.candidates[self.at].clone();
        if let Some(config) = &self.credentials
            && config.credentials.is_changing()
        {
            let fresh = config
                .credentials
                .refresh(wall)
                .and_then(|()| config.credentials.authorization());
            match fresh {
                Ok(Some(value)) => {
                    request
                        .headers_mut()
                        .insert(http::header::AUTHORIZATION, value);
                }
                Ok(None) => {}
                Err(e) => {
                    self.finish(Err(e));
                    return None;
                }
            }
        }
        self.state = State::InFlight;
        Some(request)
    }

    /// When the machine wants to be asked again (pacing, or a retry's
    /// backoff).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Paced(at) | State::Backoff(at) => Some(at),
            _ => None,
        }
    }

    /// The whole answer to the request last transmitted, at `now`.
    pub fn handle_response(&mut self, response: Response<Bytes>, now: Instant) {
        if self.state != State::InFlight {
            return;
        }
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            let path = self.at;
            self.finish(Ok(Answer { response, path }));
            return;
        }
        let error = response::error_from_response(status, response.headers(), response.body());
        let api = error.api();
        if api.is_some_and(|e| e.is_not_served()) && self.at + 1 < self.candidates.len() {
            self.at += 1;
            self.retries = 0;
            self.state = State::Ready;
            return;
        }
        let method = self.candidates[self.at].method();
        match api.and_then(|e| self.policy.delay(method, e, self.retries)) {
            Some(wait) => {
                self.retries += 1;
                self.state = State::Backoff(now + wait);
            }
            None if self.any_status => {
                let path = self.at;
                self.finish(Ok(Answer { response, path }));
            }
            None => self.finish(Err(error)),
        }
    }

    /// The request last transmitted could not be sent or its answer not
    /// read: the exchange fails with `error`.
    pub fn handle_failure(&mut self, error: Error) {
        if self.state == State::InFlight {
            self.finish(Err(error));
        }
    }

    fn finish(&mut self, result: Result<Answer>) {
        self.state = State::Done;
        self.result = Some(result);
    }

    /// The outcome, once: the 2xx answer, or the error (the server's, with
    /// its `Status`, after any retries and fallback).
    pub fn poll_result(&mut self) -> Option<Result<Answer>> {
        self.result.take()
    }

    /// How many retries were made so far.
    pub fn retries(&self) -> u32 {
        self.retries
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests start from real instants and files
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::rate_limit::RateLimit;

    fn get(path: &str) -> Request<Bytes> {
        Request::get(format!("http://127.0.0.1:8001{path}"))
            .body(Bytes::new())
            .expect("request")
    }

    fn post(path: &str) -> Request<Bytes> {
        Request::post(format!("http://127.0.0.1:8001{path}"))
            .body(Bytes::new())
            .expect("request")
    }

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Bytes> {
        let mut b = Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Bytes::copy_from_slice(body.as_bytes()))
            .expect("response")
    }

    const WALL: SystemTime = SystemTime::UNIX_EPOCH;

    #[test]
    fn a_2xx_answer_is_the_result() {
        let mut ex = Exchange::new(get("/api"));
        let t0 = Instant::now();
        assert!(ex.poll_transmit(t0, WALL).is_some());
        assert!(
            ex.poll_transmit(t0, WALL).is_none(),
            "one request in flight"
        );
        ex.handle_response(answer(200, &[], "{}"), t0);
        assert_eq!(ex.poll_result().unwrap().unwrap().path, 0);
        assert!(ex.poll_result().is_none(), "taken once");
    }

    #[test]
    fn retry_after_is_honoured_and_bounded() {
        let mut ex = Exchange::new(get("/api/v1/nodes")).retry(RetryPolicy::default());
        let t0 = Instant::now();
        let mut now = t0;
        for n in 0..3 {
            assert!(ex.poll_transmit(now, WALL).is_some(), "attempt {n}");
            ex.handle_response(answer(429, &[("retry-after", "7")], "{}"), now);
            let at = ex.poll_timeout().expect("a backoff");
            assert_eq!(at, now + Duration::from_secs(7));
            assert!(
                ex.poll_transmit(at - Duration::from_millis(1), WALL)
                    .is_none()
            );
            now = at;
        }
        assert!(ex.poll_transmit(now, WALL).is_some(), "the fourth attempt");
        ex.handle_response(answer(429, &[("retry-after", "7")], "{}"), now);
        let err = ex.poll_result().expect("gave up").unwrap_err();
        assert_eq!(err.http_status(), Some(429));
        assert_eq!(ex.retries(), 3);
    }

    #[test]
    fn a_long_retry_after_is_capped() {
        let mut ex = Exchange::new(get("/api")).retry(RetryPolicy::default());
        let t0 = Instant::now();
        ex.poll_transmit(t0, WALL);
        ex.handle_response(answer(429, &[("retry-after", "3600")], "{}"), t0);
        assert_eq!(ex.poll_timeout(), Some(t0 + Duration::from_secs(30)));
    }

    #[test]
    fn unavailable_is_retried_for_reads_only() {
        let t0 = Instant::now();
        let mut read = Exchange::new(get("/api")).retry(RetryPolicy::default());
        read.poll_transmit(t0, WALL);
        read.handle_response(answer(503, &[], "{}"), t0);
        assert!(read.poll_timeout().is_some());
        let mut create = Exchange::new(post("/api")).retry(RetryPolicy::default());
        create.poll_transmit(t0, WALL);
        create.handle_response(answer(503, &[], "{}"), t0);
        assert_eq!(
            create.poll_result().unwrap().unwrap_err().http_status(),
            Some(503)
        );
        let mut throttled = Exchange::new(post("/api")).retry(RetryPolicy::default());
        throttled.poll_transmit(t0, WALL);
        throttled.handle_response(answer(429, &[], "{}"), t0);
        assert_eq!(throttled.poll_timeout(), Some(t0 + Duration::from_secs(1)));
    }

    #[test]
    fn a_not_served_404_falls_back_and_an_object_404_does_not() {
        let t0 = Instant::now();
        let mut ex = Exchange::with_fallback(vec![
            get("/apis/apps/v2/deployments"),
            get("/apis/apps/v1/deployments"),
        ]);
        let first = ex.poll_transmit(t0, WALL).unwrap();
        assert_eq!(first.uri().path(), "/apis/apps/v2/deployments");
        ex.handle_response(
            answer(404, &[("content-type", "text/plain")], "404 page not found"),
            t0,
        );
        let second = ex.poll_transmit(t0, WALL).unwrap();
        assert_eq!(second.uri().path(), "/apis/apps/v1/deployments");
        ex.handle_response(answer(200, &[], "{}"), t0);
        assert_eq!(ex.poll_result().unwrap().unwrap().path, 1);

        let mut named = Exchange::with_fallback(vec![get("/a/x"), get("/b/x")]);
        named.poll_transmit(t0, WALL);
        let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"details":{"name":"x","kind":"pods"},"message":"pods \"x\" not found"}"#;
        named.handle_response(answer(404, &[], body), t0);
        assert!(matches!(
            named.poll_result().unwrap(),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn an_empty_candidate_list_fails() {
        let mut ex = Exchange::with_fallback(Vec::new());
        assert!(ex.poll_transmit(Instant::now(), WALL).is_none());
        assert!(matches!(ex.poll_result(), Some(Err(Error::Protocol(_)))));
    }

    #[test]
    fn pacing_is_a_wait_until() {
        let limiter = Arc::new(Mutex::new(RateLimiter::new(
            RateLimit::new(2.0, 1).expect("valid"),
        )));
        let t0 = Instant::now();
        let mut a = Exchange::new(get("/a")).pacing(Some(limiter.clone()));
        let mut b = Exchange::new(get("/b")).pacing(Some(limiter));
        assert!(a.poll_transmit(t0, WALL).is_some(), "the burst");
        assert!(b.poll_transmit(t0, WALL).is_none(), "paced");
        assert_eq!(b.poll_timeout(), Some(t0 + Duration::from_millis(500)));
        assert!(
            b.poll_transmit(t0 + Duration::from_millis(499), WALL)
                .is_none()
        );
        assert!(
            b.poll_transmit(t0 + Duration::from_millis(500), WALL)
                .is_some()
        );
    }

    #[test]
    fn a_transport_failure_ends_the_exchange() {
        let mut ex = Exchange::new(get("/a")).retry(RetryPolicy::default());
        ex.poll_transmit(Instant::now(), WALL);
        ex.handle_failure(Error::Protocol("cut".into()));
        assert!(matches!(ex.poll_result(), Some(Err(Error::Protocol(_)))));
    }

    #[test]
    fn static_credentials_are_left_as_built() {
        let mut config = Config::default();
        config.credentials.auth =
            crate::config::Auth::Bearer(crate::sensitive::Sensitive::new("tok"));
        let mut ex = Exchange::new(get("/a")).credentials(Arc::new(config));
        let sent = ex.poll_transmit(Instant::now(), WALL).unwrap();
        assert!(sent.headers().get(http::header::AUTHORIZATION).is_none());
    }
}
