//! Finding AMIs, as plain data for the resources.
//!
//! [`find_image_by_id`] is the one way to ask "does this AMI exist, and what
//! is it": AWS answers a missing AMI in several ways (an
//! `InvalidAMIID.NotFound` error, an empty list, an image in state
//! `deregistered`), and a resource should not have to know them all.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::ImageState;

use super::errors::AwsError;

/// AWS error codes that mean "no such AMI". `InvalidAMIID.Unavailable` is
/// what EC2 answers for an AMI that was deregistered a while ago.
const IMAGE_NOT_FOUND_CODES: &[&str] = &["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"];

/// An AMI as DescribeImages reports it, with what the resources use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Image {
    /// `ami-...`.
    pub id: String,
    /// The AMI name (unique per account and region).
    pub name: Option<String>,
    /// The description, if any.
    pub description: Option<String>,
    /// The account that owns the AMI.
    pub owner_id: String,
    /// `pending`, `available`, `failed`, `disabled`, ... (never `deregistered`:
    /// the finder reports that as not found).
    pub state: String,
    /// Why the AMI is in its state, as "<code>: <message>", when AWS says.
    pub state_reason: Option<String>,
    /// Whether anyone may launch it.
    pub public: bool,
    /// Tags visible to the caller. Other accounts' tags are never visible.
    pub tags: BTreeMap<String, String>,
    /// The EBS snapshots behind the AMI, in block device mapping order.
    pub snapshot_ids: Vec<String>,
    /// Whether any EBS block device mapping is encrypted.
    pub encrypted: bool,
    /// For a copy: the AMI it was copied from.
    pub source_image_id: Option<String>,
    /// For a copy: the region of the AMI it was copied from.
    pub source_image_region: Option<String>,
    /// When the AMI was created (ISO 8601, as AWS reports it).
    pub creation_date: Option<String>,
}

impl Image {
    /// Whether the AMI can be used (shared, copied, launched).
    pub fn is_available(&self) -> bool {
        self.state == ImageState::Available.as_str()
    }
}

/// Looks up one AMI by id. A missing AMI, an empty answer, a deregistered
/// AMI and an answer about another AMI are all [`AwsError::is_not_found`].
pub async fn find_image_by_id(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Image, AwsError> {
    let context = "calling EC2 DescribeImages";
    let what = format!("EC2 AMI ({id})");
    let output = ec2
        .describe_images()
        .image_ids(id)
        // Deprecated AMIs still exist and can still be shared; without this
        // flag DescribeImages hides them from everyone but their owner.
        .include_deprecated(true)
        .send()
        .await;
    let output = match output {
        Ok(output) => output,
        Err(err) => {
            let err = AwsError::from_sdk(context, err);
            return match err.code() {
                Some(code) if IMAGE_NOT_FOUND_CODES.contains(&code) => {
                    Err(AwsError::not_found(context, Some(code), &what))
                }
                _ => Err(err),
            };
        }
    };
    let found = output
        .images()
        .iter()
        .find(|image| image.image_id() == Some(id));
    match found {
        Some(image) if image.state() != Some(&ImageState::Deregistered) => {
            Ok(image_from_sdk(image))
        }
        _ => Err(AwsError::not_found(context, None, &what)),
    }
}

/// EC2 tags as a map. A tag without a key cannot exist; one without a value
/// has the empty value, as the console shows it.
pub(crate) fn tags_from_sdk(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

/// Converts the SDK's image into ours.
fn image_from_sdk(image: &aws_sdk_ec2::types::Image) -> Image {
    let mappings = image.block_device_mappings();
    let ebs = mappings.iter().filter_map(|m| m.ebs());
    Image {
        id: image.image_id().unwrap_or_default().to_owned(),
        name: image.name().map(str::to_owned),
        description: image.description().map(str::to_owned),
        owner_id: image.owner_id().unwrap_or_default().to_owned(),
        state: image
            .state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        state_reason: image.state_reason().map(|r| {
            match (
                r.code().unwrap_or_default(),
                r.message().unwrap_or_default(),
            ) {
                ("", message) => message.to_owned(),
                (code, "") => code.to_owned(),
                (code, message) => format!("{code}: {message}"),
            }
        }),
        public: image.public().unwrap_or(false),
        tags: tags_from_sdk(image.tags()),
        snapshot_ids: ebs
            .clone()
            .filter_map(|e| e.snapshot_id())
            .map(str::to_owned)
            .collect(),
        encrypted: ebs.clone().any(|e| e.encrypted() == Some(true)),
        source_image_id: image.source_image_id().map(str::to_owned),
        source_image_region: image.source_image_region().map(str::to_owned),
        creation_date: image.creation_date().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{BlockDeviceMapping, EbsBlockDevice, StateReason, Tag};

    #[test]
    fn converts_the_fields_resources_use() {
        let sdk = aws_sdk_ec2::types::Image::builder()
            .image_id("ami-12345678")
            .name("app")
            .owner_id("111111111111")
            .state(ImageState::Failed)
            .state_reason(
                StateReason::builder()
                    .code("Client.Error")
                    .message("boom")
                    .build(),
            )
            .tags(Tag::builder().key("Name").value("app").build())
            .block_device_mappings(
                BlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(
                        EbsBlockDevice::builder()
                            .snapshot_id("snap-1")
                            .encrypted(true)
                            .build(),
                    )
                    .build(),
            )
            .block_device_mappings(
                BlockDeviceMapping::builder()
                    .device_name("/dev/sdb")
                    .virtual_name("ephemeral0")
                    .build(),
            )
            .build();
        let image = image_from_sdk(&sdk);
        assert_eq!(image.id, "ami-12345678");
        assert_eq!(image.state, "failed");
        assert!(!image.is_available());
        assert_eq!(image.state_reason.as_deref(), Some("Client.Error: boom"));
        assert_eq!(image.snapshot_ids, vec!["snap-1".to_owned()]);
        assert!(image.encrypted);
        assert_eq!(image.tags.get("Name").map(String::as_str), Some("app"));
    }
}
