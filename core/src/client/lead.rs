//! Leader election driven by the client: the sans-IO [`LeaderElector`]
//! run on a helper thread (every driver) or as a task on the caller's
//! executor (async), with its events and an exact `is_leader`.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use crate::client::cluster::Cluster;
use crate::client::driver::{BoxFuture, Driver, now};
use crate::client::lifecycle::Stop;
use crate::client::link::random_u64;
use crate::client::lock::lock;
use crate::client::polled::{Polled, polled};
use crate::error::Result;
use crate::leader::{LeaderElector, LeaderEvent, LeaseParams, lease_endpoint};

/// What the handle and the task share.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    events: VecDeque<LeaderEvent>,
    reader: Option<Waker>,
    /// Until when this contender leads, as the elector last said.
    leader_until: Option<Instant>,
    holder: Option<String>,
    ended: bool,
    /// Who waits for the end (`release`).
    waiting: Vec<Waker>,
}

impl Shared {
    /// Hands the elector's news to the handle.
    fn publish(&self, elector: &mut LeaderElector) {
        let mut state = lock(&self.state);
        let mut news = false;
        while let Some(event) = elector.poll_event() {
            state.events.push_back(event);
            news = true;
        }
        state.leader_until = elector.leader_until();
        state.holder = elector.holder().map(str::to_string);
        if news && let Some(w) = state.reader.take() {
            w.wake();
        }
    }

    fn end(&self) {
        let mut state = lock(&self.state);
        state.ended = true;
        state.leader_until = None;
        if let Some(w) = state.reader.take() {
            w.wake();
        }
        state.waiting.drain(..).for_each(Waker::wake);
    }
}

/// The task that runs an election: run it on any executor. It ends once
/// leadership is released (the handle's `release`, its drop, or the
/// cluster's close).
pub type LeadTask = BoxFuture<'static, ()>;

/// This contender's part in a leader election on a Lease.
///
/// Its events (an `Iterator` blocking, a `Stream` async, `next()` on both)
/// say when it [became leader](LeaderEvent::BecameLeader) and
/// [lost leadership](LeaderEvent::LostLeadership); [`Leadership::is_leader`]
/// is exact at any moment, even between events. Dropping the handle
/// releases the lease (with `release_on_cancel`).
///
/// ```no_run
/// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
/// use kubewire::leader::{LeaderEvent, LeaseParams};
/// let mut leadership = cluster.lead("my-controller", "pod-a", &LeaseParams::default())?;
/// for event in &mut leadership {
///     match event {
///         LeaderEvent::BecameLeader => println!("leading: start the work"),
///         LeaderEvent::LostLeadership => println!("stop the work now"),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Leadership<D: Driver> {
    shared: Arc<Shared>,
    stop: Arc<Stop>,
    driver: std::marker::PhantomData<fn() -> D>,
}

impl<D: Driver> std::fmt::Debug for Leadership<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Leadership")
            .field("holder", &state.holder)
            .field("ended", &state.ended)
            .finish_non_exhaustive()
    }
}

impl<D: Driver> Drop for Leadership<D> {
    fn drop(&mut self) {
        self.stop.stop();
    }
}

impl<D: Driver> Cluster<D> {
    /// Contends for leadership on Lease `name` as `identity`, on a helper
    /// thread that the cluster's `close` joins.
    pub fn lead(&self, name: &str, identity: &str, params: &LeaseParams) -> Result<Leadership<D>> {
        let (leadership, task) = self.lead_task(name, identity, params)?;
        self.run_on_helper("kubewire-lead", "the leader election", task)?;
        Ok(leadership)
    }

    /// Like [`Cluster::lead`], with the task handed to the caller to run on
    /// its executor.
    pub fn lead_task(
        &self,
        name: &str,
        identity: &str,
        params: &LeaseParams,
    ) -> Result<(Leadership<D>, LeadTask)> {
        let namespace = params
            .namespace
            .clone()
            .unwrap_or_else(|| self.config().default_namespace.clone());
        let endpoint = lease_endpoint(self.config().clone(), &namespace)?;
        let elector = LeaderElector::new(endpoint, name, identity, params.clone(), random_u64())?;
        let shared = Arc::new(Shared::default());
        let stop = self.life().stream();
        let task = Box::pin(drive(self.clone(), elector, shared.clone(), stop.clone()));
        let leadership = Leadership {
            shared,
            stop,
            driver: std::marker::PhantomData,
        };
        Ok((leadership, task))
    }
}

