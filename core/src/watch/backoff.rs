//! Capped exponential backoff with seeded jitter, expressed as durations:
//! the caller adds them to its own `now`.

use std::time::Duration;

use crate::splitmix::SplitMix64;

/// How long to wait between failed attempts.
///
/// The n-th consecutive failure waits `d = min(cap, base * 2^n)` plus a
/// random part of up to `d` again (client-go's jitter factor 1.0): never
/// less than `d`, so a client never retries faster than client-go's
/// reflector would. The random part comes from `seed`, so a run is
/// reproducible. [`Backoff::reset`] starts over.
///
/// ```
/// use std::time::Duration;
/// use kubewire::watch::Backoff;
/// let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30), 7);
/// let first = b.next_delay();
/// assert!(first >= Duration::from_secs(1) && first <= Duration::from_secs(2));
/// for _ in 0..10 { assert!(b.next_delay() <= Duration::from_secs(60)); }
/// b.reset();
/// assert!(b.next_delay() <= Duration::from_secs(2));
/// ```
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
    random: SplitMix64,
}

impl Default for Backoff {
    /// 800 ms doubling up to 30 s, as client-go's reflector (the watcher
    /// starts it over after two minutes without a failure).
    fn default() -> Backoff {
        Backoff::new(
            Duration::from_millis(800),
            Duration::from_secs(30),
            0x6b75_6265_7769_7265,
        )
    }
}

impl Backoff {
    /// A backoff from `base` doubling up to `cap`, jittered from `seed`.
    pub fn new(base: Duration, cap: Duration, seed: u64) -> Backoff {
        Backoff {
            base,
            cap: cap.max(base),
            failures: 0,
            random: SplitMix64::new(seed),
        }
    }

    /// The wait before the next attempt, counting one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX))
            .min(self.cap);
        self.failures = self.failures.saturating_add(1);
        let spread = exp.as_nanos().min(u128::from(u64::MAX)) as u64;
        let jitter = if spread == 0 {
            0
        } else {
            self.random.next_u64() % (spread + 1)
        };
        exp + Duration::from_nanos(jitter)
    }

    /// Forgets past failures (after a success).
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Consecutive failures counted so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}
