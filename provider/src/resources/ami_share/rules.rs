//! The set logic of sharing, with no AWS calls: what counts as shared, what
//! read reports, and which grants and revocations reach the desired state.

use std::collections::BTreeSet;

use crate::aws::permissions::{LaunchGrants, VolumeGrants};

/// The principals a configuration (or a state) manages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Managed {
    /// Accounts: launch permission, and snapshot permission with `share_snapshots`.
    pub accounts: BTreeSet<String>,
    /// Organizations: launch permission.
    pub organizations: BTreeSet<String>,
    /// Organizational units: launch permission.
    pub organizational_units: BTreeSet<String>,
    /// Whether snapshots are shared with the accounts.
    pub share_snapshots: bool,
    /// Whether every other grant is removed.
    pub exclusive: bool,
}

/// The grants that exist on an AMI and its snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Actual {
    /// Launch permission on the AMI.
    pub launch: LaunchGrants,
    /// createVolumePermission, per snapshot id.
    pub volumes: Vec<(String, VolumeGrants)>,
}

impl Actual {
    /// Accounts that hold launch permission and, when `share_snapshots`,
    /// createVolumePermission on every snapshot: the accounts that can
    /// actually copy the AMI.
    pub(super) fn fully_shared_accounts(&self, share_snapshots: bool) -> BTreeSet<String> {
        self.launch
            .accounts
            .iter()
            .filter(|a| {
                !share_snapshots || self.volumes.iter().all(|(_, v)| v.accounts.contains(*a))
            })
            .cloned()
            .collect()
    }

    /// Whether anyone may launch the AMI or, when snapshots are considered,
    /// create volumes from one of its snapshots.
    pub(super) fn public(&self, share_snapshots: bool) -> bool {
        self.launch.public || (share_snapshots && self.volumes.iter().any(|(_, v)| v.public))
    }

    /// Accounts holding any grant this resource may manage.
    fn any_account(&self, share_snapshots: bool) -> BTreeSet<String> {
        let mut all = self.launch.accounts.clone();
        if share_snapshots {
            for (_, v) in &self.volumes {
                all.extend(v.accounts.iter().cloned());
            }
        }
        all
    }
}

/// What read reports for the managed sets, given what the state says is
/// managed and what exists. A managed principal whose grant is gone (or, for
/// an account, incomplete) is left out, so the plan adds it back. With
/// `exclusive`, every other principal with a grant is put in, so the plan
/// removes it.
pub(super) fn observe(managed: &Managed, actual: &Actual) -> Managed {
    let full = actual.fully_shared_accounts(managed.share_snapshots);
    let mut accounts: BTreeSet<String> = managed.accounts.intersection(&full).cloned().collect();
    let launch = &actual.launch;
    let (organizations, organizational_units) = if managed.exclusive {
        accounts.extend(
            actual
                .any_account(managed.share_snapshots)
                .into_iter()
                .filter(|a| !managed.accounts.contains(a)),
        );
        (
            launch.organizations.clone(),
            launch.organizational_units.clone(),
        )
    } else {
        (
            managed
                .organizations
                .intersection(&launch.organizations)
                .cloned()
                .collect(),
            managed
                .organizational_units
                .intersection(&launch.organizational_units)
                .cloned()
                .collect(),
        )
    };
    Managed {
        accounts,
        organizations,
        organizational_units,
        ..managed.clone()
    }
}

/// The calls that take `actual` to `desired`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Changes {
    /// Launch permissions to grant.
    pub launch_add: LaunchGrants,
    /// Launch permissions to revoke (public access included, with `exclusive`).
    pub launch_remove: LaunchGrants,
    /// Per snapshot: accounts to grant createVolumePermission.
    pub volume_add: Vec<(String, BTreeSet<String>)>,
    /// Per snapshot: accounts to revoke, and whether to revoke public access.
    pub volume_remove: Vec<(String, BTreeSet<String>, bool)>,
}

impl Changes {
    /// True when no call is needed.
    pub(super) fn is_empty(&self) -> bool {
        self.launch_add.is_empty()
            && self.launch_remove.is_empty()
            && self.volume_add.is_empty()
            && self.volume_remove.is_empty()
    }
}

