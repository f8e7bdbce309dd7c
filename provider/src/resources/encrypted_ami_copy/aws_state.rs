//! Reading and changing a copy through the AWS layer: what create, read,
//! update and delete share, so that none of them imports another.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::SystemTime;

use tokio::time::Instant;

use crate::aws::backoff::read_back;
use crate::aws::deregister::{delete_snapshot_until, deregister_image, SNAPSHOT_DELETED};
use crate::aws::image::{find_image_by_id, Image};
use crate::aws::image_controls::{set_deprecation, set_enabled, set_protection, Protection};
use crate::aws::snapshot::find_snapshots_by_ids;
use crate::aws::snapshot::snapshot_tags;
use crate::aws::tags::sync_tags;
use crate::aws::{AwsClients, AwsError};
use crate::log;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::managed::Applied;
use crate::protocol::typed::Field;
use crate::shared::Shared;

use super::controls::{
    deprecation_field, deprecation_in_place, protection_field, protection_in_place,
    wanted_deprecation, wanted_protection,
};
use super::mark;
use super::model::{CopyModel, Tags};
use super::rules::{summary, AVAILABLE, DISABLED, TAG_COPIED_FROM, TAG_CREATING, TAG_ENCRYPTED};
use super::tag_rules::adopted_tags;
use super::timeouts;

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

/// The lifecycle controls as EC2 reports them in `facts`, mapped onto the
/// model without false diffs (see `controls`).
pub(super) fn set_controls(model: &mut CopyModel, facts: &Image) {
    model.enabled = Field::Known(facts.state != DISABLED);
    model.deregistration_protection =
        protection_field(&model.deregistration_protection, &Protection::of(facts));
    model.deprecation_time = deprecation_field(&model.deprecation_time, &facts.deprecation_time);
}

/// Brings the copy's lifecycle controls to what `planned` asks for, from
/// what EC2 reports in `facts`. A disabled copy is enabled first and a copy
/// to disable is disabled last, so protection and deprecation are set on an
/// enabled AMI. Each control is one call, made only when it differs.
pub(super) async fn settle_controls(
    clients: &AwsClients,
    facts: &Image,
    planned: &CopyModel,
) -> Result<(), AwsError> {
    let id = &facts.id;
    let enabled = planned.enabled.known() != Some(&false);
    let disabled_now = facts.state == DISABLED;
    if enabled && disabled_now {
        set_enabled(clients, id, true).await?;
    }
    if !protection_in_place(planned, &Protection::of(facts)) {
        set_protection(clients, id, wanted_protection(planned)).await?;
    }
    if !deprecation_in_place(planned, &facts.deprecation_time) {
        let at = wanted_deprecation(planned).map_err(|reason| {
            crate::aws::copy::failure(
                "setting deprecation_time",
                "InvalidDeprecationTime",
                &reason,
            )
        })?;
        set_deprecation(clients, id, at).await?;
    }
    if !enabled && !disabled_now {
        set_enabled(clients, id, false).await?;
    }
    Ok(())
}

