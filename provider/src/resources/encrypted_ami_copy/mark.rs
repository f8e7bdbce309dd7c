//! The creation mark: how a create tells a copy whose creator is gone (an
//! apply killed or crashed before it recorded the copy) from one another
//! apply is still waiting for.
//!
//! Every create tags the AMI it starts with [`TAG_CREATING`] =
//! `"<creator>@<unix seconds>"`, where the creator is a token drawn once per
//! provider process. While the creator waits, its account-region's poll loop
//! rewrites the mark every [`MARK_RENEWAL`] (see `crate::aws::watcher`), and
//! once the copy is recorded in state the mark comes off. So a mark left
//! unchanged for [`STALE_AFTER`] belongs to a creator that is gone, and only
//! such a copy may be taken over; a mark that changes, or comes off, while
//! another create looks at it belongs to a live apply, whose copy is not
//! this one's to take (two states would own it).
//!
//! A mark's time is written by its creator's clock and read by another's:
//! it only shortens the wait when it is already older than [`STALE_AFTER`],
//! which assumes clocks agree to well within that (NTP keeps them within a
//! second). Marks written before marks were renewed (a bare token) read as
//! never renewed, as they were.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::aws::image::Image;
use crate::aws::watcher::{Mark, MARK_RENEWAL};

use super::model::Tags;
use super::rules::{new_attempt, TAG_CREATING};

/// How long a mark must stay unchanged before its creator counts as gone:
/// four renewals, so a creator on a busy machine or behind a throttled
/// CreateTags is not mistaken for a dead one.
pub(super) const STALE_AFTER: Duration = Duration::from_secs(4 * MARK_RENEWAL.as_secs());

/// This process's creator token: random, drawn once.
static CREATOR: LazyLock<String> = LazyLock::new(new_attempt);

/// The mark's value as this process writes it now.
fn current() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{}@{seconds}", *CREATOR)
}

/// The mark a create puts on the AMI it starts, as CopyImage tags. Left out
/// when the AMI has no room for one more tag (EC2 allows 50): such a copy
/// cannot be taken over by a rerun, which then says to import it.
pub(super) fn initial(tags_all: &Tags) -> Tags {
    if tags_all.len() >= crate::validate::MAX_TAGS_PER_RESOURCE {
        return Tags::new();
    }
    Tags::from([(TAG_CREATING.to_owned(), current())])
}

/// The mark the poll loop renews while this process waits for a copy.
pub(super) fn renewed() -> Mark {
    Mark {
        key: TAG_CREATING,
        value: current,
    }
}

/// The mark `image` carries, if any.
pub(super) fn of(image: &Image) -> Option<&str> {
    image.tags.get(TAG_CREATING).map(String::as_str)
}

/// Whether `value` was written by this process.
pub(super) fn is_ours(value: &str) -> bool {
    value.split_once('@').map_or(value, |(creator, _)| creator) == CREATOR.as_str()
}

/// How old `value` says it is, by this process's clock: `None` when it says
/// nothing (a mark from before renewal), or is from the future.
fn age(value: &str, now: SystemTime) -> Option<Duration> {
    let seconds: u64 = value.split_once('@')?.1.parse().ok()?;
    now.duration_since(UNIX_EPOCH + Duration::from_secs(seconds))
        .ok()
}

/// `tags` of a copy recorded in state, as a refresh should count them: without
/// a creation mark renewed less than [`STALE_AFTER`] ago. The apply that
/// recorded the copy removed its mark, but a read moments later may still show
/// it (EC2 tags are eventually consistent), and a plan would then offer to
/// remove it again. A mark that stays past `STALE_AFTER` is a removal that
/// failed, and shows, so the next apply takes it off before another
/// configuration could judge the copy abandoned.
pub(super) fn settled_tags(tags: &Tags, now: SystemTime) -> Tags {
    let mut tags = tags.clone();
    let fresh = tags
        .get(TAG_CREATING)
        .and_then(|value| age(value, now))
        .is_some_and(|age| age < STALE_AFTER);
    if fresh {
        tags.remove(TAG_CREATING);
    }
    tags
}

/// What a create looking at a marked copy knows so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Creator {
    /// Gone: the mark has not changed for [`STALE_AFTER`].
    Gone,
    /// Alive: the mark changed or came off since it was first seen.
    Alive,
    /// Not known yet: look again until `STALE_AFTER` has passed since the
    /// mark was first seen.
    Unknown,
}

/// Judges the creator of a copy whose mark was `first` when first seen,
/// `waited` ago, and is `now_value` now (`None`: no mark any more).
pub(super) fn judge(
    first: &str,
    now_value: Option<&str>,
    waited: Duration,
    now: SystemTime,
) -> Creator {
    if now_value != Some(first) {
        return Creator::Alive;
    }
    let written_long_ago = match age(first, now) {
        Some(age) => age >= STALE_AFTER,
        // No time in it: an old provider's mark, never renewed.
        None => first.split_once('@').is_none(),
    };
    if written_long_ago || waited >= STALE_AFTER {
        Creator::Gone
    } else {
        Creator::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn a_refresh_ignores_a_fresh_mark_and_shows_a_stale_one() {
        let tags = |mark: &str| {
            Tags::from([
                ("App".to_owned(), "web".to_owned()),
                (TAG_CREATING.to_owned(), mark.to_owned()),
            ])
        };
        let fresh = settled_tags(&tags("abc@1000"), at(1010));
        assert!(!fresh.contains_key(TAG_CREATING), "{fresh:?}");
        assert_eq!(fresh.get("App").map(String::as_str), Some("web"));
        let stale = settled_tags(&tags("abc@1000"), at(1000 + STALE_AFTER.as_secs()));
        assert!(stale.contains_key(TAG_CREATING), "{stale:?}");
        let timeless = settled_tags(&tags("abc"), at(1010));
        assert!(timeless.contains_key(TAG_CREATING), "{timeless:?}");
    }

    #[test]
    fn a_renewed_or_removed_mark_means_a_live_creator() {
        let first = "abc@1000";
        assert_eq!(
            judge(first, Some("abc@1010"), Duration::from_secs(11), at(1011)),
            Creator::Alive
        );
        assert_eq!(
            judge(first, None, Duration::from_secs(2), at(1002)),
            Creator::Alive
        );
    }

    #[test]
    fn an_unchanged_mark_is_stale_after_the_bound() {
        let first = "abc@1000";
        let fresh = at(1000 + 5);
        assert_eq!(
            judge(first, Some(first), Duration::ZERO, fresh),
            Creator::Unknown
        );
        assert_eq!(
            judge(first, Some(first), STALE_AFTER, fresh),
            Creator::Gone,
            "watched unchanged for the whole bound"
        );
        let old = at(1000 + STALE_AFTER.as_secs());
        assert_eq!(
            judge(first, Some(first), Duration::ZERO, old),
            Creator::Gone,
            "written longer ago than the bound"
        );
        // A mark from the future (a clock ahead of ours) is watched.
        assert_eq!(
            judge(first, Some(first), Duration::ZERO, at(900)),
            Creator::Unknown
        );
    }

    #[test]
    fn marks_from_before_renewal_are_stale_at_once() {
        let legacy = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            judge(legacy, Some(legacy), Duration::ZERO, at(5)),
            Creator::Gone
        );
    }

    #[test]
    fn this_process_knows_its_own_marks() {
        let Some(mark) = initial(&Tags::new()).remove(TAG_CREATING) else {
            panic!("a mark");
        };
        assert!(is_ours(&mark), "{mark}");
        assert!(!is_ours("someone-else@1"));
        assert!(age(&mark, SystemTime::now()).is_some());
    }
}