/// Grants what `desired` has and `actual` lacks; revokes what `prior`
/// managed and `desired` no longer has (or, with `exclusive`, everything not
/// desired). Only grants that exist are revoked and only missing ones are
/// granted, so the same call is safe to repeat.
pub(super) fn changes(desired: &Managed, prior: &Managed, actual: &Actual) -> Changes {
    let minus = |a: &BTreeSet<String>, b: &BTreeSet<String>| -> BTreeSet<String> {
        a.difference(b).cloned().collect()
    };
    // Without `exclusive`, only what this resource granted is ours to revoke.
    let revocable =
        |prior: &BTreeSet<String>, desired: &BTreeSet<String>, actual: &BTreeSet<String>| {
            minus(prior, desired)
                .intersection(actual)
                .cloned()
                .collect::<BTreeSet<String>>()
        };
    let launch = &actual.launch;
    let launch_remove = if desired.exclusive {
        LaunchGrants {
            accounts: minus(&launch.accounts, &desired.accounts),
            organizations: minus(&launch.organizations, &desired.organizations),
            organizational_units: minus(
                &launch.organizational_units,
                &desired.organizational_units,
            ),
            public: launch.public,
        }
    } else {
        LaunchGrants {
            accounts: revocable(&prior.accounts, &desired.accounts, &launch.accounts),
            organizations: revocable(
                &prior.organizations,
                &desired.organizations,
                &launch.organizations,
            ),
            organizational_units: revocable(
                &prior.organizational_units,
                &desired.organizational_units,
                &launch.organizational_units,
            ),
            public: false,
        }
    };
    let launch_add = LaunchGrants {
        accounts: minus(&desired.accounts, &launch.accounts),
        organizations: minus(&desired.organizations, &launch.organizations),
        organizational_units: minus(&desired.organizational_units, &launch.organizational_units),
        public: false,
    };
    let mut volume_add = Vec::new();
    let mut volume_remove = Vec::new();
    for (snapshot, grants) in &actual.volumes {
        let wanted = if desired.share_snapshots {
            desired.accounts.clone()
        } else {
            BTreeSet::new()
        };
        let add = minus(&wanted, &grants.accounts);
        let (remove, public) = if desired.exclusive && desired.share_snapshots {
            (minus(&grants.accounts, &wanted), grants.public)
        } else if prior.share_snapshots {
            (revocable(&prior.accounts, &wanted, &grants.accounts), false)
        } else {
            (BTreeSet::new(), false)
        };
        if !add.is_empty() {
            volume_add.push((snapshot.clone(), add));
        }
        if !remove.is_empty() || public {
            volume_remove.push((snapshot.clone(), remove, public));
        }
    }
    Changes {
        launch_add,
        launch_remove,
        volume_add,
        volume_remove,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    const B: &str = "222222222222";
    const C: &str = "333333333333";
    const D: &str = "444444444444";
    const ORG: &str = "arn:aws:organizations::111111111111:organization/o-exampleorgid";

    fn managed(accounts: &[&str], exclusive: bool) -> Managed {
        Managed {
            accounts: set(accounts),
            share_snapshots: true,
            exclusive,
            ..Managed::default()
        }
    }

    fn actual(launch: &[&str], snapshots: &[&[&str]], public: bool) -> Actual {
        Actual {
            launch: LaunchGrants {
                accounts: set(launch),
                public,
                ..LaunchGrants::default()
            },
            volumes: snapshots
                .iter()
                .enumerate()
                .map(|(i, accounts)| {
                    let grants = VolumeGrants {
                        accounts: set(accounts),
                        public: false,
                    };
                    (format!("snap-{i}"), grants)
                })
                .collect(),
        }
    }

    #[test]
    fn observe_reports_drift() {
        let cases = [
            (
                "all in place",
                managed(&[B, C], false),
                actual(&[B, C], &[&[B, C], &[B, C]], false),
                set(&[B, C]),
            ),
            (
                "snapshot grant revoked",
                managed(&[B, C], false),
                actual(&[B, C], &[&[B, C], &[B]], false),
                set(&[B]),
            ),
            (
                "launch grant revoked",
                managed(&[B, C], false),
                actual(&[B], &[&[B, C], &[B, C]], false),
                set(&[B]),
            ),
            (
                "others ignored",
                managed(&[B], false),
                actual(&[B, D], &[&[B, D]], false),
                set(&[B]),
            ),
            (
                "others shown when exclusive",
                managed(&[B], true),
                actual(&[B, D], &[&[B]], false),
                set(&[B, D]),
            ),
            (
                "snapshot-only extra shown when exclusive",
                managed(&[B], true),
                actual(&[B], &[&[B, D]], false),
                set(&[B, D]),
            ),
            (
                "snapshots ignored without share_snapshots",
                Managed {
                    share_snapshots: false,
                    ..managed(&[B], false)
                },
                actual(&[B], &[&[]], false),
                set(&[B]),
            ),
        ];
        for (name, state, actual, want) in cases {
            assert_eq!(observe(&state, &actual).accounts, want, "{name}");
        }
    }

    #[test]
    fn observe_organizations() {
        let mut state = managed(&[], false);
        state.organizations = set(&[ORG]);
        let mut found = actual(&[], &[], false);
        assert!(
            observe(&state, &found).organizations.is_empty(),
            "revoked org is drift"
        );
        found.launch.organizations = set(&[ORG, "arn:aws:organizations::1:organization/o-other"]);
        assert_eq!(observe(&state, &found).organizations, set(&[ORG]));
        state.exclusive = true;
        assert_eq!(
            observe(&state, &found).organizations.len(),
            2,
            "extra org shown when exclusive"
        );
    }

    #[test]
    fn changes_are_a_set_diff() {
        // Add C, drop B; D was granted by someone else and stays.
        let got = changes(
            &managed(&[C], false),
            &managed(&[B], false),
            &actual(&[B, D], &[&[B, D]], false),
        );
        assert_eq!(got.launch_add.accounts, set(&[C]));
        assert_eq!(got.launch_remove.accounts, set(&[B]));
        assert_eq!(got.volume_add, vec![("snap-0".to_owned(), set(&[C]))]);
        assert_eq!(
            got.volume_remove,
            vec![("snap-0".to_owned(), set(&[B]), false)]
        );

        // Exclusive: D and public access go as well.
        let got = changes(
            &managed(&[C], true),
            &managed(&[B], false),
            &actual(&[B, D], &[&[B, D]], true),
        );
        assert_eq!(got.launch_remove.accounts, set(&[B, D]));
        assert!(got.launch_remove.public);
        assert_eq!(
            got.volume_remove,
            vec![("snap-0".to_owned(), set(&[B, D]), false)]
        );

        // Repairing drift: only the missing snapshot grant is made.
        let got = changes(
            &managed(&[B], false),
            &managed(&[B], false),
            &actual(&[B], &[&[B], &[]], false),
        );
        assert!(got.launch_add.is_empty() && got.launch_remove.is_empty());
        assert_eq!(got.volume_add, vec![("snap-1".to_owned(), set(&[B]))]);

        // Destroy: everything managed, nothing else.
        let got = changes(
            &Managed::default(),
            &managed(&[B], true),
            &actual(&[B, D], &[&[B, D]], false),
        );
        assert_eq!(got.launch_remove.accounts, set(&[B]));
        assert_eq!(
            got.volume_remove,
            vec![("snap-0".to_owned(), set(&[B]), false)]
        );

        // Turning share_snapshots off revokes the snapshot grants made.
        let off = Managed {
            share_snapshots: false,
            ..managed(&[B], false)
        };
        let got = changes(&off, &managed(&[B], false), &actual(&[B], &[&[B]], false));
        assert!(got.launch_remove.is_empty());
        assert_eq!(
            got.volume_remove,
            vec![("snap-0".to_owned(), set(&[B]), false)]
        );

        // In place already: nothing to do.
        assert!(changes(
            &managed(&[B], false),
            &managed(&[B], false),
            &actual(&[B], &[&[B]], false)
        )
        .is_empty());
    }
}
