//! The resource's schema: every attribute described, as the registry docs show it.

use crate::protocol::schema::{Attribute, Block, NestedBlock, Schema};
use crate::protocol::value::Type;

use super::rules::{DEFAULT_CREATE_TIMEOUT, DEFAULT_DELETE_TIMEOUT};

fn string_map() -> Type {
    Type::map(Type::String)
}

/// The schema, version 0.
pub fn schema() -> Schema {
    let timeouts = Block::new("How long operations may take, as Go durations such as `60m` or `1h30m`.")
        .attribute(Attribute::optional(
            "create",
            Type::String,
            &format!(
                "How long create (and an apply that finishes an interrupted copy) waits for the copy to become \
                 available. Default `{DEFAULT_CREATE_TIMEOUT}`. When it passes, the copy is kept in state as \
                 `pending` with a warning, and the next apply waits for it."
            ),
        ))
        .attribute(Attribute::optional(
            "delete",
            Type::String,
            &format!("How long destroy waits for the copy's snapshots to be deleted. Default `{DEFAULT_DELETE_TIMEOUT}`."),
        ));
    let block = Block::new(
        "An encrypted copy, owned by this provider's account, of an AMI shared with it (usually by \
         `imagecopier_ami_share` in the bake account). The source's tags travel with it through `source_tags` \
         and are written, with `Encrypted = \"true\"` and `CopiedFromAMI`, onto the copy and each of its snapshots.",
    )
    .attribute(Attribute::computed("id", Type::String, "The copy's AMI id."))
    .attribute(Attribute::required(
        "source_ami_id",
        Type::String,
        "The AMI to copy, `ami-...`. It must be shared with this account, snapshots included. Changing it replaces the copy.",
    ))
    .attribute(Attribute::optional_computed(
        "source_region",
        Type::String,
        "The source AMI's region. Default: the provider's region. Changing it replaces the copy.",
    ))
    .attribute(Attribute::optional_computed(
        "name",
        Type::String,
        "The copy's AMI name, unique in the account and region. Default: `<source_ami_id>-encrypted-<hash of \
         source_region and kms_key_id>`, known at plan time. Changing it replaces the copy.",
    ))
    .attribute(Attribute::optional_computed("description", Type::String, "The copy's description. Updated in place. When not set, the copy keeps the description EC2 gives it (the stand-in, like the console, carries the source's), and a plan shows no change for it."))
    .attribute(Attribute::optional(
        "kms_key_id",
        Type::String,
        "The KMS key to encrypt with: key id, key ARN, alias name (`alias/ami`) or alias ARN. Default: the \
         account's default EBS key. Forms naming the same key are equivalent; changing to another key replaces the copy.",
    ))
    .attribute(Attribute::computed("kms_key_arn", Type::String, "The ARN of the key the copy is encrypted with."))
    .attribute(Attribute::optional(
        "source_tags",
        string_map(),
        "Tags carried over from the source account (AWS never shows one account's tags to another), typically \
         `imagecopier_ami_share.<name>.image_tags`. Updated in place.",
    ))
    .attribute(Attribute::optional(
        "tags",
        string_map(),
        "Extra tags; they win over `source_tags` and the provider's `default_tags`. `aws:` keys, `Encrypted` and \
         `CopiedFromAMI` are not allowed. Updated in place.",
    ))
    .attribute(Attribute::computed(
        "tags_all",
        string_map(),
        "The tags on the copy and on every one of its snapshots: `default_tags`, then `source_tags`, then `tags`, \
         then `Encrypted = \"true\"` and `CopiedFromAMI = <source_ami_id>`. A tag edited, added or removed on the AMI \
         or any snapshot shows here as drift, with the value found, and is repaired by apply.",
    ))
    .attribute(Attribute::computed("snapshot_ids", Type::list(Type::String), "The copy's EBS snapshots."))
    .attribute(Attribute::computed(
        "state",
        Type::String,
        "The copy's state: `available` after a complete apply; `pending` when an apply was interrupted or timed \
         out while the copy was still running (the next apply waits for it); `deregistered` when the AMI is \
         gone but some of its snapshots remain (the next plan replaces the copy, and the replacement or a \
         destroy deletes them).",
    ))
    .attribute(Attribute::computed("owner_id", Type::String, "The account that owns the copy."))
    .attribute(Attribute::computed("creation_date", Type::String, "When the copy was created (ISO 8601)."))
    .attribute(Attribute::computed("architecture", Type::String, "The CPU architecture, e.g. `x86_64`."))
    .attribute(Attribute::computed("root_device_name", Type::String, "The root device, e.g. `/dev/xvda`."))
    .attribute(Attribute::computed("virtualization_type", Type::String, "`hvm` or `paravirtual`."))
    .attribute(Attribute::computed("platform_details", Type::String, "The platform, e.g. `Linux/UNIX`."))
    .block(NestedBlock::single("timeouts", timeouts));
    Schema::new(0, block)
}
