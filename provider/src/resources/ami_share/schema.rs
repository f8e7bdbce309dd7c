//! The schema of `imagecopier_ami_share`.

use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Type;

/// The resource's schema, version 0.
pub fn schema() -> Schema {
    let strings = || Type::set(Type::String);
    let block = Block::new(
        "Shares an AMI owned by the provider's account with other accounts, organizations and \
         organizational units: launch permission on the AMI and, for accounts, createVolumePermission \
         on every EBS snapshot behind it, so that the targets can copy it. The whole set is managed as \
         one resource; changes are applied in place.",
    )
    .attribute(Attribute::computed(
        "id",
        Type::String,
        "The AMI ID (same as `image_id`).",
    ))
    .attribute(Attribute::required(
        "image_id",
        Type::String,
        "The AMI to share, owned by the provider's account (`ami-` followed by 8 or 17 hex digits). \
         Changing it replaces the resource.",
    ))
    .attribute(Attribute::optional(
        "account_ids",
        strings(),
        "12-digit AWS account IDs that get launch permission on the AMI and (with `share_snapshots`) \
         createVolumePermission on each of its snapshots.",
    ))
    .attribute(Attribute::optional(
        "organization_arns",
        strings(),
        "AWS Organizations organization ARNs (`arn:aws:organizations::<account>:organization/o-...`) \
         that get launch permission. Snapshots cannot be shared with organizations.",
    ))
    .attribute(Attribute::optional(
        "organizational_unit_arns",
        strings(),
        "Organizational unit ARNs (`arn:aws:organizations::<account>:ou/o-.../ou-...`) that get \
         launch permission. Snapshots cannot be shared with organizational units.",
    ))
    .attribute(Attribute::optional_computed(
        "share_snapshots",
        Type::Bool,
        "Whether accounts in `account_ids` also get createVolumePermission on every EBS snapshot of \
         the AMI, which they need to copy it. Defaults to `true`.",
    ))
    .attribute(Attribute::optional_computed(
        "exclusive",
        Type::Bool,
        "When `true`, grants on the AMI (and, with `share_snapshots`, on its snapshots) that are not \
         in this configuration, public access included, are shown as drift and removed. Defaults to \
         `false`: other grants are left alone.",
    ))
    .attribute(Attribute::computed(
        "snapshot_ids",
        strings(),
        "The EBS snapshots behind the AMI.",
    ))
    .attribute(Attribute::computed(
        "image_name",
        Type::String,
        "The AMI's name.",
    ))
    .attribute(Attribute::computed(
        "image_tags",
        Type::map(Type::String),
        "The AMI's tags as its owner sees them, without `aws:` keys. Other accounts cannot see these \
         tags; pass them to `imagecopier_encrypted_ami_copy.source_tags` to carry them over.",
    ))
    .attribute(Attribute::computed(
        "encrypted",
        Type::Bool,
        "Whether the AMI's EBS snapshots are encrypted.",
    ))
    .attribute(Attribute::computed(
        "kms_key_ids",
        strings(),
        "ARNs of the KMS keys that encrypt the AMI's snapshots. Target accounts need access to these \
         keys to copy the AMI.",
    ))
    .attribute(Attribute::computed(
        "public",
        Type::Bool,
        "Whether anyone may launch the AMI or create volumes from its snapshots. This resource never \
         makes an AMI public; with `exclusive = true` it removes public access.",
    ));
    Schema::new(0, block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_is_documented() {
        assert_eq!(schema().block.missing_descriptions(), Vec::<String>::new());
    }
}
