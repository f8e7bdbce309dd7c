//! Slots for snapshot copies, so a fan-out never runs into EC2's quota, and
//! keeps the quota busy when it does.
//!
//! EC2 lets an account run a limited number of snapshot copies at once per
//! destination region (Amazon EBS quotas: "Concurrent snapshot copies per
//! destination Region", 20 and not adjustable), and every snapshot of an AMI being
//! copied counts. A `for_each` of 25 two-snapshot copies into one account
//! would otherwise see most CopyImage calls refused. Each copy takes one
//! slot per snapshot before CopyImage and holds them until it stops
//! waiting; the rest wait in the provider, in arrival order (tokio's
//! semaphore is fair).
//!
//! The quota is the account's, shared with every other tool copying into it,
//! so EC2 may refuse a copy (`ResourceLimitExceeded`) although this process
//! has slots free. Each refused copy backing off on its own left the quota
//! idle most of the time. Instead a refusal teaches the pool the room there
//! really is: the slots of this process's copies that EC2 is running. The
//! pool shrinks to that, and the refused copy queues again behind them, so
//! the next copy starts as soon as one of ours ends. CopyImage calls into
//! one account-region are made one at a time (each takes a fraction of a
//! second), and only by a copy that still fits, so after the first refusal
//! no call is refused again while the other tools' share stays put. The
//! pool grows back a slot at a time, on each copy that ends, once no
//! refusal has come for [`GROW_BACK_AFTER`].

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::clients::AwsClients;
use crate::log;

/// How long after EC2's last refusal the pool may grow back by a slot each
/// time a copy ends: other tools' copies take minutes too, and growing
/// sooner would only buy refused calls.
pub const GROW_BACK_AFTER: Duration = Duration::from_secs(300);

/// An account id and a region.
type AccountRegion = (String, String);

/// The slots of every account and region this process copies into, of the
/// limit the first copy there found. Process-wide, since the quota is the
/// account's, whatever credentials reach it.
static POOLS: LazyLock<Mutex<HashMap<AccountRegion, Arc<Pool>>>> = LazyLock::new(Mutex::default);

/// One account-region's slots.
#[derive(Debug)]
struct Pool {
    semaphore: Arc<Semaphore>,
    state: Mutex<PoolState>,
    /// Held around each CopyImage call into the account-region.
    calling: Arc<AsyncMutex<()>>,
}

/// What the pool has learnt of EC2's room.
#[derive(Debug)]
struct PoolState {
    /// The configured limit, which the pool never exceeds.
    limit: u32,
    /// The slots the pool believes EC2 has room for now.
    capacity: u32,
    /// The slots that exist, free or held; above `capacity` after a shrink
    /// until enough come back to be taken out.
    issued: u32,
    /// The slots of copies EC2 accepted, which it is running.
    running: u32,
    /// The most slots one copy has asked for: the pool never shrinks below
    /// it, or that copy could never start.
    largest: u32,
    /// When EC2 last refused a copy.
    refused_at: Option<Instant>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn pool(account: &str, region: &str, limit: u32) -> Arc<Pool> {
    lock(&POOLS)
        .entry((account.to_owned(), region.to_owned()))
        .or_insert_with(|| {
            Arc::new(Pool {
                semaphore: Arc::new(Semaphore::new(limit as usize)),
                state: Mutex::new(PoolState {
                    limit,
                    capacity: limit,
                    issued: limit,
                    running: 0,
                    largest: 1,
                    refused_at: None,
                }),
                calling: Arc::default(),
            })
        })
        .clone()
}

/// The capacity a refusal teaches: the slots of this process's copies EC2
/// is running (that is the room it has for us), but never less than the
/// most one copy needs. `None` when none of ours runs: the quota is taken
/// by copies outside this process, and only waiting helps.
fn learnt_capacity(running: u32, largest: u32) -> Option<u32> {
    (running > 0).then(|| running.max(largest))
}

/// How many slots a copy of `snapshots` snapshots takes: one each, but never
/// more than the limit (an AMI with more snapshots than the quota still has
/// to be copied; EC2 queues it, and it then runs alone).
fn slots_for(snapshots: usize, limit: u32) -> u32 {
    u32::try_from(snapshots).unwrap_or(u32::MAX).clamp(1, limit)
}

impl Pool {
    /// Takes slots above the capacity out as they come back, or, with none
    /// above it and no refusal for a while, grows back by one.
    fn settle(&self) {
        let mut state = lock(&self.state);
        let excess = state.issued.saturating_sub(state.capacity);
        if excess > 0 {
            let forgotten = self.semaphore.forget_permits(excess as usize);
            state.issued -= u32::try_from(forgotten).unwrap_or(excess).min(excess);
            return;
        }
        let quiet = state
            .refused_at
            .is_none_or(|at| at.elapsed() >= GROW_BACK_AFTER);
        if quiet && state.capacity < state.limit {
            state.capacity += 1;
            if state.issued < state.capacity {
                state.issued += 1;
                self.semaphore.add_permits(1);
            }
        }
    }

