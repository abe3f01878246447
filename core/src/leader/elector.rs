//! The leader-election state machine: client-go's `LeaderElector` over a
//! `LeaseLock`, sans IO. The caller sends the requests it hands out, feeds
//! back the answers, and gives it the time.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::Request;
use serde_json::Value;

use crate::endpoint::{Endpoint, Scope};
use crate::error::{Error, Result};
use crate::leader::{LeaseParams, LeaseRecord};
use crate::params::{GetParams, WriteParams};
use crate::response::error_from_response;
use crate::splitmix::SplitMix64;
use crate::time::Timestamp;

/// What the elector tells its caller.
#[derive(Debug)]
#[non_exhaustive]
pub enum LeaderEvent {
    /// This contender now leads: start working.
    BecameLeader,
    /// This contender no longer leads (renewals failed until the renew
    /// deadline, another holder was seen, or leadership was released):
    /// stop working at once.
    LostLeadership,
    /// The lease names a new holder (this contender included).
    NewLeader(String),
    /// An attempt failed (the elector tries again after the retry
    /// period); for logs.
    Failed(Error),
}

/// The Lease as last seen, and when it last changed on this clock.
#[derive(Debug)]
struct Observed {
    record: LeaseRecord,
    lease: Value,
    /// When this contender first saw `record` (client-go's
    /// `observedTime`): expiry is judged from it, never from the holder's
    /// timestamps, so clock skew between contenders does not matter.
    at: Instant,
}

impl Observed {
    /// When the lease expires by this contender's clock: its duration after
    /// the contender saw it change.
    fn expires(&self) -> Instant {
        self.at + Duration::from_secs(self.record.duration_seconds.max(0) as u64)
    }
}

/// Since when this contender leads, and when its last successful write
/// was sent.
#[derive(Debug, Clone, Copy)]
struct Leading {
    renewed: Instant,
}

/// The request in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flight {
    Get,
    Create { sent: Instant },
    Update { sent: Instant, optimistic: bool },
    Release,
}

/// What the current attempt does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Nothing until the next attempt.
    Wait,
    Get,
    Create,
    /// Take or renew the lease last seen.
    Update,
}

/// Leader election on one `coordination.k8s.io/v1` Lease, with client-go's
/// rules:
///
/// - A candidate tries every `retry_period` (jittered). It takes the
///   lease when it does not exist, is released (empty holder), or has not
///   changed for `lease_duration` *as this contender observed it*.
/// - The leader renews every `retry_period`, first optimistically (a `PUT`
///   of the Lease it last wrote), then by reading it again; it stops
///   leading when no renewal succeeded for `renew_deadline`, counted from
///   the *sending* of its last successful write.
/// - Every write carries the Lease's `resourceVersion`: of two contenders
///   writing the same version, one gets `409 Conflict`.
/// - [`LeaderElector::release`] gives the lease up (empty holder, 1 s).
///
/// Drive it like the watcher:
///
/// ```text
/// loop {
///     while let Some(event) = elector.poll_event() { /* start or stop work */ }
///     if let Some(request) = elector.poll_transmit(now, wall_clock) {
///         match send(request) { Ok(r) => elector.handle_response(now, r),
///                               Err(e) => elector.handle_failure(now, e) }
///         continue;
///     }
///     sleep_until(elector.poll_timeout()); elector.handle_timeout(now);
/// }
/// ```
#[derive(Debug)]
pub struct LeaderElector {
    endpoint: Endpoint,
    name: String,
    identity: String,
    params: LeaseParams,
    rng: SplitMix64,
    observed: Option<Observed>,
    leading: Option<Leading>,
    flight: Option<Flight>,
    next: Next,
    next_attempt: Option<Instant>,
    events: VecDeque<LeaderEvent>,
    reported_holder: String,
    /// No more attempts: leadership is being given up.
    releasing: bool,
    /// The release write is still to be sent.
    release_due: bool,
    done: bool,
}

