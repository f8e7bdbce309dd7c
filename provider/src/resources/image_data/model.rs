//! The data source's model: the search's arguments and the AMI found.

use std::collections::BTreeMap;

use crate::protocol::declare::model;
use crate::resources::reach::REGION_DESCRIPTION;
use crate::resources::string_set::StringSet;

model! {
    /// `imagecopier_image` as Terraform sees it.
    pub(crate) struct ImageModel(
        "The newest available AMI the caller can see among those owned by `owners`, optionally matching a name \
         pattern and tags, like the aws provider's `aws_ami` with `most_recent = true`. An account repository \
         finds the bake account's latest shared AMI with it. Fails when no AMI matches."
    ) {
        id: String [computed] "The AMI id.",
        region: String [optional, computed] REGION_DESCRIPTION,
        owners: StringSet [required]
            "Whose AMIs to search: 12-digit account ids, `self`, `amazon` or `aws-marketplace` (DescribeImages \
             `Owners`). An AMI another account owns is visible once it is shared with this account.",
        name_pattern: String [optional]
            "Only AMIs whose name matches, with `*` for any run of characters and `?` for one (DescribeImages' \
             `name` filter), e.g. `app-*`.",
        tags: BTreeMap<String, String> [optional]
            "Only AMIs carrying each of these tags with that value. EC2 shows an AMI's tags only to its owner, \
             so this matches only the caller's own AMIs.",
        include_deprecated: bool [optional]
            "Whether deprecated AMIs count. Default `false`: EC2 leaves them out of searches.",
        name: String [computed] "The AMI's name.",
        description: String [computed] "The AMI's description.",
        owner_id: String [computed] "The account that owns the AMI.",
        creation_date: String [computed] "When the AMI was created (ISO 8601).",
        deprecation_time: String [computed]
            "When the AMI is or was deprecated (ISO 8601); empty if it is not scheduled.",
        architecture: String [computed] "The CPU architecture, e.g. `x86_64`.",
        root_device_name: String [computed] "The root device, e.g. `/dev/xvda`.",
        virtualization_type: String [computed] "`hvm` or `paravirtual`.",
        platform_details: String [computed] "The platform, e.g. `Linux/UNIX`.",
        encrypted: bool [computed] "Whether the AMI's EBS snapshots are encrypted.",
        snapshot_ids: Vec<String> [computed] "The AMI's EBS snapshots, in block device order.",
        image_tags: BTreeMap<String, String> [computed]
            "The AMI's tags as the caller sees them (none for another account's AMI).",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::declare::Declared;

    #[test]
    fn every_attribute_is_documented() {
        assert_eq!(
            ImageModel::block().missing_descriptions(),
            Vec::<String>::new()
        );
    }
}
