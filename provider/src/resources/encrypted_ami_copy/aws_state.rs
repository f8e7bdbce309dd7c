//! Reading and changing a copy through the AWS layer: what create, read,
//! update and delete share, so that none of them imports another.

use tokio::time::Instant;

use crate::aws::deregister::{delete_snapshot_until, deregister_image};
use crate::aws::image::Image;
use crate::aws::snapshot::find_snapshots_by_ids;
use crate::aws::snapshot::snapshot_tags;
use crate::aws::tags::sync_tags;
use crate::aws::{AwsClients, AwsError};
use crate::protocol::diagnostics::Diagnostic;
use crate::protocol::managed::Applied;
use crate::protocol::typed::Field;

use super::model::{CopyModel, Tags};
use super::{summary, timeout};

/// Copies what AWS decides into the model.
pub(super) fn set_facts(model: &mut CopyModel, facts: &Image) {
    let text = |s: &str| Field::Known(s.to_owned());
    model.id = text(&facts.id);
    model.state = text(&facts.state);
    model.owner_id = text(&facts.owner_id);
    model.creation_date = text(&facts.creation_date);
    model.architecture = text(&facts.architecture);
    model.root_device_name = text(&facts.root_device_name);
    model.virtualization_type = text(&facts.virtualization_type);
    model.platform_details = text(&facts.platform_details);
    model.snapshot_ids = Field::Known(facts.snapshot_ids.clone());
    // Planned unknown when not configured: what EC2 gave the copy.
    if model.description.is_unknown() {
        model.description = if facts.description.is_empty() {
            Field::Null
        } else {
            Field::Known(facts.description.clone())
        };
    }
}

/// The ARN of the key the copy's snapshots are encrypted with; unknown only
/// when AWS does not say (no snapshots yet).
pub(super) async fn key_arn(clients: &AwsClients, facts: &Image) -> Field<String> {
    match find_snapshots_by_ids(clients, &facts.snapshot_ids).await {
        Ok(snapshots) => snapshots
            .into_iter()
            .find_map(|s| s.kms_key_id)
            .map_or(Field::Unknown, Field::Known),
        Err(_) => Field::Unknown,
    }
}

/// [`set_facts`], and the key's ARN when the plan could not know it (the
/// default EBS key, or a key DescribeKey could not resolve at plan time).
pub(super) async fn record_copy(model: &mut CopyModel, clients: &AwsClients, facts: &Image) {
    set_facts(model, facts);
    if model.kms_key_arn.is_unknown() {
        model.kms_key_arn = Field::Known(
            key_arn(clients, facts)
                .await
                .known()
                .cloned()
                .unwrap_or_default(),
        );
    }
}

/// A copy that ended `failed`: remove it and its snapshots, then report
/// AWS's reason. If removal fails, keep it in state so nothing is orphaned.
pub(super) async fn failed_copy(
    clients: &AwsClients,
    planned: &CopyModel,
    facts: Image,
    what: &str,
) -> Applied<CopyModel> {
    let reason = if facts.state_reason.is_empty() {
        facts.state.clone()
    } else {
        facts.state_reason.clone()
    };
    let creating = summary("creating", planned);
    let detail = format!(
        "{what}: waiting for completion: copy {} ended {}: {reason}",
        facts.id, facts.state
    );
    match remove_copy(
        clients,
        &facts.id,
        &facts.snapshot_ids,
        Instant::now() + timeout(planned, false),
    )
    .await
    {
        Ok(()) => Applied::failed(Diagnostic::error(
            creating,
            format!("{detail}. The failed copy and its snapshots were deleted."),
        )),
        Err(err) => {
            let mut state = planned.clone();
            set_facts(&mut state, &facts);
            state.tags_all = Field::Known(facts.tags.clone());
            state.kms_key_arn =
                Field::Known(state.kms_key_arn.known().cloned().unwrap_or_default());
            Applied::partial(
                state,
                Diagnostic::error(
                    creating,
                    format!("{detail}. Removing the failed copy also failed: {err}"),
                ),
            )
        }
    }
}

/// Deregisters `image_id` and makes sure each snapshot is gone.
pub(super) async fn remove_copy(
    clients: &AwsClients,
    image_id: &str,
    snapshot_ids: &[String],
    deadline: Instant,
) -> Result<(), AwsError> {
    deregister_image(clients, image_id).await?;
    let mut left = Vec::new();
    for snapshot_id in snapshot_ids {
        if let Err(err) = delete_snapshot_until(clients, snapshot_id, deadline).await {
            left.push(err.to_string());
        }
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(crate::aws::copy::failure(
            "deleting the copy's snapshots",
            "SnapshotsRemain",
            &left.join("; "),
        ))
    }
}
/// Brings the AMI and each snapshot to exactly `tags_all`.
pub(super) async fn sync_all_tags(
    clients: &AwsClients,
    facts: &Image,
    tags_all: &Tags,
) -> Result<(), AwsError> {
    sync_tags(clients, &facts.id, &facts.tags, tags_all).await?;
    let snapshots = snapshot_tags(clients, &facts.snapshot_ids).await?;
    for (snapshot_id, current) in &snapshots {
        sync_tags(clients, snapshot_id, current, tags_all).await?;
    }
    Ok(())
}
