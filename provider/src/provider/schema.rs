//! The `provider "imagecopier"` block.

use crate::protocol::schema::{Attribute, Block, NestedBlock, Schema};
use crate::protocol::value::Type;

fn string_set() -> Type {
    Type::Set(Box::new(Type::String))
}

/// Schema of the provider block; names follow the aws provider so that
/// platform teams can carry their configuration over.
pub(super) fn provider_schema() -> Schema {
    let assume_role = Block::new("Assume an IAM role before making any call, as the aws provider does.")
        .attribute(Attribute::required(
            "role_arn",
            Type::String,
            "ARN of the role to assume, e.g. `arn:aws:iam::111111111111:role/ami-publisher`.",
        ))
        .attribute(Attribute::optional(
            "session_name",
            Type::String,
            "Session name shown in CloudTrail. Defaults to `terraform-provider-imagecopier`.",
        ))
        .attribute(Attribute::optional(
            "external_id",
            Type::String,
            "External ID the role's trust policy requires, if any.",
        ))
        .attribute(Attribute::optional(
            "duration",
            Type::String,
            "How long the role session lasts, as a duration such as `1h` or `45m` (15m to 12h). Defaults to 1h.",
        ));
    let endpoints =
        Block::new("Custom service endpoints, e.g. for VPC endpoints or a local test stand-in.")
            .attribute(Attribute::optional(
                "ec2",
                Type::String,
                "EC2 endpoint URL.",
            ))
            .attribute(Attribute::optional(
                "sts",
                Type::String,
                "STS endpoint URL.",
            ))
            .attribute(Attribute::optional(
                "kms",
                Type::String,
                "KMS endpoint URL.",
            ))
            .attribute(Attribute::optional(
                "rbin",
                Type::String,
                "Recycle Bin endpoint URL (used only at destroy, to report retention rules).",
            ));
    let default_tags = Block::new(
        "Tags added to every encrypted AMI copy (and its snapshots) this provider manages.",
    )
    .attribute(Attribute::optional(
        "tags",
        Type::Map(Box::new(Type::String)),
        "The tags. Resource `source_tags` and `tags` override these key by key.",
    ));

    let block = Block::new(
        "Shares AMIs across AWS accounts and makes encrypted copies of them in each target account.",
    )
    .attribute(Attribute::optional(
        "region",
        Type::String,
        "AWS region, e.g. `eu-west-1`. Defaults to `AWS_REGION`, `AWS_DEFAULT_REGION` or the profile's region.",
    ))
    .attribute(Attribute::optional(
        "profile",
        Type::String,
        "Named profile from the shared config and credentials files. Defaults to `AWS_PROFILE`.",
    ))
    .attribute(
        Attribute::optional("access_key", Type::String, "Static access key id. Prefer profiles or roles.").sensitive(),
    )
    .attribute(
        Attribute::optional("secret_key", Type::String, "Static secret access key; requires `access_key`.").sensitive(),
    )
    .attribute(Attribute::optional("token", Type::String, "Session token for temporary static credentials.").sensitive())
    .attribute(Attribute::optional(
        "allowed_account_ids",
        string_set(),
        "Refuse to run unless the credentials belong to one of these account ids. Conflicts with `forbidden_account_ids`.",
    ))
    .attribute(Attribute::optional(
        "forbidden_account_ids",
        string_set(),
        "Refuse to run if the credentials belong to one of these account ids. Conflicts with `allowed_account_ids`.",
    ))
    .attribute(Attribute::optional(
        "max_retries",
        Type::Number,
        "How many times an AWS call is retried after the first attempt on throttling and transient errors; `0` means one attempt and no retry. Defaults to `AWS_MAX_ATTEMPTS` (which counts attempts) when set, else 25 retries.",
    ))
    .attribute(Attribute::optional(
        "max_concurrent_snapshot_copies",
        Type::Number,
        "How many snapshot copies this provider runs at once per account and destination region; every snapshot of an AMI being copied counts. Copies beyond it wait in the provider for a slot (the wait is logged and counts against the create timeout). Default 20, EC2's quota (Amazon EBS quota \"Concurrent snapshot copies per destination Region\", not adjustable); set it lower to leave room for copies made outside this provider.",
    ))
    .block(NestedBlock::list("assume_role", assume_role).max_items(1))
    .block(NestedBlock::list("endpoints", endpoints).max_items(1))
    .block(NestedBlock::list("default_tags", default_tags).max_items(1));
    Schema { version: 0, block }
}