    /// See [`AwsClients::copy_refused`]: the capacity before and after, and
    /// `held`'s slots given back, when the refusal taught anything.
    fn refused(&self, held: &mut SlotsHeld) -> Option<(u32, u32)> {
        let (was, learnt) = {
            let mut state = lock(&self.state);
            state.refused_at = Some(Instant::now());
            let learnt = learnt_capacity(state.running, state.largest)?;
            let was = state.capacity;
            state.capacity = learnt;
            (was, learnt)
        };
        drop(held.permit.take());
        self.settle();
        Some((was, learnt))
    }
}

/// Slots held by one copy; dropping it frees them.
#[derive(Debug)]
pub struct SlotsHeld {
    permit: Option<OwnedSemaphorePermit>,
    count: u32,
    pool: Arc<Pool>,
    /// Whether EC2 accepted the copy (its slots count as running).
    started: bool,
}

impl SlotsHeld {
    /// Waits for this account-region's turn to call CopyImage; the turn
    /// lasts while the guard is kept.
    pub async fn turn_to_call(&self) -> OwnedMutexGuard<()> {
        self.pool.calling.clone().lock_owned().await
    }

    /// Whether the copy still fits in the room the pool believes EC2 has (a
    /// refusal may have shrunk it since the slots were taken): a copy that
    /// does not gives its slots back and queues again.
    pub fn fits(&self) -> bool {
        let state = lock(&self.pool.state);
        state.running + self.count <= state.capacity
    }

    /// EC2 accepted the copy: its slots count as running until dropped.
    pub fn started(&mut self) {
        if !self.started {
            self.started = true;
            lock(&self.pool.state).running += self.count;
        }
    }
}

impl Drop for SlotsHeld {
    fn drop(&mut self) {
        if self.started {
            let mut state = lock(&self.pool.state);
            state.running = state.running.saturating_sub(self.count);
        }
        drop(self.permit.take());
        self.pool.settle();
    }
}

impl AwsClients {
    /// Waits for slots for a copy of `snapshots` snapshots into these
    /// clients' account and region. `None` when `deadline` passes or `stop`
    /// is cancelled first; the wait is logged, so a slow apply says why.
    pub async fn copy_slots(
        &self,
        snapshots: usize,
        deadline: Instant,
        stop: &CancellationToken,
    ) -> Option<SlotsHeld> {
        let limit = self.copy_slot_limit;
        let pool = pool(&self.account_id, &self.region, limit);
        let wanted = slots_for(snapshots, limit);
        let capacity = {
            let mut state = lock(&pool.state);
            state.largest = state.largest.max(wanted);
            state.capacity
        };
        let held = |permit| SlotsHeld {
            permit: Some(permit),
            count: wanted,
            pool: pool.clone(),
            started: false,
        };
        if let Ok(permit) = pool.semaphore.clone().try_acquire_many_owned(wanted) {
            return Some(held(permit));
        }
        log::info(
            "waiting for a snapshot-copy slot (EC2 allows a limited number of concurrent snapshot copies per account and region)",
            &[
                ("account_id", &self.account_id),
                ("region", &self.region),
                ("slots_wanted", &wanted.to_string()),
                ("slots_free", &pool.semaphore.available_permits().to_string()),
                ("capacity", &capacity.to_string()),
            ],
        );
        let started = Instant::now();
        tokio::select! {
            permit = pool.semaphore.clone().acquire_many_owned(wanted) => {
                let permit = permit.ok()?;
                log::info(
                    "got a snapshot-copy slot",
                    &[
                        ("account_id", &self.account_id),
                        ("region", &self.region),
                        ("waited_seconds", &format!("{:.1}", started.elapsed().as_secs_f64())),
                    ],
                );
                Some(held(permit))
            }
            () = tokio::time::sleep_until(deadline) => None,
            () = stop.cancelled() => None,
        }
    }

