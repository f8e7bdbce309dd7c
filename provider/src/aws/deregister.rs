//! Removing a copy completely: the AMI and every snapshot behind it.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use super::clients::AwsClients;
use super::errors::{is_throttling, AwsError};
use super::image::images_using_snapshot;

/// Pause between attempts to delete a snapshot EC2 still calls in use
/// (deregistration takes a moment to release it).
pub const SNAPSHOT_IN_USE_RETRY_DELAY: Duration = Duration::from_secs(2);

/// EC2's answer to deleting a snapshot that something still uses.
const SNAPSHOT_IN_USE: &str = "InvalidSnapshot.InUse";

/// DeleteSnapshotResults' code for a snapshot DeregisterImage deleted.
pub const SNAPSHOT_DELETED: &str = "success";

/// Deregisters `image_id`, asking EC2 to delete its snapshots too, and
/// returns EC2's code for each snapshot it tried (`success`, `skipped` when
/// another AMI uses it, `missing-permissions`, `internal-error`,
/// `client-error`). An image that is already gone counts as deregistered,
/// with no codes.
pub async fn deregister_image(
    clients: &AwsClients,
    image_id: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    let result = clients
        .ec2_write()
        .deregister_image()
        .image_id(image_id)
        .delete_associated_snapshots(true)
        .send()
        .await;
    match result {
        Ok(output) => Ok(output
            .delete_snapshot_results()
            .iter()
            .filter_map(|r| {
                Some((
                    r.snapshot_id()?.to_owned(),
                    r.return_code().map_or("", |c| c.as_str()).to_owned(),
                ))
            })
            .collect()),
        Err(err) => {
            let err =
                AwsError::from_sdk(format!("calling EC2 DeregisterImage for {image_id}"), err);
            match err.code() {
                Some("InvalidAMIID.NotFound" | "InvalidAMIID.Unavailable") => Ok(BTreeMap::new()),
                _ => Err(err),
            }
        }
    }
}

/// Deletes `snapshot_id` until `deadline`: NotFound means done, InUse and
/// throttling are retried. Returns the last error if the deadline passes.
/// `released_by` is the AMI just deregistered: DescribeImages may still list
/// it for a while (EC2's eventual consistency), and it is not holding the
/// snapshot, only releasing it.
pub async fn delete_snapshot_until(
    clients: &AwsClients,
    snapshot_id: &str,
    released_by: &str,
    deadline: Instant,
) -> Result<(), AwsError> {
    loop {
        let result = clients
            .ec2_write()
            .delete_snapshot()
            .snapshot_id(snapshot_id)
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(()),
            Err(err) => {
                AwsError::from_sdk(format!("calling EC2 DeleteSnapshot for {snapshot_id}"), err)
            }
        };
        match err.code() {
            Some("InvalidSnapshot.NotFound") => return Ok(()),
            // Held by an AMI: that will not pass while we wait, so say which
            // at once. Held by nothing visible: deregistration is still
            // releasing it, which does pass.
            Some(SNAPSHOT_IN_USE) => {
                let mut holders = images_using_snapshot(clients, snapshot_id).await?;
                holders.retain(|holder| holder != released_by);
                if !holders.is_empty() {
                    return Err(super::copy::failure(
                        &format!("deleting EC2 snapshot ({snapshot_id})"),
                        SNAPSHOT_IN_USE,
                        &format!(
                            "in use by EC2 AMI {} (registered with this snapshot); deregister that AMI, then \
                             delete again",
                            holders.join(", ")
                        ),
                    ));
                }
                if Instant::now() + SNAPSHOT_IN_USE_RETRY_DELAY > deadline {
                    return Err(err);
                }
                tokio::time::sleep(SNAPSHOT_IN_USE_RETRY_DELAY).await;
            }
            Some(code) if is_throttling(code) => {
                if Instant::now() + SNAPSHOT_IN_USE_RETRY_DELAY > deadline {
                    return Err(err);
                }
                tokio::time::sleep(SNAPSHOT_IN_USE_RETRY_DELAY).await;
            }
            _ => return Err(err),
        }
    }
}
