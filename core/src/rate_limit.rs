//! Client-side rate limiting (kubernetes_lite's `qps`/`burst`): a token
//! bucket state machine. Time is passed in; nothing here sleeps.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How fast a cluster's requests may go: `qps` on average, up to `burst`
/// at once. Off unless set in [`crate::Config::rate_limit`].
///
/// ```
/// let limit = kubewire::exchange::RateLimit::new(5.0, 10)?;
/// assert_eq!((limit.qps(), limit.burst()), (5.0, 10));
/// assert!(kubewire::exchange::RateLimit::new(0.0, 1).is_err());
/// # Ok::<(), kubewire::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    qps: f64,
    burst: u32,
}

impl RateLimit {
    /// A limit of `qps` requests per second on average (finite, above 0)
    /// and `burst` at once (at least 1).
    pub fn new(qps: f64, burst: u32) -> Result<RateLimit> {
        if !(qps.is_finite() && qps > 0.0) {
            return Err(Error::InvalidInput(format!(
                "qps must be a finite number above 0 (got {qps})"
            )));
        }
        if burst == 0 {
            return Err(Error::InvalidInput("burst must be at least 1".into()));
        }
        Ok(RateLimit { qps, burst })
    }

    /// Requests per second on average.
    pub fn qps(&self) -> f64 {
        self.qps
    }

    /// Requests allowed at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }
}

impl PartialEq for RateLimit {
    fn eq(&self, other: &RateLimit) -> bool {
        // qps is finite and positive: bitwise equality is numeric equality.
        self.qps.to_bits() == other.qps.to_bits() && self.burst == other.burst
    }
}

impl Eq for RateLimit {}

/// The token bucket: starts full (`burst` tokens), refills at `qps`. Each
/// request takes a token; when none is left the request is told how long
/// to wait, and the token is reserved for it (so concurrent callers queue
/// fairly instead of all waking at once).
///
/// ```
/// use std::time::{Duration, Instant};
/// use kubewire::{exchange::{RateLimit, RateLimiter}};
/// let mut bucket = RateLimiter::new(RateLimit::new(2.0, 2)?);
/// let t0 = Instant::now();
/// assert_eq!(bucket.acquire(t0), Duration::ZERO);
/// assert_eq!(bucket.acquire(t0), Duration::ZERO);
/// assert_eq!(bucket.acquire(t0), Duration::from_millis(500)); // third: wait
/// assert_eq!(bucket.acquire(t0), Duration::from_millis(1000)); // queued behind
/// assert_eq!(bucket.acquire(t0 + Duration::from_secs(5)), Duration::ZERO);
/// # Ok::<(), kubewire::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    tokens: f64,
    last: Option<Instant>,
}

impl RateLimiter {
    /// A full bucket.
    pub fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit,
            tokens: f64::from(limit.burst),
            last: None,
        }
    }

    /// Takes a token at `now` and returns how long to wait before sending
    /// (zero: send now). Times earlier than one already seen count as that
    /// one.
    pub fn acquire(&mut self, now: Instant) -> Duration {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.limit.qps).min(f64::from(self.limit.burst));
        }
        self.last = Some(self.last.map_or(now, |last| last.max(now)));
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.limit.qps)
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests start from real instants and files
mod tests {
    use super::*;

    fn bucket(qps: f64, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimit::new(qps, burst).expect("valid"))
    }

    #[test]
    fn a_steady_caller_at_the_rate_never_waits() {
        let mut b = bucket(10.0, 1);
        let t0 = Instant::now();
        for i in 0..100 {
            assert_eq!(
                b.acquire(t0 + Duration::from_millis(100 * i)),
                Duration::ZERO
            );
        }
    }

    #[test]
    fn refill_is_capped_at_burst() {
        let mut b = bucket(1.0, 3);
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(3600);
        b.acquire(t0);
        for _ in 0..3 {
            assert_eq!(b.acquire(later), Duration::ZERO);
        }
        assert_eq!(b.acquire(later), Duration::from_secs(1));
    }

    #[test]
    fn fractional_qps_spaces_requests_out() {
        let mut b = bucket(0.5, 1);
        let t0 = Instant::now();
        assert_eq!(b.acquire(t0), Duration::ZERO);
        assert_eq!(b.acquire(t0), Duration::from_secs(2));
        // Sent after its wait: the next one waits a full period again.
        assert_eq!(
            b.acquire(t0 + Duration::from_secs(2)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn time_going_backwards_gives_no_tokens() {
        let mut b = bucket(1.0, 1);
        let t0 = Instant::now() + Duration::from_secs(10);
        b.acquire(t0);
        assert_eq!(
            b.acquire(t0 - Duration::from_secs(5)),
            Duration::from_secs(1)
        );
    }
}
