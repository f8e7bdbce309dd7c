//! Refresh and import: what AWS says about the copy, as the model.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::copy::{describe_image, describe_snapshots, ImageFacts};
use crate::aws::tags::snapshot_tags;
use crate::aws::AwsError;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::log;
use crate::protocol::typed::Field;
use crate::provider::Shared;

use super::model::{CopyModel, Tags};
use super::rules::{DEREGISTERED, TAG_COPIED_FROM, TAG_ENCRYPTED};

/// Refreshes `state`; `None` when the copy is gone (deregistered or missing).
pub async fn read(shared: &Shared, mut state: CopyModel) -> Result<Option<CopyModel>, Diagnostics> {
    let Some(id) = state.id.known().cloned() else {
        return Ok(None);
    };
    let clients = shared.clients()?;
    let context = |err: AwsError| {
        Diagnostics::from(Diagnostic::error(
            "Reading EC2 AMI copy",
            err.context(format!("reading EC2 AMI ({id})")).to_string(),
        ))
    };
    let Some(facts) = describe_image(&clients.ec2, &id).await.map_err(context)? else {
        return remains(&clients.ec2, state).await.map_err(context);
    };
    let snapshots = snapshot_tags(&clients.ec2, &facts.snapshot_ids)
        .await
        .map_err(context)?;
    if !facts.description.is_empty() || state.description.known().is_some() {
        state.description = Field::Known(facts.description.clone());
    }
    state.name = Field::Known(facts.name.clone());
    state.tags_all = Field::Known(found_tags(
        &facts.tags,
        &facts.snapshot_ids,
        &snapshots,
        state.tags_all.known(),
    ));
    if state.kms_key_arn.known().is_none() {
        state.kms_key_arn = key_arn(&clients.ec2, &facts).await;
    }
    set_facts(&mut state, &facts);
    Ok(Some(state))
}

/// The state of a copy whose AMI is gone: while any snapshot in state still
/// exists, the copy exists, as [`DEREGISTERED`] with only those snapshots
/// (the plan replaces it, and the replacement's delete, or a destroy,
/// removes them); with none left, the copy is gone.
async fn remains(
    ec2: &aws_sdk_ec2::Client,
    mut state: CopyModel,
) -> Result<Option<CopyModel>, AwsError> {
    let in_state = state.snapshot_ids.known().cloned().unwrap_or_default();
    let existing = snapshot_tags(ec2, &in_state).await?;
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
/// the key's ARN (see the docs for how other forms plan).
pub async fn import(shared: &Shared, id: &str) -> Result<CopyModel, Diagnostics> {
    let clients = shared.clients()?;
    let path = AttrPath::root("id");
    let facts = describe_image(&clients.ec2, id)
        .await
        .map_err(|err| {
            Diagnostics::from(Diagnostic::error(
                "Importing EC2 AMI copy",
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
    let snapshots = snapshot_tags(&clients.ec2, &facts.snapshot_ids)
        .await
        .map_err(|err| {
            Diagnostics::from(Diagnostic::error("Importing EC2 AMI copy", err.to_string()))
        })?;
    // What the AMI carries is what an import takes as intended; the next
    // refresh compares each snapshot with it.
    let tags_all = found_tags(
        &facts.tags,
        &facts.snapshot_ids,
        &snapshots,
        Some(&facts.tags),
    );
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
            *k != TAG_ENCRYPTED && *k != TAG_COPIED_FROM && default_tags.get(*k) != Some(*v)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let key_arn = key_arn(&clients.ec2, &facts).await;
    let mut model = CopyModel {
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
    set_facts(&mut model, &facts);
    Ok(model)
}

/// Copies what AWS decides into the model.
pub fn set_facts(model: &mut CopyModel, facts: &ImageFacts) {
    let text = |s: &str| Field::Known(s.to_owned());
    model.id = text(&facts.image_id);
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
pub async fn key_arn(ec2: &aws_sdk_ec2::Client, facts: &ImageFacts) -> Field<String> {
    match describe_snapshots(ec2, &facts.snapshot_ids).await {
        Ok(snapshots) => snapshots
            .iter()
            .map(|s| s.kms_key_id.clone())
            .find(|k| !k.is_empty())
            .map_or(Field::Unknown, Field::Known),
        Err(_) => Field::Unknown,
    }
}

/// [`set_facts`], and the key's ARN when the plan could not know it (the
/// default EBS key, or a key DescribeKey could not resolve at plan time).
pub async fn record_copy(model: &mut CopyModel, ec2: &aws_sdk_ec2::Client, facts: &ImageFacts) {
    set_facts(model, facts);
    if model.kms_key_arn.is_unknown() {
        model.kms_key_arn = Field::Known(
            key_arn(ec2, facts)
                .await
                .known()
                .cloned()
                .unwrap_or_default(),
        );
    }
}

/// The tags found on the AMI and its snapshots, as one map that shows every
/// difference from `expected` (the tags last applied, `tags_all` in state).
///
/// A key on which the AMI and every snapshot agree has that value. A key on
/// which they disagree takes the first value (AMI first, then snapshots in
/// mapping order) that differs from the expected one, absent included. So
/// an edited tag shows the value found (`"edited" -> "platform"`), an extra
/// tag on a single snapshot shows as one to remove, a tag missing from one
/// snapshot as one to add, and apply brings every object back. Snapshots
/// that no longer exist are left out (destroy deals with them).
pub fn found_tags(
    image: &Tags,
    snapshot_ids: &[String],
    snapshots: &BTreeMap<String, Tags>,
    expected: Option<&Tags>,
) -> Tags {
    let objects: Vec<&Tags> = std::iter::once(image)
        .chain(snapshot_ids.iter().filter_map(|id| snapshots.get(id)))
        .collect();
    let keys: BTreeSet<&String> = objects.iter().flat_map(|tags| tags.keys()).collect();
    let mut found = Tags::new();
    for key in keys {
        let values: Vec<Option<&String>> = objects.iter().map(|tags| tags.get(key)).collect();
        let agreed = values.iter().all(|v| *v == values[0]);
        let wanted = expected.and_then(|e| e.get(key));
        let value = if agreed {
            values[0]
        } else {
            values
                .iter()
                .copied()
                .find(|v| *v != wanted)
                .unwrap_or(values[0])
        };
        if let Some(value) = value {
            found.insert(key.clone(), value.clone());
        }
    }
    found
}