impl LeaderElector {
    /// An elector for Lease `name` in `endpoint`'s namespace (an endpoint
    /// of `coordination.k8s.io/v1` leases), contending as `identity`.
    /// `seed` drives the jitter.
    pub fn new(
        endpoint: Endpoint,
        name: &str,
        identity: &str,
        params: LeaseParams,
        seed: u64,
    ) -> Result<LeaderElector> {
        params.validate()?;
        if identity.is_empty() {
            return Err(Error::InvalidInput(
                "a leader election needs a non-empty identity".into(),
            ));
        }
        if !matches!(endpoint.scope(), Scope::Namespace(_)) {
            return Err(Error::InvalidInput(
                "a Lease lives in a namespace: give the leases endpoint one".into(),
            ));
        }
        endpoint.object_path(name, None)?;
        Ok(LeaderElector {
            endpoint,
            name: name.to_string(),
            identity: identity.to_string(),
            params,
            rng: SplitMix64::new(seed),
            observed: None,
            leading: None,
            flight: None,
            next: Next::Wait,
            next_attempt: None,
            events: VecDeque::new(),
            reported_holder: String::new(),
            releasing: false,
            release_due: false,
            done: false,
        })
    }

    /// This contender's identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The holder the Lease named when last seen (empty: nobody).
    pub fn holder(&self) -> Option<&str> {
        self.observed.as_ref().map(|o| o.record.holder.as_str())
    }

    /// True while this contender may act as leader at `now`: it leads and
    /// its renew deadline has not passed (even if the caller has not
    /// called in since: a paused process is no longer leader when it wakes).
    pub fn is_leader(&self, now: Instant) -> bool {
        self.leader_until().is_some_and(|until| now < until)
    }

    /// Until when this contender leads, unless it renews.
    pub fn leader_until(&self) -> Option<Instant> {
        self.leading.map(|l| l.renewed + self.params.renew_deadline)
    }

    /// True once the elector has nothing more to do (released).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next event for the caller.
    pub fn poll_event(&mut self) -> Option<LeaderEvent> {
        self.events.pop_front()
    }

