//! The timing of a leader election.

use std::time::Duration;

use crate::error::{Error, Result};

/// How long a lease lasts and how often it is renewed, with client-go's
/// defaults and rules.
///
/// ```
/// use std::time::Duration;
/// let mut params = kubewire::leader::LeaseParams::default();
/// assert_eq!(params.lease_duration, Duration::from_secs(15));
/// params.renew_deadline = Duration::from_secs(20);     // not below the lease duration
/// assert!(params.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LeaseParams {
    /// How long others wait, after last seeing the lease change, before
    /// they may take it (the Lease's `leaseDurationSeconds`). 15 s.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up
    /// leadership. Shorter than `lease_duration`. 10 s.
    pub renew_deadline: Duration,
    /// How long between attempts. 2 s.
    pub retry_period: Duration,
    /// A candidate waits `retry_period` times up to `1 + jitter` between
    /// attempts, so contenders spread out. 1.2.
    pub jitter: f64,
    /// Release the lease when leadership is given up on purpose (the
    /// holder writes an empty holder and a 1 s duration, so the next
    /// contender need not wait out the lease). True.
    pub release_on_cancel: bool,
    /// The Lease's namespace for `Cluster::lead`; the configuration's
    /// default namespace when `None`.
    pub namespace: Option<String>,
}

impl Default for LeaseParams {
    fn default() -> LeaseParams {
        LeaseParams {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            jitter: 1.2,
            release_on_cancel: true,
            namespace: None,
        }
    }
}

impl LeaseParams {
    /// Checks client-go's rules: lease duration > renew deadline >
    /// jitter × retry period, every duration positive, whole seconds for
    /// the lease duration.
    pub fn validate(&self) -> Result<()> {
        let bad = |why: String| Err(Error::InvalidInput(format!("lease parameters: {why}")));
        if self.lease_duration.is_zero()
            || self.renew_deadline.is_zero()
            || self.retry_period.is_zero()
        {
            return bad("every duration must be positive".into());
        }
        if self.lease_duration.subsec_nanos() != 0 {
            return bad("the lease duration is written in whole seconds".into());
        }
        if self.lease_duration <= self.renew_deadline {
            return bad(format!(
                "the lease duration ({:?}) must be longer than the renew deadline ({:?})",
                self.lease_duration, self.renew_deadline
            ));
        }
        if self.jitter.is_nan()
            || self.jitter < 0.0
            || self.renew_deadline.as_secs_f64()
                <= self.jitter.max(1.0) * self.retry_period.as_secs_f64()
        {
            return bad(format!(
                "the renew deadline ({:?}) must be longer than jitter ({}) × retry period ({:?})",
                self.renew_deadline, self.jitter, self.retry_period
            ));
        }
        Ok(())
    }
}
