//! Finding EBS snapshots, as plain data for the resources.

use std::collections::BTreeMap;

use super::clients::AwsClients;
use super::errors::AwsError;
use super::tags::tags_from_sdk;

/// AWS error code for a snapshot id that does not exist (or is not visible).
pub(super) const SNAPSHOT_NOT_FOUND_CODE: &str = "InvalidSnapshot.NotFound";

/// An EBS snapshot as DescribeSnapshots reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// `snap-...`.
    pub id: String,
    /// The account that owns the snapshot.
    pub owner_id: String,
    /// `pending`, `completed`, `error`, ...
    pub state: String,
    /// AWS's explanation of an `error` state.
    pub state_message: Option<String>,
    /// Progress of a pending snapshot, e.g. `"42%"`.
    pub progress: Option<String>,
    /// Whether the snapshot is encrypted.
    pub encrypted: bool,
    /// The KMS key ARN protecting it, when encrypted.
    pub kms_key_id: Option<String>,
    /// Size of the volume it was taken from, in GiB.
    pub volume_size: Option<i32>,
    /// Tags visible to the caller.
    pub tags: BTreeMap<String, String>,
}

/// Looks up one snapshot; a missing one is [`AwsError::is_not_found`].
pub async fn find_snapshot_by_id(clients: &AwsClients, id: &str) -> Result<Snapshot, AwsError> {
    let found = describe(clients, &[id.to_owned()]).await;
    match found {
        Ok(snapshots) => snapshots.into_iter().find(|s| s.id == id).ok_or_else(|| {
            AwsError::not_found(
                "calling EC2 DescribeSnapshots",
                None,
                &format!("EBS snapshot ({id})"),
            )
        }),
        Err(err) if err.code() == Some(SNAPSHOT_NOT_FOUND_CODE) => Err(AwsError::not_found(
            "calling EC2 DescribeSnapshots",
            Some(SNAPSHOT_NOT_FOUND_CODE),
            &format!("EBS snapshot ({id})"),
        )),
        Err(err) => Err(err),
    }
}

/// Looks up snapshots by id and returns those that exist, in the order of
/// `ids`. Missing ones are simply absent, so a caller can tell what is left
/// (after a deregistration, say) by comparing ids.
pub async fn find_snapshots_by_ids(
    clients: &AwsClients,
    ids: &[String],
) -> Result<Vec<Snapshot>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = match describe(clients, ids).await {
        Ok(found) => found,
        // EC2 refuses the whole request when one id is missing; ask one by
        // one so the others are still reported.
        Err(err) if err.code() == Some(SNAPSHOT_NOT_FOUND_CODE) && ids.len() > 1 => {
            let mut found = Vec::new();
            for id in ids {
                match find_snapshot_by_id(clients, id).await {
                    Ok(snapshot) => found.push(snapshot),
                    Err(err) if err.is_not_found() => {}
                    Err(err) => return Err(err),
                }
            }
            found
        }
        Err(err) if err.code() == Some(SNAPSHOT_NOT_FOUND_CODE) => Vec::new(),
        Err(err) => return Err(err),
    };
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|s| &s.id == id).cloned())
        .collect())
}

/// Tags of each snapshot in `snapshot_ids` that still exists, by id.
pub async fn snapshot_tags(
    clients: &AwsClients,
    snapshot_ids: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, AwsError> {
    Ok(find_snapshots_by_ids(clients, snapshot_ids)
        .await?
        .into_iter()
        .map(|snapshot| (snapshot.id, snapshot.tags))
        .collect())
}

/// The caller's snapshots that CopyImage made for the copy `image_id`, found
/// by the description EC2 gives each ("Copied for DestinationAmi <id> from
/// SourceAmi ..."; EBS User Guide, "Copy an Amazon EBS-backed AMI"): how a
/// copy's snapshots are found once its AMI is gone and state never learned
/// their ids (a copy interrupted before its first status look).
pub async fn find_own_snapshots_of_copy(
    clients: &AwsClients,
    image_id: &str,
) -> Result<Vec<Snapshot>, AwsError> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let output = clients
            .ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("description")
                    .values(format!("Copied for DestinationAmi {image_id} *"))
                    .build(),
            )
            .set_next_token(token)
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("calling EC2 DescribeSnapshots", err))?;
        found.extend(output.snapshots().iter().map(snapshot_from_sdk));
        token = output
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if token.is_none() {
            return Ok(found);
        }
    }
}

async fn describe(clients: &AwsClients, ids: &[String]) -> Result<Vec<Snapshot>, AwsError> {
    let output = clients
        .ec2
        .describe_snapshots()
        .set_snapshot_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("calling EC2 DescribeSnapshots", err))?;
    Ok(output.snapshots().iter().map(snapshot_from_sdk).collect())
}

pub(super) fn snapshot_from_sdk(snapshot: &aws_sdk_ec2::types::Snapshot) -> Snapshot {
    Snapshot {
        id: snapshot.snapshot_id().unwrap_or_default().to_owned(),
        owner_id: snapshot.owner_id().unwrap_or_default().to_owned(),
        state: snapshot
            .state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        state_message: snapshot
            .state_message()
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
        progress: snapshot.progress().map(str::to_owned),
        encrypted: snapshot.encrypted().unwrap_or(false),
        kms_key_id: snapshot
            .kms_key_id()
            .filter(|k| !k.is_empty())
            .map(str::to_owned),
        volume_size: snapshot.volume_size(),
        tags: tags_from_sdk(snapshot.tags()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::SnapshotState;

    #[test]
    fn converts_the_fields_resources_use() {
        let sdk = aws_sdk_ec2::types::Snapshot::builder()
            .snapshot_id("snap-1")
            .owner_id("111111111111")
            .state(SnapshotState::Pending)
            .progress("42%")
            .encrypted(true)
            .kms_key_id("arn:aws:kms:eu-west-1:111111111111:key/k")
            .state_message("")
            .build();
        let snapshot = snapshot_from_sdk(&sdk);
        assert_eq!(snapshot.state, "pending");
        assert_eq!(snapshot.progress.as_deref(), Some("42%"));
        assert!(snapshot.encrypted);
        assert_eq!(snapshot.state_message, None);
        assert!(snapshot.kms_key_id.is_some());
    }
}
