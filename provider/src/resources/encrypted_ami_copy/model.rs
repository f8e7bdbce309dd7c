//! The resource's model: every attribute declared once, with its type,
//! description (as the registry docs show it) and plan behaviour.

use std::collections::BTreeMap;

use crate::protocol::declare::model;
use crate::resources::reach::{RoleModel, ASSUME_ROLE_DESCRIPTION, REGION_DESCRIPTION};

/// Tag maps as the model holds them.
pub(super) type Tags = BTreeMap<String, String>;

/// Default `timeouts.create`: longer than the aws provider's 40m, because
/// large cross-region copies exceed it; a timeout no longer taints anyway.
pub(super) const DEFAULT_CREATE_TIMEOUT: &str = "60m";
/// Default `timeouts.delete`.
pub(super) const DEFAULT_DELETE_TIMEOUT: &str = "30m";

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
             account's default EBS key. Forms naming the same key are equivalent; changing to another key replaces \
             the copy.",
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
            "The copy's state: `available` after a complete apply; `pending` when an apply was interrupted or \
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
        assume_role: RoleModel [] ASSUME_ROLE_DESCRIPTION,
        timeouts: Timeouts []
            "How long operations may take, as Go durations such as `60m` or `1h30m`.",
    }
}

model! {
    /// The `timeouts` block.
    pub(crate) struct Timeouts("How long operations may take.") {
        create: String [optional] format!(
            "How long create (and an apply that finishes an interrupted copy) waits for the copy to become \
             available. Default `{DEFAULT_CREATE_TIMEOUT}`. When it passes, the copy is kept in state as \
             `pending` with a warning, and the next apply waits for it."
        ),
        delete: String [optional] format!(
            "How long destroy waits for the copy's snapshots to be deleted. Default `{DEFAULT_DELETE_TIMEOUT}`."
        ),
    }
}
