//! Slots for snapshot copies, so a fan-out never runs into EC2's quota.
//!
//! EC2 lets an account run a limited number of snapshot copies at once per
//! destination region (Amazon EBS quotas: "Concurrent snapshot copies per
//! destination Region", 20 and not adjustable), and every snapshot of an AMI being
//! copied counts. A `for_each` of 25 two-snapshot copies into one account
//! would otherwise see most CopyImage calls refused. Each copy takes one
//! slot per snapshot before CopyImage and holds them until it stops
//! waiting; the rest wait in the provider, in arrival order.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::clients::AwsClients;
use crate::log;

/// An account id and a region.
type AccountRegion = (String, String);

/// The slots of every account and region this process copies into: one
/// semaphore each, of the limit the first copy there found. Process-wide,
/// since the quota is the account's, whatever credentials reach it.
static SLOTS: LazyLock<Mutex<HashMap<AccountRegion, Arc<Semaphore>>>> =
    LazyLock::new(Mutex::default);

fn semaphore(account: &str, region: &str, limit: u32) -> Arc<Semaphore> {
    let mut map = SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry((account.to_owned(), region.to_owned()))
        .or_insert_with(|| Arc::new(Semaphore::new(limit as usize)))
        .clone()
}

/// Slots held by one copy; dropping it frees them.
#[derive(Debug)]
pub struct SlotsHeld {
    _permit: OwnedSemaphorePermit,
}

/// How many slots a copy of `snapshots` snapshots takes: one each, but never
/// more than the limit (an AMI with more snapshots than the quota still has
/// to be copied; EC2 queues it, and it then runs alone).
fn slots_for(snapshots: usize, limit: u32) -> u32 {
    u32::try_from(snapshots).unwrap_or(u32::MAX).clamp(1, limit)
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
        let wanted = slots_for(snapshots, limit);
        let semaphore = semaphore(&self.account_id, &self.region, limit);
        if let Ok(permit) = semaphore.clone().try_acquire_many_owned(wanted) {
            return Some(SlotsHeld { _permit: permit });
        }
        log::info(
            "waiting for a snapshot-copy slot (EC2 allows a limited number of concurrent snapshot copies per account and region)",
            &[
                ("account_id", &self.account_id),
                ("region", &self.region),
                ("slots_wanted", &wanted.to_string()),
                ("slots_free", &semaphore.available_permits().to_string()),
                ("limit", &limit.to_string()),
            ],
        );
        let started = Instant::now();
        tokio::select! {
            permit = semaphore.acquire_many_owned(wanted) => {
                let permit = permit.ok()?;
                log::info(
                    "got a snapshot-copy slot",
                    &[
                        ("account_id", &self.account_id),
                        ("region", &self.region),
                        ("waited_seconds", &format!("{:.1}", started.elapsed().as_secs_f64())),
                    ],
                );
                Some(SlotsHeld { _permit: permit })
            }
            () = tokio::time::sleep_until(deadline) => None,
            () = stop.cancelled() => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_takes_a_slot_per_snapshot_within_the_limit() {
        assert_eq!(slots_for(0, 20), 1, "an AMI without snapshots still copies");
        assert_eq!(slots_for(2, 20), 2);
        assert_eq!(slots_for(20, 20), 20);
        assert_eq!(slots_for(45, 20), 20, "never more than can ever be free");
    }

    #[test]
    fn slots_are_per_account_and_region() {
        let a = semaphore("900000000001", "eu-west-1", 3);
        let taken = a.clone().try_acquire_many_owned(3).expect("free");
        assert_eq!(a.available_permits(), 0);
        let same = semaphore("900000000001", "eu-west-1", 3);
        assert_eq!(same.available_permits(), 0, "one pool per account-region");
        assert_eq!(
            semaphore("900000000001", "us-east-1", 3).available_permits(),
            3
        );
        assert_eq!(
            semaphore("900000000002", "eu-west-1", 3).available_permits(),
            3
        );
        drop(taken);
        assert_eq!(same.available_permits(), 3);
    }
}
