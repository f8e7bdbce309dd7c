//! Reading and changing the grants of one AMI through the AWS layer.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::aws::image::Image;
use crate::aws::permissions::{self, Change};
use crate::aws::snapshot::{self, Snapshot};
use crate::aws::{AwsClients, AwsError};
use crate::protocol::log;
use crate::protocol::typed::Field;

use super::grants::{observe, Actual, Changes, Managed};
use super::model::AmiShareModel;

/// Delays between the reads that confirm new grants. AWS is eventually
/// consistent right after ModifyImageAttribute; about 10 s in all.
const CONSISTENCY_DELAYS: &[Duration] = &[
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// The grants on `image` and its snapshots.
pub async fn load_actual(ec2: &aws_sdk_ec2::Client, image: &Image) -> Result<Actual, AwsError> {
    let launch = permissions::read_launch_grants(ec2, &image.id).await?;
    let mut volumes = Vec::with_capacity(image.snapshot_ids.len());
    for id in &image.snapshot_ids {
        volumes.push((id.clone(), permissions::read_volume_grants(ec2, id).await?));
    }
    Ok(Actual { launch, volumes })
}

/// Makes the calls in `changes`: grants first, so that a failure half way
/// never leaves a target with less than it had, then revocations.
pub async fn apply_changes(
    ec2: &aws_sdk_ec2::Client,
    image_id: &str,
    changes: &Changes,
) -> Result<(), AwsError> {
    for (snapshot, accounts) in &changes.volume_add {
        permissions::modify_volume_grants(ec2, snapshot, Change::Add, accounts, false).await?;
    }
    permissions::modify_launch_grants(ec2, image_id, Change::Add, &changes.launch_add).await?;
    permissions::modify_launch_grants(ec2, image_id, Change::Remove, &changes.launch_remove)
        .await?;
    for (snapshot, accounts, public) in &changes.volume_remove {
        permissions::modify_volume_grants(ec2, snapshot, Change::Remove, accounts, *public).await?;
    }
    Ok(())
}

/// Reads the grants until they show `desired` (AWS may lag right after a
/// change), for a bounded time; returns the last reading either way.
pub async fn settle(
    ec2: &aws_sdk_ec2::Client,
    image: &Image,
    desired: &Managed,
) -> Result<(Actual, bool), AwsError> {
    let mut actual = load_actual(ec2, image).await?;
    for delay in CONSISTENCY_DELAYS {
        if matches(desired, &actual) {
            return Ok((actual, true));
        }
        log::debug(
            "grants not visible yet; reading again",
            &[("image_id", &image.id)],
        );
        tokio::time::sleep(*delay).await;
        actual = load_actual(ec2, image).await?;
    }
    let ok = matches(desired, &actual);
    Ok((actual, ok))
}

fn matches(desired: &Managed, actual: &Actual) -> bool {
    let seen = observe(desired, actual);
    seen == *desired && !(desired.exclusive && actual.public(desired.share_snapshots))
}

/// The snapshots behind `image` (those that exist).
pub async fn snapshots(
    ec2: &aws_sdk_ec2::Client,
    image: &Image,
) -> Result<Vec<Snapshot>, AwsError> {
    snapshot::find_snapshots_by_ids(ec2, &image.snapshot_ids).await
}

/// Fills the computed attributes from what AWS reports.
pub fn fill_computed(
    model: &mut AmiShareModel,
    image: &Image,
    snapshots: &[Snapshot],
    actual: &Actual,
) {
    let share_snapshots = model.shares_snapshots().unwrap_or(true);
    model.id = Field::Known(image.id.clone());
    fill_image_facts(model, image);
    model.encrypted = Field::Known(image.encrypted || snapshots.iter().any(|s| s.encrypted));
    model.kms_key_ids = Field::Known(
        snapshots
            .iter()
            .filter_map(|s| s.kms_key_id.clone())
            .collect(),
    );
    model.public = Field::Known(actual.public(share_snapshots));
}

/// The attributes the image alone decides: its snapshots, name and user tags.
pub fn fill_image_facts(model: &mut AmiShareModel, image: &Image) {
    model.snapshot_ids = Field::Known(image.snapshot_ids.iter().cloned().collect());
    model.image_name = image.name.clone().into();
    model.image_tags = Field::Known(user_tags(&image.tags));
}

/// Tags without the `aws:` keys AWS reserves for itself, which no copy can carry.
pub fn user_tags(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Refuses an image this provider cannot share: owned by another account,
/// or with a snapshot encrypted with an AWS-managed key. `Err` is the reason.
pub async fn check_shareable(
    clients: &AwsClients,
    image: &Image,
) -> Result<Result<(), String>, AwsError> {
    if image.owner_id != clients.account_id {
        return Ok(Err(format!(
            "EC2 AMI ({}) is owned by account {}, not by the provider's account {}; only the owner \
             can share it. Configure the provider for the owning account.",
            image.id, image.owner_id, clients.account_id
        )));
    }
    for snapshot in snapshots(&clients.ec2, image).await? {
        if !snapshot.encrypted {
            continue;
        }
        let managed = match &snapshot.kms_key_id {
            // Encrypted without a named key means the account's default, AWS-managed key.
            None => true,
            Some(key) => snapshot::is_aws_managed_key(&clients.kms, key).await?,
        };
        if managed {
            return Ok(Err(format!(
                "EBS snapshot {} of EC2 AMI ({}) is encrypted with an AWS-managed KMS key ({}), \
                 which AWS does not allow to be shared. Copy the AMI in this account with a \
                 customer-managed key and share the copy.",
                snapshot.id,
                image.id,
                snapshot.kms_key_id.as_deref().unwrap_or("alias/aws/ebs")
            )));
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_tags_are_left_out() {
        let tags: BTreeMap<String, String> =
            [("aws:cloudformation:stack-name", "x"), ("Name", "app")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        assert_eq!(user_tags(&tags).keys().collect::<Vec<_>>(), vec!["Name"]);
    }
}
