//! The model of `imagecopier_ami_share`: every attribute declared once, and
//! the string sets it keeps exactly as Terraform sent them.

use std::collections::{BTreeMap, BTreeSet};

use crate::protocol::declare::model;
use crate::protocol::typed::Field;
use crate::resources::reach::{RoleModel, ASSUME_ROLE_DESCRIPTION, REGION_DESCRIPTION};
pub(crate) use crate::resources::string_set::StringSet;

/// What a set attribute holds, for logic that needs plain values.
pub(super) fn set_of(field: &Field<StringSet>) -> Option<BTreeSet<String>> {
    match field {
        Field::Known(set) => set.known(),
        Field::Null => Some(BTreeSet::new()),
        Field::Unknown => None,
    }
}

/// A set value for state, written the way the prior value was: an empty
/// set stays null when it was null, so an omitted argument shows no diff.
pub(super) fn set_like(prior: &Field<StringSet>, set: &BTreeSet<String>) -> Field<StringSet> {
    if set.is_empty() && !matches!(prior, Field::Known(_)) {
        Field::Null
    } else {
        Field::Known(StringSet::from_set(set))
    }
}

model! {
    /// `imagecopier_ami_share` as Terraform sees it.
    pub(crate) struct AmiShareModel(
        "Shares an AMI owned by the account this resource acts in (the provider's, or that of `assume_role`) with other accounts, organizations and \
         organizational units: launch permission on the AMI and, for accounts, createVolumePermission \
         on every EBS snapshot behind it, so that the targets can copy it. The whole set is managed as \
         one resource; changes are applied in place."
    ) {
        id: String [computed, keep] "The AMI ID (same as `image_id`).",
        region: String [optional, computed] REGION_DESCRIPTION,
        image_id: String [required, replace]
            "The AMI to share, owned by the account this resource acts in (`ami-` followed by 8 or 17 hex digits). \
             Changing it replaces the resource.",
        account_ids: StringSet [optional]
            "12-digit AWS account IDs that get launch permission on the AMI and (with `share_snapshots`) \
             createVolumePermission on each of its snapshots.",
        organization_arns: StringSet [optional]
            "AWS Organizations organization ARNs (`arn:aws:organizations::<account>:organization/o-...`) \
             that get launch permission. Snapshots cannot be shared with organizations.",
        organizational_unit_arns: StringSet [optional]
            "Organizational unit ARNs (`arn:aws:organizations::<account>:ou/o-.../ou-...`) that get \
             launch permission. Snapshots cannot be shared with organizational units.",
        share_snapshots: bool [optional, computed]
            "Whether accounts in `account_ids` also get createVolumePermission on every EBS snapshot of \
             the AMI, which they need to copy it. Defaults to `true`.",
        exclusive: bool [optional, computed]
            "When `true`, grants on the AMI (and, with `share_snapshots`, on its snapshots) that are not \
             in this configuration, public access included, are shown as drift and removed. Defaults to \
             `false`: other grants are left alone.",
        snapshot_ids: BTreeSet<String> [computed, aws] "The EBS snapshots behind the AMI.",
        image_name: String [computed, aws] "The AMI's name.",
        image_tags: BTreeMap<String, String> [computed, aws]
            "The AMI's tags as its owner sees them, without `aws:` keys. Other accounts cannot see these \
             tags; pass them to `imagecopier_encrypted_ami_copy.source_tags` to carry them over.",
        encrypted: bool [computed, aws] "Whether the AMI's EBS snapshots are encrypted.",
        kms_key_ids: BTreeSet<String> [computed, aws]
            "ARNs of the KMS keys that encrypt the AMI's snapshots. Target accounts need access to these \
             keys to copy the AMI.",
        share_kms_keys: bool [optional, computed]
            "When `true`, each account in `account_ids` also gets a KMS grant on every customer managed key \
             that encrypts the AMI's snapshots, allowing what a copy needs (CreateGrant, Decrypt, \
             DescribeKey, GenerateDataKey, GenerateDataKeyWithoutPlaintext, ReEncryptFrom). The grants are \
             named `imagecopier-share-<image_id>`; grants this resource did not make are never changed. \
             Organizations and OUs cannot hold grants: put the statements of the \
             `provider::imagecopier::key_policy_statements` function in the key's policy instead. Defaults \
             to `false`, because it changes who may use the key.",
        kms_grants: BTreeSet<String> [computed]
            "The KMS grants this share holds, one `\"<account_id> <key_arn>\"` per account and key; empty \
             unless `share_kms_keys = true`. A grant revoked outside Terraform leaves this set, so the plan \
             shows it and the apply makes it again.",
        permissions: BTreeSet<String> [computed]
            "The EC2 permissions this share holds, one `\"<account_id> <object_id>\"` per account and object: launch \
             permission on the AMI (`ami-...`) and, with `share_snapshots`, createVolumePermission on each snapshot \
             (`snap-...`). A permission revoked outside Terraform leaves this set, so the plan names the account \
             and the AMI or snapshot that lost it, and the apply grants it again. An account keeps its entries for \
             as long as it holds any of them, so destroy revokes everything the share granted, also after an \
             interrupted destroy or once the AMI itself is gone.",
        public: bool [computed]
            "Whether anyone may launch the AMI or create volumes from its snapshots. This resource never \
             makes an AMI public; with `exclusive = true` it removes public access.",
        assume_role: RoleModel [] ASSUME_ROLE_DESCRIPTION,
    }
}

impl AmiShareModel {
    /// `share_snapshots` with its default applied; `None` while unknown.
    pub(crate) fn shares_snapshots(&self) -> Option<bool> {
        self.share_snapshots.or_default_when_null(true)
    }

    /// `share_kms_keys` with its default applied; `None` while unknown.
    pub(crate) fn shares_kms_keys(&self) -> Option<bool> {
        self.share_kms_keys.or_default_when_null(false)
    }

    /// `exclusive` with its default applied; `None` while unknown.
    pub(crate) fn is_exclusive(&self) -> Option<bool> {
        self.exclusive.or_default_when_null(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::diagnostics::AttrPath;
    use crate::protocol::typed::{FromValue, IntoValue};
    use crate::protocol::value::Value;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn partially_unknown_sets_round_trip_and_read_as_unknown() {
        let raw = Value::Set(vec![Value::String("111111111111".into()), Value::Unknown]);
        let field: Field<StringSet> =
            Field::from_value(&raw, &AttrPath::root("account_ids")).expect("a set");
        assert_eq!(set_of(&field), None);
        assert_eq!(field.to_value(), raw);
    }

    #[test]
    fn every_attribute_is_documented() {
        use crate::protocol::declare::Declared;
        assert_eq!(
            AmiShareModel::block().missing_descriptions(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn set_like_keeps_the_prior_representation() {
        let empty = BTreeSet::new();
        let cases = [
            (Field::Null, &empty, Field::Null),
            (
                Field::Known(StringSet::from_set(&empty)),
                &empty,
                Field::Known(StringSet::from_set(&empty)),
            ),
        ];
        for (prior, new, want) in cases {
            assert_eq!(set_like(&prior, new), want);
        }
        let one = set(&["222222222222"]);
        assert_eq!(
            set_like(&Field::Null, &one),
            Field::Known(StringSet::from_set(&one))
        );
        assert_eq!(set_of(&Field::Null), Some(BTreeSet::new()));
    }
}
