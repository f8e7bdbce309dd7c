//! Checks made only to tell the user more: Recycle Bin rules that keep what
//! a destroy removed, instances launched from a copy, launch templates seen
//! at plan. Nothing depends on their answer, so none may cost minutes.
//!
//! An unreachable service is the common way they fail: a private network
//! with VPC endpoints for EC2, STS and KMS only (usual where everything must
//! be encrypted) has no route to Recycle Bin, and the SDK retries a failed
//! connection for minutes (202 s per destroyed copy when measured). So each
//! check gets [`BUDGET`]; past it, or on any error, it says at WARN what it
//! could not check, and the same check in the same account and Region is
//! not tried again in this provider process (one line, not one per copy).

use std::collections::HashSet;
use std::future::Future;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

use super::clients::AwsClients;
use super::errors::AwsError;
use crate::log;

/// How long a best-effort check may take, retries included: a few seconds,
/// with room for a busy EC2 (or a busy machine) to answer a check that
/// does reach it.
pub(super) const BUDGET: Duration = Duration::from_secs(8);

/// An account, a Region and a check.
type CheckKey = (String, String, &'static str);

/// The checks that failed in this process.
static GAVE_UP: LazyLock<Mutex<HashSet<CheckKey>>> = LazyLock::new(Mutex::default);

impl AwsClients {
    /// Runs `check` (what it checks: `what`) within [`BUDGET`]: its answer,
    /// or `None` after a WARN line saying what was not checked and why. A
    /// check that failed here before is not run again.
    pub async fn best_effort<T>(
        &self,
        what: &'static str,
        check: impl Future<Output = Result<T, AwsError>>,
    ) -> Option<T> {
        let key = (self.account_id.clone(), self.region.clone(), what);
        if lock().contains(&key) {
            log::debug(
                "not checked: the same check failed earlier in this run",
                &[("check", what), ("region", &self.region)],
            );
            return None;
        }
        let why = match tokio::time::timeout(BUDGET, check).await {
            Ok(Ok(answer)) => return Some(answer),
            Ok(Err(err)) => err.to_string(),
            Err(_) => format!(
                "no answer within {} s (is the service reachable from here?)",
                BUDGET.as_secs()
            ),
        };
        lock().insert(key);
        log::warn(
            &format!(
                "could not check {what}; going on without it, and not trying again in this run"
            ),
            &[
                ("account_id", &self.account_id),
                ("region", &self.region),
                ("error", &why),
            ],
        );
        None
    }
}

fn lock() -> std::sync::MutexGuard<'static, HashSet<CheckKey>> {
    GAVE_UP.lock().unwrap_or_else(PoisonError::into_inner)
}