/// Runs the elector: sends what it asks for, wakes it at its deadlines,
/// releases when asked to stop.
async fn drive<D: Driver>(
    cluster: Cluster<D>,
    mut elector: LeaderElector,
    shared: Arc<Shared>,
    stop: Arc<Stop>,
) {
    loop {
        let (instant, wall) = now();
        if stop.is_stopped() {
            elector.release(instant);
        }
        // Ends leadership whose deadline passed, then hands out what is due.
        let request = elector.poll_transmit(instant, wall);
        shared.publish(&mut elector);
        if elector.is_done() {
            break;
        }
        if let Some(request) = request {
            let mut answer = Box::pin(cluster.execute_raw(request));
            let mut deadline: Option<BoxFuture<'static, ()>> = None;
            // While the answer is awaited, leadership may still run out.
            let outcome = poll_fn(|cx| {
                if let Poll::Ready(outcome) = answer.as_mut().poll(cx) {
                    return Poll::Ready(outcome);
                }
                expire(&cluster, &mut elector, &shared, &mut deadline, cx);
                Poll::Pending
            })
            .await;
            let (instant, _) = now();
            match outcome {
                Ok(response) => elector.handle_response(instant, response),
                Err(e) => elector.handle_failure(instant, e),
            }
            continue;
        }
        let Some(at) = elector.poll_timeout() else {
            break;
        };
        let mut timer = cluster.driver().sleep_until(at);
        poll_fn(|cx| {
            if stop.is_stopped() || timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            stop.park(cx.waker());
            if stop.is_stopped() {
                return Poll::Ready(());
            }
            Poll::Pending
        })
        .await;
    }
    shared.publish(&mut elector);
    shared.end();
}

/// Ends leadership at its deadline while a request hangs.
fn expire<D: Driver>(
    cluster: &Cluster<D>,
    elector: &mut LeaderElector,
    shared: &Shared,
    deadline: &mut Option<BoxFuture<'static, ()>>,
    cx: &mut Context<'_>,
) {
    let Some(until) = elector.leader_until() else {
        return;
    };
    let timer = deadline.get_or_insert_with(|| cluster.driver().sleep_until(until));
    if timer.as_mut().poll(cx).is_ready() {
        *deadline = None;
        elector.handle_timeout(now().0);
        shared.publish(elector);
    }
}

impl<D: Driver> Leadership<D> {
    /// True while this contender leads: exact at any moment (leadership
    /// ends at its renew deadline even if no event has been read).
    pub fn is_leader(&self) -> bool {
        lock(&self.shared.state)
            .leader_until
            .is_some_and(|until| now().0 < until)
    }

    /// The holder the Lease named when last seen.
    pub fn holder(&self) -> Option<String> {
        lock(&self.shared.state).holder.clone()
    }

    /// Gives leadership up and waits until the release is written (or the
    /// election ended otherwise).
    pub fn release(&self) -> D::Call<'_, ()> {
        self.stop.stop();
        D::call(poll_fn(move |cx| {
            let mut state = lock(&self.shared.state);
            if state.ended {
                return Poll::Ready(());
            }
            state.waiting.push(cx.waker().clone());
            Poll::Pending
        }))
    }
}

impl<D: Driver> Polled for Leadership<D> {
    type Item = LeaderEvent;

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<LeaderEvent>> {
        let mut state = lock(&self.shared.state);
        if let Some(event) = state.events.pop_front() {
            return Poll::Ready(Some(event));
        }
        if state.ended {
            return Poll::Ready(None);
        }
        state.reader = Some(cx.waker().clone());
        Poll::Pending
    }
}

polled!(Leadership => LeaderEvent);
