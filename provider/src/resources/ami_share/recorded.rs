//! `permissions`: the EC2 permissions a share holds, one entry per account
//! and object, as state records them.
//!
//! `account_ids` says who can copy the AMI: an account that lost one of its
//! permissions leaves it, so the plan grants it again. That alone forgot
//! what the account still held: a destroy interrupted after the launch
//! permission was revoked, then run again, revoked nothing on the
//! snapshots, and a share whose AMI was deregistered was dropped with its
//! snapshots still shared. This record keeps every permission still held
//! by an account the share granted to, until it is revoked, and names in
//! the plan which account lost which permission on which object.

use std::collections::BTreeSet;

use super::rules::Actual;

/// One permission as state records it: the account, a space, and the AMI
/// (`ami-…`, launch permission) or snapshot (`snap-…`, createVolumePermission).
pub(super) fn entry(account: &str, object: &str) -> String {
    format!("{account} {object}")
}

/// The account and object of an entry; `None` for a malformed one.
pub(super) fn parse(entry: &str) -> Option<(&str, &str)> {
    entry.split_once(' ')
}

/// The accounts `recorded` names.
pub(super) fn accounts(recorded: &BTreeSet<String>) -> BTreeSet<String> {
    recorded
        .iter()
        .filter_map(|e| parse(e).map(|(account, _)| account.to_owned()))
        .collect()
}

/// The snapshots `recorded` names.
pub(super) fn snapshots(recorded: &BTreeSet<String>) -> BTreeSet<String> {
    recorded
        .iter()
        .filter_map(|e| parse(e).map(|(_, object)| object))
        .filter(|object| object.starts_with("snap-"))
        .map(str::to_owned)
        .collect()
}

/// What a share of `image_id` with `accounts` holds once applied: launch
/// permission, and createVolumePermission on each of `snapshots` when it
/// shares them.
pub(super) fn wanted<'a>(
    accounts: &BTreeSet<String>,
    image_id: &str,
    snapshots: impl IntoIterator<Item = &'a String>,
    share_snapshots: bool,
) -> BTreeSet<String> {
    let mut objects = vec![image_id.to_owned()];
    if share_snapshots {
        objects.extend(snapshots.into_iter().cloned());
    }
    accounts
        .iter()
        .flat_map(|a| objects.iter().map(move |o| entry(a, o)))
        .collect()
}

/// The permissions of `accounts` that exist in `actual` (grants on
/// `image_id` and, when the share covers them, its snapshots).
pub(super) fn held(
    accounts: &BTreeSet<String>,
    image_id: &str,
    actual: &Actual,
    share_snapshots: bool,
) -> BTreeSet<String> {
    let mut held: BTreeSet<String> = actual
        .launch
        .accounts
        .intersection(accounts)
        .map(|a| entry(a, image_id))
        .collect();
    if share_snapshots {
        for (snapshot, grants) in &actual.volumes {
            held.extend(
                grants
                    .accounts
                    .intersection(accounts)
                    .map(|a| entry(a, snapshot)),
            );
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::permissions::{LaunchGrants, VolumeGrants};

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn wanted_lists_every_account_and_object() {
        let snapshots = set(&["snap-1", "snap-2"]);
        assert_eq!(
            wanted(&set(&["222", "333"]), "ami-1", &snapshots, true),
            set(&[
                "222 ami-1",
                "222 snap-1",
                "222 snap-2",
                "333 ami-1",
                "333 snap-1",
                "333 snap-2"
            ])
        );
        assert_eq!(
            wanted(&set(&["222"]), "ami-1", &snapshots, false),
            set(&["222 ami-1"])
        );
    }

    #[test]
    fn held_keeps_partial_grants_of_the_given_accounts_only() {
        // 222 lost its launch permission but still holds snap-1; 444 is not
        // the share's; 333 holds everything.
        let actual = Actual {
            launch: LaunchGrants {
                accounts: set(&["333", "444"]),
                ..LaunchGrants::default()
            },
            volumes: vec![
                (
                    "snap-1".to_owned(),
                    VolumeGrants {
                        accounts: set(&["222", "333", "444"]),
                        public: false,
                    },
                ),
                (
                    "snap-2".to_owned(),
                    VolumeGrants {
                        accounts: set(&["333"]),
                        public: false,
                    },
                ),
            ],
        };
        let got = held(&set(&["222", "333"]), "ami-1", &actual, true);
        assert_eq!(
            got,
            set(&["222 snap-1", "333 ami-1", "333 snap-1", "333 snap-2"])
        );
        assert_eq!(accounts(&got), set(&["222", "333"]));
        assert_eq!(snapshots(&got), set(&["snap-1", "snap-2"]));
        assert_eq!(
            held(&set(&["222", "333"]), "ami-1", &actual, false),
            set(&["333 ami-1"])
        );
    }
}
