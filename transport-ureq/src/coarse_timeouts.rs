//! A step in the connection chain that rounds each I/O timeout up to about
//! 1/32 of itself, so that the socket's timeout keeps its value from one
//! read or write to the next.
//!
//! ureq hands the TCP transport the time left in the current phase, a
//! value that shrinks by the nanosecond, and the transport sets the
//! socket's timeout (one `setsockopt`) whenever the value differs from the
//! last: three system calls for a fetch on a pooled connection. Rounded, a
//! request timeout of 120 s is 120.3 s for every request on the connection
//! until less than that is left, and a timeout fires at most 1/32 of its
//! length late (never early; a spent one still fires at once).

use std::fmt;

use ureq::unversioned::transport::time::Duration;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// Wraps the chained transport so that its timeouts are rounded.
#[derive(Debug)]
pub(crate) struct CoarseTimeouts;

impl<In: Transport> Connector<In> for CoarseTimeouts {
    type Out = Coarse<In>;

    fn connect(
        &self,
        _: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(Coarse))
    }
}

/// A transport whose timeouts are rounded up (see the module).
pub(crate) struct Coarse<In>(In);

impl<In: Transport> fmt::Debug for Coarse<In> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Coarse").field(&self.0).finish()
    }
}

impl<In: Transport> Transport for Coarse<In> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.0.transmit_output(amount, coarse(timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.0.await_input(coarse(timeout))
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

/// `timeout` with its time left (and per-read and per-write limits)
/// rounded up.
fn coarse(mut timeout: NextTimeout) -> NextTimeout {
    timeout.after = round(timeout.after);
    timeout.per_read = timeout.per_read.map(round);
    timeout.per_write = timeout.per_write.map(round);
    timeout
}

/// ureq's duration, rounded up when it is one.
fn round(d: Duration) -> Duration {
    match d {
        Duration::Exact(d) => Duration::Exact(round_up(d)),
        Duration::NotHappening => Duration::NotHappening,
    }
}

/// Under a millisecond: as it is. Otherwise rounded up to a multiple of
/// its highest power of two of nanoseconds divided by 32.
fn round_up(d: std::time::Duration) -> std::time::Duration {
    let nanos = d.as_nanos();
    if nanos < 1_000_000 {
        return d;
    }
    let step = 1u128 << (127 - nanos.leading_zeros() - 5);
    let rounded = nanos.div_ceil(step) * step;
    u64::try_from(rounded).map_or(d, std::time::Duration::from_nanos)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::round_up;

    #[test]
    fn time_left_in_a_phase_keeps_one_value_and_is_never_cut() {
        // A 120 s request timeout, a little of it spent, then more.
        let full = round_up(Duration::from_secs(120));
        for spent_micros in [0, 15, 80, 2_000, 50_000] {
            let left = Duration::from_secs(120) - Duration::from_micros(spent_micros);
            assert_eq!(round_up(left), full, "{left:?}");
        }
        assert!(full >= Duration::from_secs(120));
        assert!(full - Duration::from_secs(120) <= Duration::from_secs(120) / 32);
    }

    #[test]
    fn short_and_spent_timeouts_stay_close() {
        assert_eq!(round_up(Duration::ZERO), Duration::ZERO);
        assert_eq!(
            round_up(Duration::from_micros(999)),
            Duration::from_micros(999)
        );
        for millis in [1, 7, 200, 999, 5_000, 86_400_000] {
            let d = Duration::from_millis(millis);
            let r = round_up(d);
            assert!(r >= d && r - d <= d / 32, "{d:?} -> {r:?}");
        }
    }
}
