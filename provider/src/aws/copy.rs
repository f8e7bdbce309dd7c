//! CopyImage: starting an encrypted copy with its tags, and changing what a
//! copy allows to be changed in place (its description).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use aws_smithy_types::error::ErrorMetadata;

use super::clients::AwsClients;
use super::errors::{AwsError, ErrorKind};

/// The parameters of one CopyImage call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyRequest {
    /// The AMI to copy.
    pub source_image_id: String,
    /// Its region.
    pub source_region: String,
    /// The copy's name.
    pub name: String,
    /// The copy's description, if any.
    pub description: Option<String>,
    /// The KMS key (any form) to encrypt with; the account's EBS default when `None`.
    pub kms_key_id: Option<String>,
    /// Idempotency token, at most 64 ASCII characters.
    pub client_token: String,
    /// Tags for the new AMI and each of its snapshots.
    pub tags: BTreeMap<String, String>,
    /// Tags for the new AMI only, added to `tags`.
    pub image_only_tags: BTreeMap<String, String>,
    /// For a time-based copy, the minutes EC2 has to complete it.
    pub completion_duration_minutes: Option<i64>,
}

/// Starts an encrypted copy and returns the new AMI's id. The tags are
/// written by the same call (TagSpecifications), so the copy is never seen
/// untagged.
pub async fn copy_image(clients: &AwsClients, request: &CopyRequest) -> Result<String, AwsError> {
    let tags: Vec<Tag> = request
        .tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let image_tags: Vec<Tag> = tags
        .iter()
        .cloned()
        .chain(
            request
                .image_only_tags
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build()),
        )
        .collect();
    let spec = |resource_type, tags: &Vec<Tag>| {
        TagSpecification::builder()
            .resource_type(resource_type)
            .set_tags(Some(tags.clone()))
            .build()
    };
    let mut call = clients
        .ec2_write()
        .copy_image()
        .source_image_id(&request.source_image_id)
        .source_region(&request.source_region)
        .name(&request.name)
        .set_description(request.description.clone())
        .encrypted(true)
        .set_kms_key_id(request.kms_key_id.clone())
        .client_token(&request.client_token)
        .set_snapshot_copy_completion_duration_minutes(request.completion_duration_minutes);
    if !image_tags.is_empty() {
        call = call.tag_specifications(spec(ResourceType::Image, &image_tags));
    }
    if !tags.is_empty() {
        call = call.tag_specifications(spec(ResourceType::Snapshot, &tags));
    }
    // What was asked, so a log shows every copy started and how: a user
    // reading TF_LOG_PROVIDER=info can match it to CloudTrail by the token.
    crate::log::info(
        "calling EC2 CopyImage",
        &[
            ("account_id", &clients.account_id),
            ("region", &clients.region),
            ("source_image_id", &request.source_image_id),
            ("source_region", &request.source_region),
            ("name", &request.name),
            (
                "kms_key_id",
                request.kms_key_id.as_deref().unwrap_or("(EBS default)"),
            ),
            ("client_token", &request.client_token),
        ],
    );
    let output = call
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("calling EC2 CopyImage", err))?;
    if let Some(id) = output.image_id() {
        crate::log::info(
            "EC2 CopyImage started a copy",
            &[
                ("account_id", &clients.account_id),
                ("region", &clients.region),
                ("image_id", id),
            ],
        );
    }
    output.image_id().map(str::to_owned).ok_or_else(|| {
        failure(
            "calling EC2 CopyImage",
            "MissingImageId",
            "the answer had no ImageId",
        )
    })
}

/// An error of our own making with a code callers can match, for outcomes
/// that are failures without AWS having answered with an error.
pub fn failure(context: &str, code: &str, message: &str) -> AwsError {
    let meta = ErrorMetadata::builder().code(code).message(message).build();
    AwsError::from_metadata(ErrorKind::Service, context, &meta)
}

/// Sets the AMI's description (empty clears it).
pub async fn set_description(
    clients: &AwsClients,
    image_id: &str,
    description: &str,
) -> Result<(), AwsError> {
    clients
        .ec2_write()
        .modify_image_attribute()
        .image_id(image_id)
        .description(
            aws_sdk_ec2::types::AttributeValue::builder()
                .value(description)
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|err| AwsError::from_sdk("calling EC2 ModifyImageAttribute (description)", err))
}
