//! Destroy: the AMI and every snapshot it had, or an error naming what is
//! left (which stays in state).

use tokio::time::Instant;

use crate::aws::image::find_image_by_id;
use crate::aws::Optional;
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::resources::reach;
use crate::shared::Shared;

use super::aws_state::remove_copy;
use super::model::CopyModel;
use super::{summary, timeout};

/// Deregisters the copy and deletes every snapshot it had (those in state
/// and those AWS still lists), failing with the names of any left.
pub(super) async fn delete(shared: &Shared, prior: CopyModel) -> Result<(), Diagnostics> {
    let clients = reach::clients_for(shared, &prior.region, &prior.assume_role).await?;
    let Some(id) = prior.id.known().cloned() else {
        return Ok(());
    };
    let what = format!("deleting EC2 AMI ({id})");
    let mut snapshot_ids = prior.snapshot_ids.known().cloned().unwrap_or_default();
    match find_image_by_id(&clients, &id).await.optional() {
        Ok(Some(facts)) => snapshot_ids.extend(
            facts
                .snapshot_ids
                .into_iter()
                .filter(|s| !prior.snapshot_ids.known().is_some_and(|p| p.contains(s))),
        ),
        Ok(None) => {}
        Err(err) => {
            return Err(Diagnostic::error(
                summary("deleting", &prior),
                err.context(&what).to_string(),
            )
            .into())
        }
    }
    let deadline = Instant::now() + timeout(&prior, false);
    remove_copy(&clients, &id, &snapshot_ids, deadline)
        .await
        .map_err(|err| {
            Diagnostic::error(
                summary("deleting", &prior),
                format!(
                    "{}. The AMI is deregistered; the snapshots named stay in state, and the next destroy (or \
                     replacement) deletes them once nothing holds them.",
                    err.context(&what)
                ),
            )
            .into()
        })
}
