//! Removing a copy completely: the AMI and every snapshot behind it.

use std::time::Duration;

use aws_sdk_ec2::Client;
use tokio::time::Instant;

use super::errors::{is_throttling, AwsError};

/// Pause between attempts to delete a snapshot EC2 still calls in use
/// (deregistration takes a moment to release it).
pub const SNAPSHOT_IN_USE_RETRY_DELAY: Duration = Duration::from_secs(2);

/// Deregisters `image_id`, asking EC2 to delete its snapshots too. An image
/// that is already gone counts as deregistered.
pub async fn deregister_image(client: &Client, image_id: &str) -> Result<(), AwsError> {
    let result = client
        .deregister_image()
        .image_id(image_id)
        .delete_associated_snapshots(true)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(err) => {
            let err =
                AwsError::from_sdk(format!("calling EC2 DeregisterImage for {image_id}"), err);
            match err.code() {
                Some("InvalidAMIID.NotFound" | "InvalidAMIID.Unavailable") => Ok(()),
                _ => Err(err),
            }
        }
    }
}

/// Deletes `snapshot_id` until `deadline`: NotFound means done, InUse and
/// throttling are retried. Returns the last error if the deadline passes.
pub async fn delete_snapshot_until(
    client: &Client,
    snapshot_id: &str,
    deadline: Instant,
) -> Result<(), AwsError> {
    loop {
        let result = client
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
            Some(code) if code == "InvalidSnapshot.InUse" || is_throttling(code) => {
                if Instant::now() + SNAPSHOT_IN_USE_RETRY_DELAY > deadline {
                    return Err(err);
                }
                tokio::time::sleep(SNAPSHOT_IN_USE_RETRY_DELAY).await;
            }
            _ => return Err(err),
        }
    }
}
