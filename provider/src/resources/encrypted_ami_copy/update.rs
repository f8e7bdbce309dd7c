//! Update in place: finish an interrupted copy, description, tags, and the
//! lifecycle controls (enabled, deregistration protection, deprecation).

use tokio::time::Instant;

use crate::aws::copy::set_description;
use crate::aws::image::find_image_by_id;
use crate::aws::wait::{wait_image_available, WaitOutcome};
use crate::aws::{AwsClients, AwsError, Optional};
use crate::protocol::diagnostics::Diagnostic;
use crate::protocol::managed::Applied;
use crate::resources::reach;
use crate::shared::Shared;

use super::aws_state::{record_copy, remove_copy, settle_controls, settled_state, sync_all_tags};
use super::model::CopyModel;
use super::rules::{summary, AVAILABLE, DISABLED};
use super::timeouts;

/// Updates the copy in place. A copy left pending by an interrupted apply
/// is waited for first (within `timeouts.create`).
pub(super) async fn update(
    shared: &Shared,
    prior: CopyModel,
    mut planned: CopyModel,
) -> Applied<CopyModel> {
    let clients = match reach::clients_for(shared, &planned.region, &planned.assume_role).await {
        Ok(clients) => clients,
        Err(diags) => return Applied::failed(diags),
    };
    let updating = summary("updating", &prior);
    let Some(id) = prior.id.known().cloned() else {
        return Applied::failed(Diagnostic::error(
            &updating,
            "the copy has no id in state. This is a bug.",
        ));
    };
    let what = format!("updating EC2 AMI ({id})");
    let error = |err: AwsError| Diagnostic::error(&updating, err.context(&what).to_string());
    // A pending copy is waited for; a disabled one is done (`enabled`
    // decides below whether it stays disabled).
    if prior
        .state
        .known()
        .is_none_or(|s| s != AVAILABLE && s != DISABLED)
    {
        if let Err(diagnostic) =
            wait_pending(shared, &clients, &prior, &planned, &id, &what, &updating).await
        {
            return Applied::failed(diagnostic);
        }
    }
    if planned.description != prior.description {
        let description = planned.description.known().cloned().unwrap_or_default();
        if let Err(err) = set_description(&clients, &id, &description).await {
            return Applied::failed(error(err));
        }
    }
    let facts = match find_image_by_id(&clients, &id).await.optional() {
        Ok(Some(facts)) => facts,
        Ok(None) => {
            return Applied::failed(Diagnostic::error(
                &updating,
                format!("{what}: the copy no longer exists; the next plan creates a new one."),
            ))
        }
        Err(err) => return Applied::failed(error(err)),
    };
    let Some(tags_all) = planned.tags_all.known().cloned() else {
        return Applied::failed(Diagnostic::error(
            &updating,
            "tags_all must be known at apply. This is a bug.",
        ));
    };
    if let Err(err) = sync_all_tags(&clients, &facts, &tags_all).await {
        return Applied::failed(error(err));
    }
    if let Err(err) = settle_controls(&clients, &facts, &planned).await {
        return Applied::failed(error(err));
    }
    record_copy(&mut planned, &clients, &facts).await;
    planned.state = settled_state(&planned);
    Applied::ok(planned)
}

/// Waits (within `timeouts.create`) for the copy an interrupted apply left
/// pending; the error says why the update cannot go on. A failed copy is
/// removed first.
async fn wait_pending(
    shared: &Shared,
    clients: &AwsClients,
    prior: &CopyModel,
    planned: &CopyModel,
    id: &str,
    what: &str,
    updating: &str,
) -> Result<(), Diagnostic> {
    let deadline =
        Instant::now() + timeouts::create(&planned.timeouts, &planned.completion_duration_minutes);
    // The pending copy is in flight in EC2: it holds slots like any
    // other while we wait (without any, on a stop or a passed deadline,
    // the wait below ends at once).
    let in_flight = prior.snapshot_ids.known().map_or(1, Vec::len);
    let _slots = clients
        .copy_slots(in_flight, deadline, &shared.stop_token())
        .await
        .map(|mut slots| {
            slots.started();
            slots
        });
    let outcome = wait_image_available(clients, id, None, deadline, &shared.stop_token())
        .await
        .map_err(|err| Diagnostic::error(updating, err.context(what).to_string()))?;
    match outcome {
        WaitOutcome::Available(_) => Ok(()),
        WaitOutcome::Failed(facts) => {
            let reason = format!("{what}: waiting for completion: copy ended {}: {}", facts.state, facts.state_reason);
            let cleanup = remove_copy(clients, id, &facts.snapshot_ids, Instant::now() + timeouts::delete(&planned.timeouts)).await;
            let detail = match cleanup {
                Ok(()) => format!("{reason}. The failed copy and its snapshots were deleted; the next apply makes a new copy."),
                Err(err) => format!("{reason}. Removing the failed copy also failed: {err}"),
            };
            Err(Diagnostic::error(updating, detail))
        }
        WaitOutcome::Gone => Err(Diagnostic::error(
            updating,
            format!("{what}: the copy no longer exists; the next plan creates a new one."),
        )),
        // An error keeps the prior (pending) state: not tainted, since
        // this is an update, and the next apply waits again.
        WaitOutcome::Stopped(_) | WaitOutcome::TimedOut(_) => Err(Diagnostic::error(
            updating,
            format!("{what}: the copy is still pending (Terraform stopped the provider, or timeouts.create passed); the next apply waits for it again."),
        )),
    }
}
