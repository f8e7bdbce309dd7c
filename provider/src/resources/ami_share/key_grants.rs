//! `share_kms_keys`: a KMS grant per account and customer managed key, so
//! that the accounts a share names can copy an AMI encrypted with the bake
//! account's key.
//!
//! The grants are the share's own: named `imagecopier-share-<image id>`,
//! made for the account's root principal (`arn:<partition>:iam::<account>:root`,
//! which the account's IAM policies then delegate), and only those are ever
//! retired or revoked. State records them as `"<account> <key ARN>"` so a
//! plan shows one line per grant, and destroy still finds the keys when the
//! AMI itself is gone.

use std::collections::BTreeSet;

use crate::aws::kms_grants::{self, GrantRemoval, KeyGrant};
use crate::aws::snapshot::Snapshot;
use crate::aws::{AwsClients, AwsError};

/// What a copy of the AMI needs on the source key (EBS User Guide, sharing
/// the KMS key of an encrypted snapshot: DescribeKey, CreateGrant, Decrypt,
/// GenerateDataKey*, ReEncrypt*), narrowed to re-encryption *from* this key:
/// the copy is encrypted with the target's own key.
pub(super) const OPERATIONS: &[&str] = &[
    "CreateGrant",
    "Decrypt",
    "DescribeKey",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
];

/// The name of every grant the share of `image_id` makes.
pub(super) fn grant_name(image_id: &str) -> String {
    format!("imagecopier-share-{image_id}")
}

/// One grant as state records it.
pub(super) fn entry(account: &str, key_arn: &str) -> String {
    format!("{account} {key_arn}")
}

/// The account and key of an entry; `None` for a malformed one.
pub(super) fn parse_entry(entry: &str) -> Option<(&str, &str)> {
    entry.split_once(' ')
}

/// Every grant for `accounts` on `keys`.
pub(super) fn entries(accounts: &BTreeSet<String>, keys: &BTreeSet<String>) -> BTreeSet<String> {
    accounts
        .iter()
        .flat_map(|a| keys.iter().map(move |k| entry(a, k)))
        .collect()
}

/// The keys that encrypt `snapshots`: the ones a copy must be able to use.
pub(super) fn keys_of(snapshots: &[Snapshot]) -> BTreeSet<String> {
    snapshots
        .iter()
        .filter(|s| s.encrypted)
        .filter_map(|s| s.kms_key_id.clone())
        .collect()
}

/// The account a root principal ARN names.
fn account_of(principal: &str) -> Option<&str> {
    let rest = principal.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(":iam::")?;
    rest.strip_suffix(":root")
}

/// Whether `grant` is one of this share's and allows all a copy needs.
fn complete(grant: &KeyGrant) -> bool {
    OPERATIONS
        .iter()
        .all(|op| grant.operations.iter().any(|have| have == op))
}

/// This share's grants on one key, with the account each is for.
fn ours<'a>(grants: &'a [KeyGrant], name: &str) -> Vec<(&'a str, &'a KeyGrant)> {
    grants
        .iter()
        .filter(|g| g.name == name)
        .filter_map(|g| account_of(&g.grantee_principal).map(|a| (a, g)))
        .collect()
}

/// The grants of this share that exist for `accounts` on `keys`, as entries.
pub(super) async fn held(
    clients: &AwsClients,
    image_id: &str,
    keys: &BTreeSet<String>,
    accounts: &BTreeSet<String>,
) -> Result<BTreeSet<String>, AwsError> {
    let name = grant_name(image_id);
    let mut found = BTreeSet::new();
    for key in keys {
        let grants = kms_grants::list_grants(clients, key).await?;
        for (account, grant) in ours(&grants, &name) {
            if accounts.contains(account) && complete(grant) {
                found.insert(entry(account, key));
            }
        }
    }
    Ok(found)
}

/// Makes a grant on every key for every account in `desired` that lacks
/// one, then retires this share's grants for accounts in `revocable` that
/// are no longer desired. Grants come first, so a failure half way leaves
/// no account with less than it had. Returns the entries now held.
pub(super) async fn converge(
    clients: &AwsClients,
    image_id: &str,
    keys: &BTreeSet<String>,
    desired: &BTreeSet<String>,
    revocable: &BTreeSet<String>,
) -> Result<BTreeSet<String>, AwsError> {
    let name = grant_name(image_id);
    let mut retire = Vec::new();
    for key in keys {
        let grants = kms_grants::list_grants(clients, key).await?;
        let mine = ours(&grants, &name);
        for account in desired {
            if !mine.iter().any(|(a, g)| a == account && complete(g)) {
                let grantee = format!("arn:{}:iam::{account}:root", clients.partition);
                kms_grants::create_grant(clients, key, &grantee, &name, OPERATIONS).await?;
            }
        }
        retire.extend(
            mine.into_iter()
                .filter(|(a, _)| !desired.contains(*a) && revocable.contains(*a))
                .map(|(_, g)| (key.clone(), g.grant_id.clone())),
        );
    }
    for (key, grant_id) in retire {
        kms_grants::remove_grant(clients, &key, &grant_id, GrantRemoval::Retire).await?;
    }
    Ok(entries(desired, keys))
}

/// Revokes this share's grants for `accounts` on `keys` (destroy).
pub(super) async fn revoke(
    clients: &AwsClients,
    image_id: &str,
    keys: &BTreeSet<String>,
    accounts: &BTreeSet<String>,
) -> Result<(), AwsError> {
    let name = grant_name(image_id);
    for key in keys {
        let grants = kms_grants::list_grants(clients, key).await?;
        for (account, grant) in ours(&grants, &name) {
            if accounts.contains(account) {
                kms_grants::remove_grant(clients, key, &grant.grant_id, GrantRemoval::Revoke)
                    .await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(name: &str, principal: &str, operations: &[&str]) -> KeyGrant {
        KeyGrant {
            grant_id: format!("g-{principal}"),
            name: name.to_owned(),
            grantee_principal: principal.to_owned(),
            operations: operations.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn entries_round_trip() {
        let accounts = BTreeSet::from(["222222222222".to_owned(), "333333333333".to_owned()]);
        let keys = BTreeSet::from(["arn:aws:kms:eu-west-1:111111111111:key/k1".to_owned()]);
        let all = entries(&accounts, &keys);
        assert_eq!(all.len(), 2);
        let first = all.iter().next().expect("an entry");
        assert_eq!(
            parse_entry(first),
            Some(("222222222222", "arn:aws:kms:eu-west-1:111111111111:key/k1"))
        );
    }

    #[test]
    fn only_named_root_grants_with_every_operation_count() {
        let name = grant_name("ami-1");
        let grants = vec![
            grant(&name, "arn:aws:iam::222222222222:root", OPERATIONS),
            grant(&name, "arn:aws-cn:iam::333333333333:root", &["Decrypt"]),
            grant("theirs", "arn:aws:iam::444444444444:root", OPERATIONS),
            grant(&name, "arn:aws:iam::555555555555:role/x", OPERATIONS),
        ];
        let found = ours(&grants, &name);
        let accounts: Vec<&str> = found.iter().map(|(a, _)| *a).collect();
        assert_eq!(accounts, ["222222222222", "333333333333"]);
        let complete: Vec<bool> = found.iter().map(|(_, g)| complete(g)).collect();
        assert_eq!(complete, [true, false]);
    }
}
