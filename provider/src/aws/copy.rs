//! CopyImage and the lookups an encrypted copy needs: the image as plain
//! facts, and the copy a previous run may already have started (found by its
//! unique name), so that a rerun adopts it instead of copying again.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, Image, ResourceType, Tag, TagSpecification};
use aws_sdk_ec2::Client;

use aws_smithy_types::error::ErrorMetadata;

use super::errors::{AwsError, ErrorKind};

/// Error codes EC2 answers for an AMI that does not exist (or is malformed).
const IMAGE_NOT_FOUND_CODES: &[&str] = &["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"];

/// What the resource layer needs to know about an AMI, without SDK types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFacts {
    /// `ami-...`.
    pub image_id: String,
    /// The AMI's name.
    pub name: String,
    /// The description; empty when none.
    pub description: String,
    /// `pending`, `available`, `failed`, `deregistered`, ...
    pub state: String,
    /// AWS's reason for a failed state, `Code: Message`; empty when none.
    pub state_reason: String,
    /// The owning account.
    pub owner_id: String,
    /// ISO 8601 creation time.
    pub creation_date: String,
    /// `x86_64`, `arm64`, ...
    pub architecture: String,
    /// `/dev/xvda`, ...
    pub root_device_name: String,
    /// `hvm` or `paravirtual`.
    pub virtualization_type: String,
    /// `Linux/UNIX`, `Windows`, ...
    pub platform_details: String,
    /// For copies: the AMI it was copied from.
    pub source_image_id: String,
    /// For copies: the region of that AMI.
    pub source_image_region: String,
    /// EBS snapshots behind the block device mappings, in mapping order.
    pub snapshot_ids: Vec<String>,
    /// Tags the caller can see, `aws:` keys excluded (they cannot be managed).
    pub tags: BTreeMap<String, String>,
}

impl ImageFacts {
    /// Converts an SDK image.
    pub fn from_sdk(image: &Image) -> Self {
        let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
        let state_reason = image
            .state_reason()
            .map(|r| match (r.code(), r.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (code, message) => text(code.or(message)),
            })
            .unwrap_or_default();
        Self {
            image_id: text(image.image_id()),
            name: text(image.name()),
            description: text(image.description()),
            state: image
                .state()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            state_reason,
            owner_id: text(image.owner_id()),
            creation_date: text(image.creation_date()),
            architecture: image
                .architecture()
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default(),
            root_device_name: text(image.root_device_name()),
            virtualization_type: image
                .virtualization_type()
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default(),
            platform_details: text(image.platform_details()),
            source_image_id: text(image.source_image_id()),
            source_image_region: text(image.source_image_region()),
            snapshot_ids: image
                .block_device_mappings()
                .iter()
                .filter_map(|m| m.ebs()?.snapshot_id())
                .map(str::to_owned)
                .collect(),
            tags: tag_map(image.tags()),
        }
    }

    /// True when the image no longer exists for practical purposes.
    pub fn is_gone(&self) -> bool {
        self.state == "deregistered"
    }
}

/// The image `image_id` as this client sees it; `None` when it does not
/// exist or is deregistered (the NotFound state, not an error).
pub async fn describe_image(
    client: &Client,
    image_id: &str,
) -> Result<Option<ImageFacts>, AwsError> {
    let result = client.describe_images().image_ids(image_id).send().await;
    match result {
        Ok(output) => Ok(output
            .images()
            .iter()
            .map(ImageFacts::from_sdk)
            .find(|facts| facts.image_id == image_id && !facts.is_gone())),
        Err(err) => {
            let err = AwsError::from_sdk("calling EC2 DescribeImages", err);
            match err.code() {
                Some(code) if IMAGE_NOT_FOUND_CODES.contains(&code) => Ok(None),
                _ => Err(err),
            }
        }
    }
}

/// The caller's own AMI named `name` (names are unique per account and
/// region), in any state but deregistered.
pub async fn find_own_image_by_name(
    client: &Client,
    name: &str,
) -> Result<Option<ImageFacts>, AwsError> {
    let output = client
        .describe_images()
        .owners("self")
        .filters(Filter::builder().name("name").values(name).build())
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("calling EC2 DescribeImages", err))?;
    Ok(output
        .images()
        .iter()
        .map(ImageFacts::from_sdk)
        .find(|facts| facts.name == name && !facts.is_gone()))
}

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
}

/// Starts an encrypted copy and returns the new AMI's id. The tags are
/// written by the same call (TagSpecifications), so the copy is never seen
/// untagged.
pub async fn copy_image(client: &Client, request: &CopyRequest) -> Result<String, AwsError> {
    let tags: Vec<Tag> = request
        .tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let spec = |resource_type| {
        TagSpecification::builder()
            .resource_type(resource_type)
            .set_tags(Some(tags.clone()))
            .build()
    };
    let mut call = client
        .copy_image()
        .source_image_id(&request.source_image_id)
        .source_region(&request.source_region)
        .name(&request.name)
        .set_description(request.description.clone())
        .encrypted(true)
        .set_kms_key_id(request.kms_key_id.clone())
        .client_token(&request.client_token);
    if !tags.is_empty() {
        call = call
            .tag_specifications(spec(ResourceType::Image))
            .tag_specifications(spec(ResourceType::Snapshot));
    }
    let output = call
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("calling EC2 CopyImage", err))?;
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

/// Tags as a map, leaving out `aws:` keys, which nobody can set or remove.
pub fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .filter(|(k, _)| !k.starts_with("aws:"))
        .collect()
}

/// One source snapshot as the copying account sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFacts {
    /// `snap-...`.
    pub snapshot_id: String,
    /// Whether it is encrypted.
    pub encrypted: bool,
    /// The key it is encrypted with (an ARN), empty when none.
    pub kms_key_id: String,
}

/// The snapshots `snapshot_ids` as this client sees them. A snapshot the
/// caller may not read is reported by EC2 as NotFound; that error is
/// returned with its code so the caller can explain it.
pub async fn describe_snapshots(
    client: &Client,
    snapshot_ids: &[String],
) -> Result<Vec<SnapshotFacts>, AwsError> {
    if snapshot_ids.is_empty() {
        return Ok(Vec::new());
    }
    let output = client
        .describe_snapshots()
        .set_snapshot_ids(Some(snapshot_ids.to_vec()))
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("calling EC2 DescribeSnapshots", err))?;
    Ok(output
        .snapshots()
        .iter()
        .map(|s| SnapshotFacts {
            snapshot_id: s.snapshot_id().unwrap_or_default().to_owned(),
            encrypted: s.encrypted().unwrap_or(false),
            kms_key_id: s.kms_key_id().unwrap_or_default().to_owned(),
        })
        .collect())
}

/// Sets the AMI's description (empty clears it).
pub async fn set_description(
    client: &Client,
    image_id: &str,
    description: &str,
) -> Result<(), AwsError> {
    client
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
