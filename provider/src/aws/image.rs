//! Finding AMIs, as plain data for the resources.
//!
//! [`find_image_by_id`] is the one way to ask "does this AMI exist, and what
//! is it": AWS answers a missing AMI in several ways (an
//! `InvalidAMIID.NotFound` error, an empty list, an image in state
//! `deregistered`), and a resource should not have to know them all.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, ImageState};

use super::clients::AwsClients;
use super::errors::AwsError;
use super::tags::tags_from_sdk;

/// AWS error codes that mean "no such AMI". `InvalidAMIID.Unavailable` is
/// what EC2 answers for an AMI that was deregistered a while ago.
const IMAGE_NOT_FOUND_CODES: &[&str] = &["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"];

/// An AMI as DescribeImages reports it, with what the resources use. Text
/// that AWS leaves out is empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Image {
    /// `ami-...`.
    pub id: String,
    /// The AMI name (unique per account and region).
    pub name: String,
    /// The description.
    pub description: String,
    /// The account that owns the AMI.
    pub owner_id: String,
    /// `pending`, `available`, `failed`, `disabled`, ... (never `deregistered`:
    /// the finders report that as not found).
    pub state: String,
    /// Why the AMI is in its state, as "<code>: <message>", when AWS says.
    pub state_reason: String,
    /// Whether anyone may launch it.
    pub public: bool,
    /// Tags visible to the caller, `aws:` keys left out. Other accounts'
    /// tags are never visible.
    pub tags: BTreeMap<String, String>,
    /// The EBS snapshots behind the AMI, in block device mapping order.
    pub snapshot_ids: Vec<String>,
    /// Whether any EBS block device mapping is encrypted.
    pub encrypted: bool,
    /// For a copy: the AMI it was copied from.
    pub source_image_id: String,
    /// For a copy: the region of the AMI it was copied from.
    pub source_image_region: String,
    /// When the AMI was created (ISO 8601, as AWS reports it).
    pub creation_date: String,
    /// `x86_64`, `arm64`, ...
    pub architecture: String,
    /// `/dev/xvda`, ...
    pub root_device_name: String,
    /// `hvm` or `paravirtual`.
    pub virtualization_type: String,
    /// `Linux/UNIX`, `Windows`, ...
    pub platform_details: String,
    /// DescribeImages' `DeregistrationProtection`: `disabled`,
    /// `enabled-with-cooldown`, `enabled-without-cooldown`, or the form
    /// shown while a cooldown runs; empty when AWS leaves it out.
    pub deregistration_protection: String,
    /// When the AMI is (or was) deprecated, as AWS reports it; empty if never.
    pub deprecation_time: String,
}

impl Image {
    /// Whether the AMI can be used (shared, copied, launched).
    pub fn is_available(&self) -> bool {
        self.state == ImageState::Available.as_str()
    }
}

/// Looks up one AMI by id in the clients' region. A missing AMI, an empty
/// answer, a deregistered AMI and an answer about another AMI are all
/// [`AwsError::is_not_found`].
pub async fn find_image_by_id(clients: &AwsClients, id: &str) -> Result<Image, AwsError> {
    let context = "calling EC2 DescribeImages";
    let what = format!("EC2 AMI ({id})");
    let output = clients
        .ec2
        .describe_images()
        .image_ids(id)
        // Deprecated AMIs still exist and can still be shared and copied.
        // EC2 hides them from non-owners' listings; the User Guide says a
        // lookup by id still shows them, and the flag makes that explicit
        // rather than something this finder relies on.
        .include_deprecated(true)
        // A disabled AMI still exists (and holds its snapshots); only its
        // owner sees it, and only when asking.
        .include_disabled(true)
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

/// The caller's own AMI named `name` (names are unique per account and
/// region), in any state but deregistered.
pub async fn find_own_image_by_name(
    clients: &AwsClients,
    name: &str,
) -> Result<Option<Image>, AwsError> {
    Ok(find_own_images(clients, "name", name)
        .await?
        .into_iter()
        .find(|image| image.name == name))
}

/// The caller's AMIs, disabled ones included but not deregistered ones, that DescribeImages filter
/// `filter` with `value` selects.
pub async fn find_own_images(
    clients: &AwsClients,
    filter: &str,
    value: &str,
) -> Result<Vec<Image>, AwsError> {
    let output = clients
        .ec2
        .describe_images()
        .owners("self")
        .include_disabled(true)
        .filters(Filter::builder().name(filter).values(value).build())
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("calling EC2 DescribeImages", err))?;
    Ok(output
        .images()
        .iter()
        .filter(|image| image.state() != Some(&ImageState::Deregistered))
        .map(image_from_sdk)
        .collect())
}

/// The caller's AMIs whose block device mappings use `snapshot_id` (the
/// `block-device-mapping.snapshot-id` filter of DescribeImages), by id.
pub async fn images_using_snapshot(
    clients: &AwsClients,
    snapshot_id: &str,
) -> Result<Vec<String>, AwsError> {
    let images = find_own_images(clients, "block-device-mapping.snapshot-id", snapshot_id).await?;
    Ok(images.into_iter().map(|image| image.id).collect())
}

/// Converts the SDK's image into ours.
pub(super) fn image_from_sdk(image: &aws_sdk_ec2::types::Image) -> Image {
    let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
    let mappings = image.block_device_mappings();
    let ebs = mappings.iter().filter_map(|m| m.ebs());
    Image {
        id: text(image.image_id()),
        name: text(image.name()),
        description: text(image.description()),
        owner_id: text(image.owner_id()),
        state: text(image.state().map(ImageState::as_str)),
        state_reason: image
            .state_reason()
            .map(|r| {
                match (
                    r.code().unwrap_or_default(),
                    r.message().unwrap_or_default(),
                ) {
                    ("", message) => message.to_owned(),
                    (code, "") => code.to_owned(),
                    (code, message) => format!("{code}: {message}"),
                }
            })
            .unwrap_or_default(),
        public: image.public().unwrap_or(false),
        tags: tags_from_sdk(image.tags()),
        snapshot_ids: ebs
            .clone()
            .filter_map(|e| e.snapshot_id())
            .map(str::to_owned)
            .collect(),
        encrypted: ebs.clone().any(|e| e.encrypted() == Some(true)),
        source_image_id: text(image.source_image_id()),
        source_image_region: text(image.source_image_region()),
        creation_date: text(image.creation_date()),
        architecture: text(image.architecture().map(|a| a.as_str())),
        root_device_name: text(image.root_device_name()),
        virtualization_type: text(image.virtualization_type().map(|v| v.as_str())),
        platform_details: text(image.platform_details()),
        deregistration_protection: text(image.deregistration_protection()),
        deprecation_time: text(image.deprecation_time()),
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
            .tags(
                Tag::builder()
                    .key("aws:cloudformation:stack-name")
                    .value("x")
                    .build(),
            )
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
        assert_eq!(image.state_reason, "Client.Error: boom");
        assert_eq!(image.snapshot_ids, vec!["snap-1".to_owned()]);
        assert!(image.encrypted);
        assert_eq!(
            image.tags.keys().collect::<Vec<_>>(),
            vec!["Name"],
            "aws: keys left out"
        );
    }
}