/// The `state` a copy has once [`settle_controls`] succeeded.
pub(super) fn settled_state(planned: &CopyModel) -> Field<String> {
    let state = if planned.enabled.known() == Some(&false) {
        DISABLED
    } else {
        AVAILABLE
    };
    Field::Known(state.to_owned())
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
        Instant::now() + timeouts::delete(&planned.timeouts),
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

/// The code of [`remove_copy`]'s error when the AMI was deregistered but
/// some snapshots could not be deleted.
pub(super) const SNAPSHOTS_REMAIN: &str = "SnapshotsRemain";

/// Deregisters `image_id` and makes sure each snapshot is gone.
pub(super) async fn remove_copy(
    clients: &AwsClients,
    image_id: &str,
    snapshot_ids: &[String],
    deadline: Instant,
) -> Result<(), AwsError> {
    let codes = deregister_image(clients, image_id).await?;
    let mut left = Vec::new();
    for snapshot_id in snapshot_ids {
        // What EC2 deleted with the AMI needs no second call; whatever it
        // skipped or failed to delete is deleted here, with retries.
        let code = codes.get(snapshot_id).map(String::as_str);
        if code == Some(SNAPSHOT_DELETED) {
            continue;
        }
        if let Some(code) = code {
            log::warn(
                "DeregisterImage did not delete a snapshot; deleting it",
                &[("snapshot_id", snapshot_id), ("return_code", code)],
            );
        }
        if let Err(err) = delete_snapshot_until(clients, snapshot_id, image_id, deadline).await {
            left.push(match code {
                Some(code) => format!("{snapshot_id} (DeregisterImage answered {code}): {err}"),
                None => err.to_string(),
            });
        }
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(crate::aws::copy::failure(
            "deleting the copy's snapshots",
            SNAPSHOTS_REMAIN,
            &left.join("; "),
        ))
    }
}
/// Brings the AMI and each snapshot to exactly `tags_all`; when that
/// changed anything, reads the tags back until they show it (see
/// [`await_tags`]).
pub(super) async fn sync_all_tags(
    clients: &AwsClients,
    facts: &Image,
    tags_all: &Tags,
) -> Result<(), AwsError> {
    let mut changed = facts.tags != *tags_all;
    sync_tags(clients, &facts.id, &facts.tags, tags_all).await?;
    let snapshots = snapshot_tags(clients, &facts.snapshot_ids).await?;
    for (snapshot_id, current) in &snapshots {
        changed |= current != tags_all;
        sync_tags(clients, snapshot_id, current, tags_all).await?;
    }
    if changed {
        await_tags(clients, facts, tags_all).await;
    }
    Ok(())
}

/// Reads the AMI's and snapshots' tags back until each shows `tags_all`
/// (see [`confirm_change`]). EC2 tags are eventually consistent: without
/// this, a plan run right after the apply can read the old tags and offer
/// the same change again.
async fn await_tags(clients: &AwsClients, facts: &Image, tags_all: &Tags) {
    let read = || async {
        let image = find_image_by_id(clients, &facts.id).await?;
        let snapshots = snapshot_tags(clients, &facts.snapshot_ids).await?;
        Ok((image, snapshots))
    };
    let shows = |(image, snapshots): &(Image, BTreeMap<String, Tags>)| {
        mark::settled_tags(&image.tags, SystemTime::now()) == *tags_all
            && snapshots.values().all(|tags| tags == tags_all)
    };
    confirm_change(read, shows, &facts.id, "its tags").await;
}

/// Reads the copy `image_id` back with `read` until what it returns `shows`
/// the `change` just made (see [`read_back`]). Past the budget, or when a
/// read fails, the calls that succeeded are trusted, with a WARN line: the
/// next refresh reads AWS again.
pub(super) async fn confirm_change<T, F, Fut>(
    read: F,
    shows: impl Fn(&T) -> bool,
    image_id: &str,
    change: &str,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    match read_back(read, shows, image_id).await {
        Ok((_, true)) => {}
        Ok((_, false)) => log::warn(
            "a change to the copy was made, but reads do not show it yet; the next refresh reads it again",
            &[("image_id", image_id), ("change", change)],
        ),
        Err(err) => log::warn(
            "a change to the copy was made, but the copy could not be read back",
            &[("image_id", image_id), ("change", change), ("error", &err.to_string())],
        ),
    }
}

/// The copy whose AMI is `facts` (one of the caller's own), as an import
/// (or a full `terraform query` listing) takes it over.
pub(super) async fn import_image(
    shared: &Shared,
    clients: &AwsClients,
    facts: &Image,
) -> Result<CopyModel, Diagnostics> {
    let id = facts.id.as_str();
    let path = AttrPath::root("id");
    let snapshots = snapshot_tags(clients, &facts.snapshot_ids)
        .await
        .map_err(|err| {
            Diagnostics::from(Diagnostic::error(
                format!("importing EC2 AMI copy ({id})"),
                err.to_string(),
            ))
        })?;
    // Every tag any object carries is taken as intended, so adopting a copy
    // removes nothing; the refresh that follows compares each object with
    // them, and the plan names the snapshots that lack one.
    let tags_all = adopted_tags(&facts.tags, &facts.snapshot_ids, &snapshots);
    let source = Some(facts.source_image_id.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| facts.tags.get(TAG_COPIED_FROM).cloned())
        .ok_or_else(|| {
            Diagnostics::from(
                Diagnostic::error(
                    "Not a copy",
                    format!("EC2 AMI {id} has neither a SourceImageId nor a {TAG_COPIED_FROM} tag, so its source is unknown."),
                )
                .at(path),
            )
        })?;
    let region = Some(facts.source_image_region.clone())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| clients.region.clone());
    let default_tags = shared.default_tags();
    let tags: Tags = tags_all
        .iter()
        .filter(|(k, v)| {
            *k != TAG_ENCRYPTED
                && *k != TAG_COPIED_FROM
                && *k != TAG_CREATING
                && default_tags.get(*k) != Some(*v)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let key_arn = key_arn(clients, facts).await;
    let mut model = CopyModel {
        region: Field::Known(clients.region.clone()),
        source_ami_id: Field::Known(source),
        source_region: Field::Known(region),
        name: Field::Known(facts.name.clone()),
        description: Some(facts.description.clone())
            .filter(|d| !d.is_empty())
            .into(),
        kms_key_id: key_arn.clone(),
        kms_key_arn: key_arn,
        tags: if tags.is_empty() {
            Field::Null
        } else {
            Field::Known(tags)
        },
        tags_all: Field::Known(tags_all),
        ..CopyModel::default()
    };
    if model.kms_key_id.is_unknown() {
        model.kms_key_id = Field::Null;
    }
    set_facts(&mut model, facts);
    set_controls(&mut model, facts);
    Ok(model)
}
