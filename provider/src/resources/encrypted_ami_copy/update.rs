//! Update in place (finish an interrupted copy, description, tags) and delete.

use tokio::time::Instant;

use crate::aws::copy::{describe_image, set_description};
use crate::aws::wait::{wait_image_available, WaitOutcome};
use crate::aws::AwsError;
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::protocol::managed::Applied;
use crate::protocol::typed::Field;
use crate::provider::Shared;

use super::create::{remove_copy, sync_all_tags};
use super::model::CopyModel;
use super::read::{key_arn, set_facts};
use super::timeout;

const UPDATING: &str = "Updating EC2 AMI copy";

/// Updates the copy in place. A copy left pending by an interrupted apply
/// is waited for first (within `timeouts.create`).
pub async fn update(
    shared: &Shared,
    prior: CopyModel,
    mut planned: CopyModel,
) -> Applied<CopyModel> {
    let clients = match shared.clients() {
        Ok(clients) => clients,
        Err(diags) => return Applied::failed(diags),
    };
    let Some(id) = prior.id.known().cloned() else {
        return Applied::failed(Diagnostic::error(
            UPDATING,
            "the copy has no id in state. This is a bug.",
        ));
    };
    let what = format!("updating EC2 AMI ({id})");
    let error = |err: AwsError| Diagnostic::error(UPDATING, err.context(&what).to_string());
    if prior.state.known().is_none_or(|s| s != "available") {
        let deadline = Instant::now() + timeout(&planned, true);
        let outcome =
            match wait_image_available(&clients.ec2, &id, deadline, &shared.stop_token()).await {
                Ok(outcome) => outcome,
                Err(err) => return Applied::failed(error(err)),
            };
        match outcome {
            WaitOutcome::Available(_) => {}
            WaitOutcome::Failed(facts) => {
                let reason = format!("{what}: waiting for completion: copy ended {}: {}", facts.state, facts.state_reason);
                let cleanup = remove_copy(&clients, &id, &facts.snapshot_ids, Instant::now() + timeout(&planned, false)).await;
                let detail = match cleanup {
                    Ok(()) => format!("{reason}. The failed copy and its snapshots were deleted; the next apply makes a new copy."),
                    Err(err) => format!("{reason}. Removing the failed copy also failed: {err}"),
                };
                return Applied::failed(Diagnostic::error(UPDATING, detail));
            }
            WaitOutcome::Gone => {
                return Applied::failed(Diagnostic::error(UPDATING, format!("{what}: the copy no longer exists; the next plan creates a new one.")))
            }
            // An error keeps the prior (pending) state: not tainted, since
            // this is an update, and the next apply waits again.
            WaitOutcome::Stopped(_) | WaitOutcome::TimedOut(_) => {
                return Applied::failed(Diagnostic::error(
                    UPDATING,
                    format!("{what}: the copy is still pending (Terraform stopped the provider, or timeouts.create passed); the next apply waits for it again."),
                ))
            }
        }
    }
    if planned.description != prior.description {
        let description = planned.description.known().cloned().unwrap_or_default();
        if let Err(err) = set_description(&clients.ec2, &id, &description).await {
            return Applied::failed(error(err));
        }
    }
    let facts = match describe_image(&clients.ec2, &id).await {
        Ok(Some(facts)) => facts,
        Ok(None) => {
            return Applied::failed(Diagnostic::error(
                UPDATING,
                format!("{what}: the copy no longer exists; the next plan creates a new one."),
            ))
        }
        Err(err) => return Applied::failed(error(err)),
    };
    let Some(tags_all) = planned.tags_all.known().cloned() else {
        return Applied::failed(Diagnostic::error(
            UPDATING,
            "tags_all must be known at apply. This is a bug.",
        ));
    };
    if let Err(err) = sync_all_tags(&clients, &facts, &tags_all).await {
        return Applied::failed(error(err));
    }
    set_facts(&mut planned, &facts);
    if planned.kms_key_arn.is_unknown() {
        planned.kms_key_arn = Field::Known(
            key_arn(&clients.ec2, &facts)
                .await
                .known()
                .cloned()
                .unwrap_or_default(),
        );
    }
    Applied::ok(planned)
}

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
                format!("{}; they remain and are still in state", err.context(&what)),
            )
            .into()
        })
}
