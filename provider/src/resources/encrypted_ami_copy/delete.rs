//! Removing a copy: destroy, and the clean-up of a copy that failed, so
//! that neither leaves an AMI or snapshot behind unreported.

use tokio::time::Instant;

use crate::aws::copy::{describe_image, ImageFacts};
use crate::aws::deregister::{delete_snapshot_until, deregister_image};
use crate::aws::{AwsClients, AwsError};
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::protocol::managed::Applied;
use crate::protocol::typed::Field;
use crate::provider::Shared;

use super::model::CopyModel;
use super::read::set_facts;
use super::timeout;

/// Deregisters the copy and deletes every snapshot it had (those in state
/// and those AWS still lists), failing with the names of any left.
pub async fn delete(shared: &Shared, prior: CopyModel) -> Result<(), Diagnostics> {
    let clients = shared.clients()?;
    let Some(id) = prior.id.known().cloned() else {
        return Ok(());
    };
    let what = format!("deleting EC2 AMI ({id})");
    let mut snapshot_ids = prior.snapshot_ids.known().cloned().unwrap_or_default();
    match describe_image(&clients.ec2, &id).await {
        Ok(Some(facts)) => snapshot_ids.extend(
            facts
                .snapshot_ids
                .into_iter()
                .filter(|s| !prior.snapshot_ids.known().is_some_and(|p| p.contains(s))),
        ),
        Ok(None) => {}
        Err(err) => {
            return Err(
                Diagnostic::error("Deleting EC2 AMI copy", err.context(&what).to_string()).into(),
            )
        }
    }
    let deadline = Instant::now() + timeout(&prior, false);
    remove_copy(&clients, &id, &snapshot_ids, deadline)
        .await
        .map_err(|err| {
            Diagnostic::error(
                "Deleting EC2 AMI copy",
                format!(
                    "{}. The AMI is deregistered; the snapshots named stay in state, and the next destroy (or \
                     replacement) deletes them once nothing holds them.",
                    err.context(&what)
                ),
            )
            .into()
        })
}

/// A copy that ended `failed`: remove it and its snapshots, then report
/// AWS's reason. If removal fails, keep it in state so nothing is orphaned.
pub async fn failed_copy(
    clients: &AwsClients,
    planned: &CopyModel,
    facts: ImageFacts,
    what: &str,
) -> Applied<CopyModel> {
    let reason = if facts.state_reason.is_empty() {
        facts.state.clone()
    } else {
        facts.state_reason.clone()
    };
    let summary = "Creating EC2 AMI copy";
    let detail = format!(
        "{what}: waiting for completion: copy {} ended {}: {reason}",
        facts.image_id, facts.state
    );
    match remove_copy(
        clients,
        &facts.image_id,
        &facts.snapshot_ids,
        Instant::now() + timeout(planned, false),
    )
    .await
    {
        Ok(()) => Applied::failed(Diagnostic::error(
            summary,
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
                    summary,
                    format!("{detail}. Removing the failed copy also failed: {err}"),
                ),
            )
        }
    }
}

/// Deregisters `image_id` and makes sure each snapshot is gone.
pub async fn remove_copy(
    clients: &AwsClients,
    image_id: &str,
    snapshot_ids: &[String],
    deadline: Instant,
) -> Result<(), AwsError> {
    deregister_image(&clients.ec2, image_id).await?;
    let mut left = Vec::new();
    for snapshot_id in snapshot_ids {
        if let Err(err) = delete_snapshot_until(&clients.ec2, snapshot_id, deadline).await {
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
