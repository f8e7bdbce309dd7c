//! The resource's model: every attribute declared once, with its type,
//! description (as the registry docs show it) and plan behaviour.

use std::collections::BTreeMap;

use crate::protocol::declare::model;
use crate::resources::reach::{RoleModel, ASSUME_ROLE_DESCRIPTION, REGION_DESCRIPTION};

use super::timeouts::Timeouts;

/// Tag maps as the model holds them.
pub(super) type Tags = BTreeMap<String, String>;

/// A tag map written as pairs, for the tables of the unit tests.
#[cfg(test)]
pub(super) fn tags(pairs: &[(&str, &str)]) -> Tags {
    let owned = |(k, v): &(&str, &str)| ((*k).to_owned(), (*v).to_owned());
    pairs.iter().map(owned).collect()
}

model! {
    /// `imagecopier_encrypted_ami_copy` as Terraform sees it.
    pub(crate) struct CopyModel(
        "An encrypted copy, owned by the account this resource acts in (the provider's, or that of `assume_role`), of an AMI shared with it (usually by \
         `imagecopier_ami_share` in the bake account). The source's tags travel with it through `source_tags` \
         and are written, with `Encrypted = \"true\"` and `CopiedFromAMI`, onto the copy and each of its snapshots."
    ) {
        id: String [computed, aws] "The copy's AMI id.",
        region: String [optional, computed] REGION_DESCRIPTION,
        source_ami_id: String [required, replace]
            "The AMI to copy, `ami-...`. It must be shared with this account, snapshots included. Changing it \
             replaces the copy.",
        source_region: String [optional, computed, replace]
            "The source AMI's region. Default: the copy's `region` (a copy in the same region). Another region makes \
             a cross-region copy, encrypted with `kms_key_id`, a key of the copy's region. Changing it replaces the copy.",
        name: String [optional, computed, replace]
            "The copy's AMI name, unique in the account and region. Default: `<source_ami_id>-encrypted-<hash of \
             source_region and kms_key_id>`, known at plan time. Changing it replaces the copy.",
        description: String [optional, computed]
            "The copy's description. Updated in place. When not set, the copy keeps whatever description EC2 gives \
             it, and a plan shows no change for it.",
        // Not `replace`: forms of the same key are the same key (see plan.rs).
        kms_key_id: String [optional]
            "The KMS key to encrypt with: key id, key ARN, alias name (`alias/ami`) or alias ARN. Default: the \
             account's default EBS key. It must be an enabled symmetric encryption key in the copy's region \
             (checked at plan). Forms naming the same key are equivalent; changing to another key replaces the copy.",
        kms_key_arn: String [computed, keep] "The ARN of the key the copy is encrypted with.",
        source_tags: Tags [optional]
            "Tags carried over from the source account (AWS never shows one account's tags to another), typically \
             `imagecopier_ami_share.<name>.image_tags`. Updated in place.",
        tags: Tags [optional]
            "Extra tags; they win over `source_tags` and the provider's `default_tags`. `aws:` keys, `Encrypted` \
             and `CopiedFromAMI` are not allowed. Updated in place.",
        tags_all: Tags [computed]
            "The tags on the copy and on every one of its snapshots: `default_tags`, then `source_tags`, then \
             `tags`, then `Encrypted = \"true\"` and `CopiedFromAMI = <source_ami_id>`. A tag edited, added or \
             removed on the AMI or any snapshot shows here as drift, with the value found, and is repaired by apply.",
        snapshot_ids: Vec<String> [computed, aws] "The copy's EBS snapshots.",
        state: String [computed, aws]
            "The copy's state: `available` after a complete apply; `disabled` while `enabled` is false; `pending` \
             when an apply was interrupted or \
             timed out while the copy was still running (the next apply waits for it); `deregistered` when the AMI \
             is gone but some of its snapshots remain (the next plan replaces the copy, and the replacement or a \
             destroy deletes them).",
        owner_id: String [computed, aws]
            "The account that owns the copy: the account of `assume_role.role_arn`, else the provider's. Known at plan.",
        creation_date: String [computed, aws] "When the copy was created (ISO 8601).",
        architecture: String [computed, aws] "The CPU architecture, e.g. `x86_64`.",
        root_device_name: String [computed, aws] "The root device, e.g. `/dev/xvda`.",
        virtualization_type: String [computed, aws] "`hvm` or `paravirtual`.",
        platform_details: String [computed, aws] "The platform, e.g. `Linux/UNIX`.",
        enabled: bool [optional, computed]
            "Whether the copy is enabled. Default `true`. `false` disables it (EC2 DisableImage): it stays, snapshots \
             and all, but no instance can be launched from it and EC2 leaves it out of listings, until it is enabled \
             again. A copy disabled outside Terraform shows in the plan as `enabled = false -> true`, and apply \
             enables it again; set `false` to keep it disabled. Updated in place.",
        deregistration_protection: ProtectionModel []
            "Deregistration protection (EC2 EnableImageDeregistrationProtection): while it is on, EC2 refuses to \
             deregister the copy, so nothing outside this resource can delete it. Destroy and replacement turn it \
             off first; with `with_cooldown`, EC2 keeps refusing for 24 hours after that, so destroy fails at once \
             saying when it can go ahead, and the copy stays in state. Protection turned off outside Terraform shows \
             in the plan. Updated in place.",
        deprecation_time: String [optional]
            "When the copy is deprecated (EC2 EnableImageDeprecation), as an RFC 3339 time such as \
             `2027-06-30T00:00:00Z`. EC2 rounds it to the nearest minute (a plan shows no change for that), and \
             allows a time from now up to 10 years ahead, checked at plan. A deprecated copy can still launch \
             instances; other accounts' listings leave it out. Removing the attribute cancels the deprecation; a \
             deprecation changed or cancelled outside Terraform shows in the plan. Updated in place.",
        completion_duration_minutes: i64 [optional]
            "Makes a time-based copy (CopyImage SnapshotCopyCompletionDurationMinutes): EC2 completes it within this \
             many minutes, 15 to 2880 in steps of 15, rather than as fast as it can. It shapes only the creation (a \
             change later does nothing to the copy, and does not replace it). The default `timeouts.create` becomes \
             this duration plus 30 minutes when that is longer than the usual default.",
        skip_destroy: bool [optional]
            "Keep the copy on destroy: `true` removes it from Terraform state and leaves the AMI and its snapshots in \
             AWS, with a warning naming them. Like the aws provider's `skip_destroy`, it takes effect once applied \
             (it is read from state at destroy time). Default `false`.",
        force_destroy: bool [optional]
            "Destroy (or replace) the copy even while a launch template in its account and region launches it. By \
             default destroy refuses while a launch template's default or latest version names the copy, listing \
             each one, so an Auto Scaling group using the template cannot lose its image. Running instances never \
             stop a destroy (deregistering does not affect them); a warning says how many there are. Like \
             `skip_destroy`, it is read from state at destroy time, so apply it first. Default `false`.",
        assume_role: RoleModel [] ASSUME_ROLE_DESCRIPTION,
        timeouts: Timeouts []
            "How long operations may take, as Go durations such as `60m` or `1h30m`.",
    }
}

model! {
    /// The `deregistration_protection` block.
    pub(crate) struct ProtectionModel("Deregistration protection of the copy.") {
        enabled: bool [required] "Whether deregistration protection is on.",
        with_cooldown: bool [optional]
            "Whether EC2 keeps protecting the copy for 24 hours after protection is turned off (EC2's \
             `WithCooldown`). Default `false`.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_is_described() {
        assert_eq!(
            <CopyModel as crate::protocol::declare::Declared>::block().missing_descriptions(),
            Vec::<String>::new()
        );
    }
}
