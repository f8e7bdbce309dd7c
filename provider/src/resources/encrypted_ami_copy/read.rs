//! Refresh and import: what AWS says about the copy, as the model.

use std::collections::BTreeMap;

use crate::aws::image::{find_image_by_id, Image};
use crate::aws::snapshot::{find_own_snapshots_of_copy, snapshot_tags};
use crate::aws::{AwsClients, AwsError, Optional};
use crate::log;
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::protocol::typed::Field;
use crate::resources::reach;
use crate::shared::Shared;

use super::aws_state::{import_image, key_arn, set_controls, set_facts};
use super::mark;
use super::model::{CopyModel, Tags};
use super::rules::{summary, DEREGISTERED, TAG_COPIED_FROM};
use super::tag_rules::found_tags;

/// Refreshes `state`; `None` when the copy is gone: its AMI and every
/// snapshot it had (an AMI gone with snapshots left is [`DEREGISTERED`]).
pub(super) async fn read(
    shared: &Shared,
    mut state: CopyModel,
) -> Result<Option<CopyModel>, Diagnostics> {
    let Some(id) = state.id.known().cloned() else {
        return Ok(None);
    };
    let clients = reach::clients_for(shared, &state.region, &state.assume_role).await?;
    // State written before `region` existed: the copy is where the
    // provider acted then.
    if state.region.known().is_none() {
        state.region = Field::Known(clients.region.clone());
    }
    let reading = summary("reading", &state);
    let context = |err: AwsError| {
        Diagnostics::from(Diagnostic::error(
            &reading,
            err.context(format!("reading EC2 AMI ({id})")).to_string(),
        ))
    };
    let Some(facts) = refreshed_image(&clients, &id).await.map_err(context)? else {
        return remains(&clients, state).await.map_err(context);
    };
    let snapshots = refreshed_snapshot_tags(&clients, &facts.snapshot_ids)
        .await
        .map_err(context)?;
    if !facts.description.is_empty() || state.description.known().is_some() {
        state.description = Field::Known(facts.description.clone());
    }
    state.name = Field::Known(facts.name.clone());
    let image_tags = mark::settled_tags(&facts.tags, std::time::SystemTime::now());
    state.tags_all = Field::Known(found_tags(
        &image_tags,
        &facts.snapshot_ids,
        &snapshots,
        state.tags_all.known(),
    ));
    if state.kms_key_arn.known().is_none() {
        state.kms_key_arn = key_arn(&clients, &facts).await;
    }
    set_facts(&mut state, &facts);
    set_controls(&mut state, &facts);
    Ok(Some(state))
}

/// The copy's AMI as a refresh sees it: from the listing of every copy in
/// the account and region (one per Terraform command, see
/// `crate::aws::bulk`), else by id (a copy whose `CopiedFromAMI` tag was
/// removed, or one that is gone).
async fn refreshed_image(clients: &AwsClients, id: &str) -> Result<Option<Image>, AwsError> {
    let listing = clients.tagged_listing(TAG_COPIED_FROM).await?;
    if let Some(image) = listing.images.get(id) {
        return Ok(Some(image.clone()));
    }
    find_image_by_id(clients, id).await.optional()
}

/// The tags of each of `ids` that exists, from the same listing where it
/// holds them, else by id (a snapshot whose tag was removed, or one gone).
async fn refreshed_snapshot_tags(
    clients: &AwsClients,
    ids: &[String],
) -> Result<BTreeMap<String, Tags>, AwsError> {
    let listing = clients.tagged_listing(TAG_COPIED_FROM).await?;
    let (listed, unlisted): (Vec<&String>, Vec<&String>) = ids
        .iter()
        .partition(|id| listing.snapshots.contains_key(*id));
    let mut tags: BTreeMap<String, Tags> = listed
        .into_iter()
        .filter_map(|id| Some((id.clone(), listing.snapshots.get(id)?.tags.clone())))
        .collect();
    let unlisted: Vec<String> = unlisted.into_iter().cloned().collect();
    tags.extend(snapshot_tags(clients, &unlisted).await?);
    Ok(tags)
}

/// The state of a copy whose AMI is gone: while any snapshot in state still
/// exists, the copy exists, as [`DEREGISTERED`] with only those snapshots
/// (the plan replaces it, and the replacement's delete, or a destroy,
/// removes them); with none left, the copy is gone.
async fn remains(
    clients: &AwsClients,
    mut state: CopyModel,
) -> Result<Option<CopyModel>, AwsError> {
    let mut in_state = state.snapshot_ids.known().cloned().unwrap_or_default();
    // State may not know them all (a copy recorded pending before EC2 named
    // its snapshots): EC2's description of each snapshot names the copy.
    if let Some(id) = state.id.known() {
        for snapshot in find_own_snapshots_of_copy(clients, id).await? {
            if !in_state.contains(&snapshot.id) {
                in_state.push(snapshot.id);
            }
        }
    }
    let existing = refreshed_snapshot_tags(clients, &in_state).await?;
    let remaining: Vec<String> = in_state
        .into_iter()
        .filter(|id| existing.contains_key(id))
        .collect();
    if remaining.is_empty() {
        return Ok(None);
    }
    log::warn(
        "the copy's AMI is gone but snapshots remain; keeping it in state until they are deleted",
        &[
            ("image_id", state.id.known().map_or("", String::as_str)),
            ("snapshot_ids", &remaining.join(",")),
        ],
    );
    state.state = Field::Known(DEREGISTERED.to_owned());
    state.snapshot_ids = Field::Known(remaining);
    Ok(Some(state))
}

/// Imports the copy `id`, recovering its source from SourceImageId /
/// SourceImageRegion or else the CopiedFromAMI tag. All tags except the
/// two facts and the provider's default tags go to `tags`; `kms_key_id` is
/// the key's ARN (see the docs for how other forms plan). `clients` are the
/// provider's, or those for the region an import identity names.
pub(super) async fn import(
    shared: &Shared,
    clients: &AwsClients,
    id: &str,
) -> Result<CopyModel, Diagnostics> {
    if let Err(reason) = crate::validate::ami_id(id) {
        return Err(Diagnostic::error(
            "Invalid import ID",
            format!(
                "The import ID {reason}: imagecopier_encrypted_ami_copy is imported by AMI ID."
            ),
        )
        .into());
    }
    let facts = find_image_by_id(clients, id)
        .await
        .optional()
        .map_err(|err| {
            Diagnostics::from(Diagnostic::error(
                format!("importing EC2 AMI copy ({id})"),
                err.context(format!("reading EC2 AMI ({id})")).to_string(),
            ))
        })?
        .ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Cannot import non-existent remote object",
                format!(
                    "EC2 AMI {id} does not exist in account {} region {}.",
                    clients.account_id, clients.region
                ),
            ))
        })?;
    import_image(shared, clients, &facts).await
}
