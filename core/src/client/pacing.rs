//! A cluster's rate limiter, shared by its clones (see [`RateLimiter`]).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::client::delay::Delay;
use crate::config::Config;
use crate::rate_limit::RateLimiter;

/// The token bucket of [`Config::rate_limit`], or nothing when it is off.
#[derive(Debug)]
pub(crate) struct Pacer(Option<Mutex<RateLimiter>>);

impl Pacer {
    pub(crate) fn new(config: &Config) -> Pacer {
        Pacer(config.rate_limit.map(|l| Mutex::new(RateLimiter::new(l))))
    }

    /// Blocks the thread until the next request may go.
    pub(crate) fn block(&self) {
        let wait = self.wait(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }

    /// Completes when the next request may go (any executor).
    pub(crate) async fn pause(&self) {
        let wait = self.wait(Instant::now());
        if !wait.is_zero() {
            Delay::until(Instant::now() + wait).await;
        }
    }

    /// How long the request about to go at `now` must wait (zero when the
    /// limit is off).
    fn wait(&self, now: Instant) -> Duration {
        self.0.as_ref().map_or(Duration::ZERO, |bucket| {
            bucket
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .acquire(now)
        })
    }
}