    /// EC2 refused the copy holding `held` for its quota. When copies of
    /// this process run there, the pool shrinks to them and the slots are
    /// given back: `None`, and the copy queues again for new ones.
    /// Otherwise (`Some`, the slots kept) the quota is taken by copies
    /// outside this process, and the caller backs off.
    pub fn copy_refused(&self, mut held: SlotsHeld) -> Option<SlotsHeld> {
        let pool = held.pool.clone();
        let Some((was, now)) = pool.refused(&mut held) else {
            return Some(held);
        };
        log::info(
            "EC2 refused a copy for its quota; queueing copies behind the ones running",
            &[
                ("account_id", &self.account_id),
                ("region", &self.region),
                ("capacity_was", &was.to_string()),
                ("capacity", &now.to_string()),
            ],
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(p: &Arc<Pool>, n: u32) -> SlotsHeld {
        SlotsHeld {
            permit: Some(p.semaphore.clone().try_acquire_many_owned(n).expect("free")),
            count: n,
            pool: p.clone(),
            started: false,
        }
    }

    #[test]
    fn a_copy_takes_a_slot_per_snapshot_within_the_limit() {
        assert_eq!(slots_for(0, 20), 1, "an AMI without snapshots still copies");
        assert_eq!(slots_for(2, 20), 2);
        assert_eq!(slots_for(20, 20), 20);
        assert_eq!(slots_for(45, 20), 20, "never more than can ever be free");
    }

    #[test]
    fn slots_are_per_account_and_region() {
        let a = pool("900000000001", "eu-west-1", 3);
        let taken = a.semaphore.clone().try_acquire_many_owned(3).expect("free");
        assert_eq!(a.semaphore.available_permits(), 0);
        let same = pool("900000000001", "eu-west-1", 3);
        assert_eq!(
            same.semaphore.available_permits(),
            0,
            "one pool per account-region"
        );
        assert_eq!(
            pool("900000000001", "us-east-1", 3)
                .semaphore
                .available_permits(),
            3
        );
        assert_eq!(
            pool("900000000002", "eu-west-1", 3)
                .semaphore
                .available_permits(),
            3
        );
        drop(taken);
        assert_eq!(same.semaphore.available_permits(), 3);
    }

    #[test]
    fn a_refusal_teaches_the_room_our_running_copies_hold() {
        assert_eq!(learnt_capacity(6, 2), Some(6));
        assert_eq!(learnt_capacity(1, 2), Some(2), "the largest copy must fit");
        assert_eq!(learnt_capacity(0, 2), None, "the quota is someone else's");
    }

    #[test]
    fn after_a_refusal_copies_queue_behind_the_running_ones() {
        let p = pool("900000000003", "eu-west-1", 6);
        lock(&p.state).largest = 2;
        // Three two-slot copies take slots at once; EC2 accepts the first only.
        let (mut first, mut second, third) = (take(&p, 2), take(&p, 2), take(&p, 2));
        first.started();
        assert!(second.fits(), "before any refusal everything fits");
        assert_eq!(p.refused(&mut second), Some((6, 2)), "EC2 runs our 2 slots");
        drop(second);
        // The third still holds slots from before, but no longer fits: it must not call.
        assert!(!third.fits());
        drop(third);
        assert_eq!(
            p.semaphore.available_permits(),
            0,
            "every slot above 2 is gone"
        );
        drop(first);
        assert_eq!(
            p.semaphore.available_permits(),
            2,
            "the next copy starts when one ends; no growth right after a refusal"
        );
        let mut next = take(&p, 2);
        assert!(next.fits());
        next.started();
        // Nothing else of ours runs: a refusal teaches nothing, the slots stay held.
        let q = pool("900000000004", "eu-west-1", 6);
        let mut alone = take(&q, 2);
        assert_eq!(q.refused(&mut alone), None);
        assert!(alone.permit.is_some());
    }

    #[test]
    fn the_pool_grows_back_once_refusals_stop() {
        let p = pool("900000000005", "eu-west-1", 4);
        {
            let mut state = lock(&p.state);
            state.capacity = 2;
            state.issued = 2;
            p.semaphore.forget_permits(2);
            state.refused_at = Instant::now().checked_sub(GROW_BACK_AFTER);
        }
        drop(take(&p, 1));
        assert_eq!(lock(&p.state).capacity, 3);
        assert_eq!(p.semaphore.available_permits(), 3);
    }
}
