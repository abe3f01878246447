#![allow(clippy::disallowed_methods)] // virtual time starts from one real instant
//! Leader election under generated schedules: two or three contenders,
//! virtual time, the in-memory Lease server (writes checked against the
//! resourceVersion, as the apiserver does), latencies, lost
//! requests and lost answers (timeouts), injected `409` on updates, and
//! paused contenders. In every schedule no two contenders may lead at the
//! same instant, by their own account (`is_leader`), and leadership must
//! move when the leader stops.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use kubewire::http::{Request, Response};
use kubewire::leader::{LeaderElector, LeaderEvent, LeaseParams, lease_endpoint};
use kubewire_conformance::chunking::SplitMix64;
use kubewire_conformance::lease_server::LeaseServer;

/// Seeded choices.
struct Rng(SplitMix64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What happens to a request: applied at the server at `apply_at`, its
/// answer (if not lost) delivered at `deliver_at`; a lost request or
/// answer is a failure at `deliver_at` (the request timeout).
struct InFlight {
    request: Option<Request<Bytes>>,
    apply_at: Instant,
    deliver_at: Instant,
    answer: Option<Response<Bytes>>,
    lost_answer: bool,
}

struct Contender {
    elector: LeaderElector,
    paused_until: Instant,
    flight: Option<InFlight>,
    /// Stops for good at this time (a crash without release).
    crash_at: Option<Instant>,
    /// Releases at this time.
    release_at: Option<Instant>,
    became: u32,
}

const TIMEOUT: Duration = Duration::from_secs(5);

fn wall(start: Instant, now: Instant) -> SystemTime {
    // Virtual wall clock: 2026-12-01T00:00:00Z plus the elapsed time.
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_083_200) + (now - start)
}

/// One schedule; returns how many times leadership was taken.
fn run_schedule(seed: u64) -> u32 {
    let mut rng = Rng(SplitMix64(seed));
    let start = Instant::now();
    let contenders = 2 + rng.below(2) as usize;
    let mut params = LeaseParams::default();
    if rng.chance(30) {
        params.lease_duration = Duration::from_secs(4 + rng.below(20));
        params.renew_deadline = params
            .lease_duration
            .mul_f64(0.5 + rng.below(40) as f64 / 100.0);
        params.retry_period = params
            .renew_deadline
            .mul_f64(0.1 + rng.below(30) as f64 / 100.0);
    }
    params.validate().expect("generated parameters are valid");
    let server = LeaseServer::new();
    let endpoint =
        lease_endpoint(std::sync::Arc::new(kubewire::Config::default()), "demo").unwrap();
    let mut cs: Vec<Contender> = (0..contenders)
        .map(|i| Contender {
            elector: LeaderElector::new(
                endpoint.clone(),
                "my-controller",
                &format!("c{i}"),
                params.clone(),
                seed * 31 + i as u64,
            )
            .unwrap(),
            paused_until: start + Duration::from_millis(rng.below(3000)),
            flight: None,
            crash_at: None,
            release_at: None,
            became: 0,
        })
        .collect();
    let end = start + Duration::from_secs(60 + rng.below(120));
    let mut now = start;
    let mut taken = 0;
    let mut steps = 0;
    while now < end {
        steps += 1;
        assert!(
            steps < 200_000,
            "seed {seed}: the schedule does not advance"
        );
        // Faults, drawn now and then.
        if rng.chance(2) {
            server.refuse_next_writes(1 + rng.below(3) as u32);
        }
        for i in 0..cs.len() {
            let c = &mut cs[i];
            if c.crash_at.is_some_and(|t| now >= t) || now < c.paused_until {
                continue;
            }
            if c.release_at.is_some_and(|t| now >= t) {
                c.release_at = None;
                c.elector.release(now);
            }
            // The server applies requests whose time has come.
            if let Some(f) = &mut c.flight {
                if let Some(request) = f.request.take_if(|_| now >= f.apply_at) {
                    let answer = server.handle(&request);
                    f.answer = (!f.lost_answer).then_some(answer);
                } else if f.request.is_some() && now >= f.deliver_at {
                    f.request = None; // lost on the way: never applied
                }
            }
            if c.flight
                .as_ref()
                .is_some_and(|f| f.request.is_none() && now >= f.deliver_at)
            {
                let f = c.flight.take().unwrap();
                match f.answer {
                    Some(answer) => c.elector.handle_response(now, answer),
                    None => c
                        .elector
                        .handle_failure(now, kubewire::Error::Protocol("timed out".into())),
                }
            }
            c.elector.handle_timeout(now);
            if c.flight.is_none()
                && let Some(request) = c.elector.poll_transmit(now, wall(start, now))
            {
                let lost = rng.chance(4);
                let d1 = Duration::from_millis(rng.below(1500));
                let d2 = Duration::from_millis(rng.below(1500));
                c.flight = Some(InFlight {
                    request: Some(request),
                    apply_at: now + d1,
                    deliver_at: if lost { now + TIMEOUT } else { now + d1 + d2 },
                    answer: None,
                    lost_answer: lost && rng.chance(50),
                });
            }
            while let Some(event) = c.elector.poll_event() {
                if let LeaderEvent::BecameLeader = event {
                    c.became += 1;
                    taken += 1;
                    // Sometimes the new leader is paused, crashes or
                    // releases a little later.
                    match rng.below(10) {
                        0 => c.paused_until = now + Duration::from_secs(1 + rng.below(40)),
                        1 => c.crash_at = Some(now + Duration::from_secs(rng.below(20))),
                        2 => c.release_at = Some(now + Duration::from_secs(rng.below(20))),
                        _ => {}
                    }
                }
            }
            // Nobody else may lead now.
            let leaders: Vec<usize> = (0..cs.len())
                .filter(|&j| cs[j].elector.is_leader(now))
                .collect();
            assert!(
                leaders.len() <= 1,
                "seed {seed}: contenders {leaders:?} lead at once, {:?} in",
                now - start
            );
        }
        // The next moment anything happens.
        let mut next = end;
        for c in &cs {
            if c.crash_at.is_some_and(|t| now >= t) {
                continue;
            }
            let mut candidates = vec![c.paused_until];
            candidates.extend(c.elector.poll_timeout());
            candidates.extend(c.release_at);
            if let Some(f) = &c.flight {
                candidates.push(f.deliver_at);
                if f.request.is_some() {
                    candidates.push(f.apply_at);
                }
            }
            if let Some(t) = candidates.into_iter().filter(|&t| t > now).min() {
                next = next.min(t);
            }
        }
        now = next.max(now + Duration::from_micros(1));
    }
    taken
}

#[test]
fn ten_thousand_schedules_never_have_two_leaders_at_once() {
    let first: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut taken = 0;
    for seed in first..first + 10_000 {
        taken += run_schedule(seed);
    }
    // Leadership was really taken, and moved.
    assert!(taken > 15_000, "leadership taken {taken} times");
}