    /// When the elector next has something to do: an attempt, or the end
    /// of leadership. `None` while a request is in flight (and no deadline
    /// runs) or when done.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.done {
            return None;
        }
        let attempt = match (self.flight, self.next) {
            (None, Next::Wait) => self.next_attempt,
            _ => None,
        };
        match (attempt, self.leader_until()) {
            (Some(a), Some(l)) => Some(a.min(l)),
            (a, l) => a.or(l),
        }
    }

    /// The time passed: ends leadership whose deadline is over.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.check_deadline(now);
    }

    /// Tells the elector what a read of the Lease elsewhere (a watch, a
    /// list) showed: it counts as seeing the lease, like its own reads.
    pub fn observe(&mut self, now: Instant, lease: &Value) -> Result<()> {
        let record = LeaseRecord::from_lease(lease)?;
        self.see(now, record, lease.clone());
        Ok(())
    }

    /// Gives leadership up: when leading, [`LeaderEvent::LostLeadership`]
    /// comes at once and, with `release_on_cancel`, one more request
    /// releases the lease; then the elector is done.
    pub fn release(&mut self, now: Instant) {
        self.check_deadline(now);
        if self.releasing || self.done {
            return;
        }
        self.releasing = true;
        let leading = self.leading.take().is_some();
        if leading {
            self.events.push_back(LeaderEvent::LostLeadership);
        }
        self.release_due = leading && self.params.release_on_cancel && self.observed.is_some();
        if !self.release_due && self.flight.is_none() {
            self.done = true;
        }
    }

    /// The next request, when one is due at `now`; `wall` is the clock the
    /// Lease's times are written from.
    pub fn poll_transmit(&mut self, now: Instant, wall: SystemTime) -> Option<Request<Bytes>> {
        self.check_deadline(now);
        if self.done || self.flight.is_some() {
            return None;
        }
        let micro = Timestamp::from_system_time(wall).micro_time();
        if self.releasing {
            if !std::mem::take(&mut self.release_due) {
                self.done = true;
                return None;
            }
            let record = LeaseRecord {
                holder: String::new(),
                duration_seconds: 1,
                acquire_time: Some(micro.clone()),
                renew_time: Some(micro),
                transitions: self.observed.as_ref()?.record.transitions,
            };
            return self.write_over(record, Flight::Release);
        }
        if self.next == Next::Wait {
            if self.next_attempt.is_some_and(|at| now < at) {
                return None;
            }
            // A leader whose lease is still valid renews optimistically.
            let valid = self.observed.as_ref().is_some_and(|o| now < o.expires());
            if self.leading.is_some() && valid {
                let record = self.record_for(&self.observed.as_ref()?.record, &micro);
                return self.write_over(
                    record,
                    Flight::Update {
                        sent: now,
                        optimistic: true,
                    },
                );
            }
            self.next = Next::Get;
        }
        match self.next {
            Next::Get => {
                let request = self.endpoint.get(&self.name, &GetParams::default());
                self.sent(request, Flight::Get)
            }
            Next::Create => {
                let record = LeaseRecord {
                    holder: self.identity.clone(),
                    duration_seconds: self.params.lease_duration.as_secs() as i64,
                    acquire_time: Some(micro.clone()),
                    renew_time: Some(micro),
                    transitions: 0,
                };
                let namespace = match self.endpoint.scope() {
                    Scope::Namespace(ns) => ns.clone(),
                    _ => String::new(),
                };
                let lease = record.new_lease(&namespace, &self.name);
                let request = self.endpoint.create(&lease, &WriteParams::default());
                self.sent(request, Flight::Create { sent: now })
            }
            Next::Update => {
                let record = self.record_for(&self.observed.as_ref()?.record, &micro);
                self.write_over(
                    record,
                    Flight::Update {
                        sent: now,
                        optimistic: false,
                    },
                )
            }
            Next::Wait => None,
        }
    }

    /// The answer to the request in flight.
    pub fn handle_response(&mut self, now: Instant, response: http::Response<Bytes>) {
        self.check_deadline(now);
        let Some(flight) = self.flight.take() else {
            return;
        };
        let status = response.status().as_u16();
        let ok = (200..300).contains(&status);
        let lease = if ok {
            serde_json::from_slice::<Value>(response.body())
                .map_err(|e| Error::decode("a Lease", e))
                .and_then(|v| LeaseRecord::from_lease(&v).map(|r| (r, v)))
        } else {
            Err(error_from_response(
                status,
                response.headers(),
                response.body(),
            ))
        };
        match (flight, lease) {
            (Flight::Release, _) => self.done = true,
            (Flight::Get, Err(e)) if e.api().is_some_and(|a| a.http_status == 404) => {
                self.next = Next::Create
            }
            (Flight::Get, Ok((record, lease))) => self.decide(now, record, lease),
            (Flight::Create { sent } | Flight::Update { sent, .. }, Ok((record, lease))) => {
                self.see(now, record, lease);
                self.succeeded(now, sent);
            }
            // The lease changed since this leader wrote it: read it again.
            (
                Flight::Update {
                    optimistic: true, ..
                },
                Err(_),
            ) => self.next = Next::Get,
            (_, Err(e)) => self.attempt_failed(now, Some(e)),
        }
        if self.releasing && !self.release_due && self.flight.is_none() {
            self.done = true;
        }
    }

    /// The request in flight failed without an answer (connection,
    /// timeout).
    pub fn handle_failure(&mut self, now: Instant, error: Error) {
        self.check_deadline(now);
        let Some(flight) = self.flight.take() else {
            return;
        };
        if flight == Flight::Release {
            self.done = true;
            self.events.push_back(LeaderEvent::Failed(error));
            return;
        }
        self.attempt_failed(now, Some(error));
        if self.releasing && !self.release_due {
            self.done = true;
        }
    }

    /// A `PUT` of the Lease last seen (its version the precondition) with
    /// `record` written into it.
    fn write_over(&mut self, record: LeaseRecord, flight: Flight) -> Option<Request<Bytes>> {
        let mut lease = self.observed.as_ref()?.lease.clone();
        record.write_into(&mut lease);
        let request = self
            .endpoint
            .replace(&self.name, &lease, &WriteParams::default());
        self.sent(request, flight)
    }

    fn sent(&mut self, request: Result<Request<Bytes>>, flight: Flight) -> Option<Request<Bytes>> {
        match request {
            Ok(request) => {
                self.flight = Some(flight);
                Some(request)
            }
            Err(e) => {
                // The lease name was checked at construction; a body that
                // does not serialize cannot happen. Report, never loop.
                self.events.push_back(LeaderEvent::Failed(e));
                self.done = true;
                None
            }
        }
    }

    /// The record this contender writes over `old` at `micro`.
    fn record_for(&self, old: &LeaseRecord, micro: &str) -> LeaseRecord {
        let mine = old.holder == self.identity;
        LeaseRecord {
            holder: self.identity.clone(),
            duration_seconds: self.params.lease_duration.as_secs() as i64,
            acquire_time: if mine {
                old.acquire_time.clone()
            } else {
                Some(micro.to_string())
            },
            renew_time: Some(micro.to_string()),
            transitions: if mine {
                old.transitions
            } else {
                old.transitions + 1
            },
        }
    }

    /// Notes a Lease read or written: a changed one restarts the observed
    /// time.
    fn see(&mut self, now: Instant, record: LeaseRecord, lease: Value) {
        let version = |l: &Value| l.pointer("/metadata/resourceVersion").cloned();
        match &mut self.observed {
            // Unchanged (same record, same version): the observed time
            // stays. Any write, even one that repeats the record, restarts it.
            Some(o) if o.record == record && version(&o.lease) == version(&lease) => {
                o.lease = lease
            }
            _ => {
                self.observed = Some(Observed {
                    record,
                    lease,
                    at: now,
                })
            }
        }
        let holder = &self.observed.as_ref().expect("just set").record.holder;
        if !holder.is_empty() && *holder != self.reported_holder {
            self.reported_holder = holder.clone();
            self.events
                .push_back(LeaderEvent::NewLeader(holder.clone()));
        }
    }

    /// After a read: take or renew the lease, or wait.
    fn decide(&mut self, now: Instant, record: LeaseRecord, lease: Value) {
        self.see(now, record, lease);
        let observed = self.observed.as_ref().expect("just seen");
        let holder = observed.record.holder.clone();
        if !holder.is_empty() && holder != self.identity && now < observed.expires() {
            // Held by another: a leader that sees this has lost.
            if self.leading.take().is_some() {
                self.events.push_back(LeaderEvent::LostLeadership);
            }
            return self.attempt_failed(now, None);
        }
        self.next = Next::Update;
    }

    /// A write of this contender's record was accepted.
    fn succeeded(&mut self, now: Instant, sent: Instant) {
        self.next = Next::Wait;
        self.next_attempt = Some(now + self.params.retry_period);
        // Leadership counts from the sending: an answer that arrives after
        // that write's deadline leads to nothing (the next attempt renews).
        if now >= sent + self.params.renew_deadline || self.releasing {
            return;
        }
        match &mut self.leading {
            Some(l) => l.renewed = l.renewed.max(sent),
            None => {
                self.leading = Some(Leading { renewed: sent });
                self.events.push_back(LeaderEvent::BecameLeader);
            }
        }
    }

    fn attempt_failed(&mut self, now: Instant, error: Option<Error>) {
        if let Some(e) = error {
            self.events.push_back(LeaderEvent::Failed(e));
        }
        self.next = Next::Wait;
        let wait = if self.leading.is_some() {
            self.params.retry_period
        } else {
            let unit = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            self.params
                .retry_period
                .mul_f64(1.0 + unit * self.params.jitter)
        };
        self.next_attempt = Some(now + wait);
        self.check_deadline(now);
    }

    fn check_deadline(&mut self, now: Instant) {
        if self.leader_until().is_some_and(|until| now >= until) {
            self.leading = None;
            self.events.push_back(LeaderEvent::LostLeadership);
        }
    }
}
