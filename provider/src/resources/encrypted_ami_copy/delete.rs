//! Destroy: the AMI and every snapshot it had, or an error naming what is
//! left (which stays in state). `skip_destroy` keeps the copy in AWS; the
//! checks in `guard` run before anything changes.

use tokio::time::Instant;

use crate::aws::image::find_image_by_id;
use crate::aws::Optional;
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::resources::reach;
use crate::shared::Shared;

use super::aws_state::{remove_copy, SNAPSHOTS_REMAIN};
use super::guard::{instances_warning, refuse_in_use, retention_warning, unprotect};
use super::model::CopyModel;
use super::rules::summary;
use super::timeouts;

/// Deregisters the copy and deletes every snapshot it had (those in state
/// and those AWS still lists), failing with the names of any left. `Ok`
/// carries warnings.
pub(super) async fn delete(shared: &Shared, prior: CopyModel) -> Result<Diagnostics, Diagnostics> {
    let Some(id) = prior.id.known().cloned() else {
        return Ok(Diagnostics::new());
    };
    if prior.skip_destroy.known() == Some(&true) {
        return Ok(kept(&prior, &id));
    }
    let clients = reach::clients_for(shared, &prior.region, &prior.assume_role).await?;
    let deleting = summary("deleting", &prior);
    let what = format!("deleting EC2 AMI ({id})");
    let mut snapshot_ids = prior.snapshot_ids.known().cloned().unwrap_or_default();
    let facts = find_image_by_id(&clients, &id)
        .await
        .optional()
        .map_err(|err| Diagnostic::error(&deleting, err.context(&what).to_string()))?;
    let mut warnings = Diagnostics::new();
    if let Some(facts) = &facts {
        snapshot_ids.extend(
            facts
                .snapshot_ids
                .iter()
                .filter(|s| !prior.snapshot_ids.known().is_some_and(|p| p.contains(s)))
                .cloned(),
        );
        if prior.force_destroy.known() != Some(&true) {
            refuse_in_use(&clients, &id, &deleting).await?;
        }
        warnings.extend(instances_warning(&clients, &id).await);
        unprotect(&clients, facts, &deleting).await?;
    }
    let deadline = Instant::now() + timeouts::delete(&prior.timeouts);
    remove_copy(&clients, &id, &snapshot_ids, deadline)
        .await
        .map_err(|err| {
            // Only snapshots can remain once DeregisterImage went through
            // (see `remove_copy`); any other failure left the AMI as it was.
            let left = if err.code() == Some(SNAPSHOTS_REMAIN) {
                "The AMI is deregistered; the snapshots named stay in state, and the next destroy (or \
                 replacement) deletes them once nothing holds them."
            } else {
                "Nothing was deregistered; the copy stays in state, and the next destroy tries again."
            };
            Diagnostic::error(&deleting, format!("{}. {left}", err.context(&what)))
        })?;
    let tags = facts
        .map(|f| f.tags)
        .or_else(|| prior.tags_all.known().cloned())
        .unwrap_or_default();
    warnings.extend(retention_warning(&clients, &id, &snapshot_ids, &tags).await);
    Ok(warnings)
}

/// `skip_destroy`: the copy leaves Terraform's state and stays in AWS.
fn kept(prior: &CopyModel, id: &str) -> Diagnostics {
    let snapshots = prior.snapshot_ids.known().cloned().unwrap_or_default();
    let account = prior.owner_id.known().map_or("", String::as_str);
    let region = prior.region.known().map_or("", String::as_str);
    Diagnostic::warning(
        "EC2 AMI copy kept (skip_destroy)",
        format!(
            "{id} and its snapshots {} were removed from Terraform state but left in account {account} region \
             {region}, as skip_destroy = true asks. They are no longer managed (and still billed); import the copy \
             to manage it again.",
            if snapshots.is_empty() {
                "(none recorded)".to_owned()
            } else {
                snapshots.join(", ")
            }
        ),
    )
    .into()
}
