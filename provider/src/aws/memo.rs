//! The per-process caches of the AWS layer, one type for all of them.
//!
//! A configured provider process serves one walk of one Terraform command,
//! so some answers are worth asking once per process: a key's description,
//! an account's Recycle Bin rules, a refresh listing, a key's grants. Each
//! such cache is a [`Memo`]: answers by key, asked at most once even when
//! many resources ask at the same moment, a failure never kept (the next
//! caller asks again), and what makes an answer stale said where the cache
//! is declared ([`Forgotten`]), with the one method that forgets it.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use tokio::sync::OnceCell;

/// What makes a memo's answers stale: the invalidation rule, declared with
/// the memo so a reader sees it where the cache is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Forgotten {
    /// Nothing this provider does changes them (a key's ARN and manager,
    /// a region's existence): kept for the process.
    Never,
    /// Every EC2 write in the caller's region forgets them (see
    /// `AwsClients::ec2_write`).
    ByEc2Writes,
    /// Each write to the resource an answer describes forgets that answer
    /// (a KMS key's grants, forgotten by each grant write on the key).
    ByWritesToIt,
}

/// Answers of type `V` by key `K`, for the provider process.
pub(super) struct Memo<K, V> {
    /// The rule, for the reader (and checked by [`Memo::forget`]).
    forgotten: Forgotten,
    cells: LazyLock<Mutex<HashMap<K, Arc<OnceCell<V>>>>>,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// An empty memo whose answers are `forgotten` as declared.
    pub(super) const fn new(forgotten: Forgotten) -> Self {
        Memo {
            forgotten,
            cells: LazyLock::new(Mutex::default),
        }
    }

    /// The answer for `key`: the one already given, or `ask`'s. Callers
    /// asking at once wait for one `ask`; a failure is returned to its
    /// caller and not kept.
    pub(super) async fn get_or_ask<E, F, Fut>(&self, key: K, ask: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let cell = self.lock().entry(key).or_default().clone();
        cell.get_or_try_init(ask).await.cloned()
    }

    /// Forgets every answer whose key `stale` picks: for the writes the
    /// memo's [`Forgotten`] names, never for a memo declared `Never`.
    pub(super) fn forget(&self, mut stale: impl FnMut(&K) -> bool) {
        debug_assert_ne!(
            self.forgotten,
            Forgotten::Never,
            "a memo declared never forgotten is being forgotten: declare what forgets it"
        );
        self.lock().retain(|key, _| !stale(key));
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Arc<OnceCell<V>>>> {
        self.cells.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static ASKED: AtomicUsize = AtomicUsize::new(0);
    static MEMO: Memo<&'static str, usize> = Memo::new(Forgotten::ByWritesToIt);

    async fn ask(fail: bool) -> Result<usize, String> {
        let n = ASKED.fetch_add(1, Ordering::SeqCst) + 1;
        if fail {
            Err(format!("failed on ask {n}"))
        } else {
            Ok(n)
        }
    }

    #[tokio::test]
    async fn an_answer_is_kept_a_failure_is_not_and_forget_asks_again() {
        assert!(MEMO.get_or_ask("a", || ask(true)).await.is_err());
        let first = MEMO
            .get_or_ask("a", || ask(false))
            .await
            .expect("an answer");
        assert_eq!(MEMO.get_or_ask("a", || ask(false)).await, Ok(first), "kept");
        let other = MEMO
            .get_or_ask("b", || ask(false))
            .await
            .expect("an answer");
        assert_ne!(other, first, "another key asks");
        MEMO.forget(|key| *key == "a");
        let again = MEMO
            .get_or_ask("a", || ask(false))
            .await
            .expect("an answer");
        assert!(again > other, "forgotten: asked again");
        assert_eq!(
            MEMO.get_or_ask("b", || ask(false)).await,
            Ok(other),
            "b kept"
        );
    }
}
