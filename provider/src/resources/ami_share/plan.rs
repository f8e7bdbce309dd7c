//! Planning: defaults, computed values, replacement, and the checks that
//! need AWS (owner, AWS-managed key), made before anything changes.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::aws::image::{find_image_by_id, Image};
use crate::aws::snapshot::Snapshot;
use crate::aws::AwsClients;
use crate::log;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::managed::Planned;
use crate::protocol::typed::Field;
use crate::resources::reach::{self, region_unusable};
use crate::shared::Shared;

use super::aws_state::{check_shareable, fill_encryption, fill_image_facts, managed_of, snapshots};
use super::exclusive::removal_warning;
use super::key_grants;
use super::model::{set_of, AmiShareModel};
use super::recorded;

/// Plans a create (`prior` is `None`) or an update.
pub(super) async fn plan(
    shared: &Arc<Shared>,
    prior: Option<&AmiShareModel>,
    mut planned: AmiShareModel,
    config: &AmiShareModel,
) -> Result<Planned<AmiShareModel>, Diagnostics> {
    // Defaults: a null argument means the default, even when the prior state
    // holds another value (the user removed the line).
    if config.share_snapshots.is_null() {
        planned.share_snapshots = Field::Known(true);
    }
    if config.exclusive.is_null() {
        planned.exclusive = Field::Known(false);
    }
    if config.share_kms_keys.is_null() {
        planned.share_kms_keys = Field::Known(false);
    }
    planned.region = reach::planned_region(shared, &config.region, prior.map(|p| &p.region));
    let clients = reach::plan_clients(shared, &planned.region, &config.assume_role).await?;
    if let Some(clients) = &clients {
        refuse_owner(clients, config)?;
    }
    // A share that would act in another region or account is another share.
    let moves = prior.map_or_else(Vec::new, |p| {
        reach::moved(
            &p.region,
            &planned.region,
            &reach::planned_account(shared, &p.assume_role),
            &reach::planned_account(shared, &config.assume_role),
        )
    });
    let same_image = moves.is_empty()
        && prior.is_some_and(|p| p.image_id == planned.image_id && !planned.image_id.is_unknown());
    let mut requires_replace = Vec::new();
    // The image, when the checks of a new share read it.
    let mut checked = None;
    match prior {
        Some(prior) if same_image => {
            // Nothing about the image changes in place: keep what state says.
            planned.keep_prior_values(prior);
            planned.public = match planned.is_exclusive() {
                Some(true) => Field::Known(false),
                Some(false) => prior.public.clone(),
                None => Field::Unknown,
            };
            planned.kms_grants = planned_grants(&planned, prior.kms_key_ids.known().cloned());
            planned.permissions =
                planned_permissions(&planned, prior.snapshot_ids.known().cloned());
        }
        _ => {
            if let Some(prior) = prior {
                requires_replace = planned.replaced_attributes(prior);
                requires_replace.extend(moves);
            }
            planned.id = planned.image_id.clone();
            planned.forget_aws_values();
            planned.public = Field::Unknown;
            // What PR review wants to read, and what copies in the same
            // plan carry (image_tags), is known now; apply keeps these
            // planned values and the next refresh updates them.
            let found = check_new_image(clients.as_deref(), &planned).await?;
            let keys = found.as_ref().map(|(image, snapshots)| {
                // Known now, for the reviewer: which keys, and so which grants.
                fill_encryption(&mut planned, image, snapshots);
                fill_image_facts(&mut planned, image);
                key_grants::keys_of(snapshots)
            });
            planned.kms_grants = planned_grants(&planned, keys);
            let snapshot_ids = found
                .as_ref()
                .map(|(image, _)| image.snapshot_ids.iter().cloned().collect());
            planned.permissions = planned_permissions(&planned, snapshot_ids);
            checked = found.map(|(image, _)| image);
            if planned.is_exclusive() == Some(true) {
                planned.public = Field::Known(false);
            }
        }
    }
    let becomes_exclusive = planned.is_exclusive() == Some(true)
        && (!same_image || prior.is_some_and(|p| p.is_exclusive() != Some(true)));
    let mut warnings = Diagnostics::new();
    if let (Some(prior), Some(clients), true) = (prior, &clients, same_image) {
        warnings.extend(image_gone_warning(clients, prior, &planned).await);
    }
    if let (true, Some(clients), Some(image_id)) =
        (becomes_exclusive, &clients, planned.image_id.known())
    {
        if sets_known(&planned) {
            let desired = managed_of(&planned);
            match removal_warning(clients, image_id, checked, &desired).await {
                Ok(found) => warnings.extend(found),
                // The apply reads the grants again and removes them anyway;
                // the plan just cannot list them.
                Err(err) => log::warn(
                    "cannot list the grants exclusive = true will remove",
                    &[("image_id", image_id), ("error", &err.to_string())],
                ),
            }
        }
    }
    Ok(Planned {
        state: planned,
        requires_replace,
        warnings,
    })
}

/// The grants `share_kms_keys` will hold on `keys` (the customer managed
/// keys behind the AMI); unknown while the accounts or the keys are.
fn planned_grants(
    planned: &AmiShareModel,
    keys: Option<BTreeSet<String>>,
) -> Field<BTreeSet<String>> {
    match (
        planned.shares_kms_keys(),
        set_of(&planned.account_ids),
        keys,
    ) {
        (Some(false), _, _) => Field::Known(BTreeSet::new()),
        (Some(true), Some(accounts), Some(keys)) => {
            Field::Known(key_grants::entries(&accounts, &keys))
        }
        _ => Field::Unknown,
    }
}

/// The EC2 permissions the share will hold (see `recorded`); unknown while
/// the accounts or the snapshots are.
fn planned_permissions(
    planned: &AmiShareModel,
    snapshots: Option<BTreeSet<String>>,
) -> Field<BTreeSet<String>> {
    match (
        set_of(&planned.account_ids),
        planned.image_id.known(),
        planned.shares_snapshots(),
        snapshots,
    ) {
        (Some(accounts), Some(image_id), Some(share_snapshots), Some(snapshots)) => Field::Known(
            recorded::wanted(&accounts, image_id, &snapshots, share_snapshots),
        ),
        _ => Field::Unknown,
    }
}

/// A warning at `image_id` when the refreshed `prior` lost launch
/// permissions the plan grants again because the AMI itself is gone: the
/// apply would fail, and only destroying the share (or pointing it at
/// another AMI) helps. Looked up only in that case, so a steady plan makes
/// no call here.
async fn image_gone_warning(
    clients: &AwsClients,
    prior: &AmiShareModel,
    planned: &AmiShareModel,
) -> Diagnostics {
    let (Some(image_id), Some(wanted), Some(held)) = (
        planned.image_id.known(),
        planned.permissions.known(),
        prior.permissions.known(),
    ) else {
        return Diagnostics::new();
    };
    let launch_lost = wanted
        .iter()
        .filter(|e| recorded::parse(e).is_some_and(|(_, object)| object == image_id))
        .any(|e| !held.contains(e));
    if !launch_lost {
        return Diagnostics::new();
    }
    match find_image_by_id(clients, image_id).await {
        Err(err) if err.is_not_found() => Diagnostic::warning(
            "AMI no longer exists",
            format!(
                "EC2 AMI ({image_id}) was deregistered outside Terraform, so it cannot be shared again and this \
                 apply will fail. What the share still holds on its snapshots and keys is in state (permissions, \
                 kms_grants): remove the share, or point image_id at another AMI, and the apply revokes it."
            ),
        )
        .at(AttrPath::root("image_id"))
        .into(),
        _ => Diagnostics::new(),
    }
}

/// Whether every principal set is known (a set with an unknown element
/// cannot say which grants are outside it).
fn sets_known(model: &AmiShareModel) -> bool {
    [
        &model.account_ids,
        &model.organization_arns,
        &model.organizational_unit_arns,
    ]
    .into_iter()
    .all(|set| set_of(set).is_some())
}

/// The owner can always launch its own AMI; a grant to it does nothing, and
/// usually means a list of "all accounts" that includes the bake account.
fn refuse_owner(clients: &AwsClients, config: &AmiShareModel) -> Result<(), Diagnostics> {
    let owner = &clients.account_id;
    if !set_of(&config.account_ids).is_some_and(|accounts| accounts.contains(owner)) {
        return Ok(());
    }
    Err(Diagnostic::error(
        "Invalid account_ids",
        format!(
            "account_ids includes {owner}, the account that owns the AMI (the provider's account). An owner can \
             always launch and copy its own AMI, so there is nothing to grant. Leave it out, for example \
             [for a in var.accounts : a if a != \"{owner}\"]."
        ),
    )
    .at(AttrPath::root("account_ids"))
    .into())
}

/// The checks that need AWS, for an image about to be shared; the image
/// when they ran. Skipped while the image id or the provider configuration
/// is unknown; apply plans again with both known, so the checks still run
/// before any change.
async fn check_new_image(
    clients: Option<&AwsClients>,
    planned: &AmiShareModel,
) -> Result<Option<(Image, Vec<Snapshot>)>, Diagnostics> {
    let Some(image_id) = planned.image_id.known() else {
        return Ok(None);
    };
    if crate::validate::ami_id(image_id).is_err() {
        return Ok(None); // validate already reported it
    }
    let Some(clients) = clients else {
        log::debug(
            "provider configuration, region or role not known yet; AMI checks wait for apply",
            &[("image_id", image_id)],
        );
        return Ok(None);
    };
    let at_image = |summary: &str, detail: String| {
        Diagnostics::from(Diagnostic::error(summary, detail).at(AttrPath::root("image_id")))
    };
    let image = match find_image_by_id(clients, image_id).await {
        Ok(image) => image,
        Err(err) if err.is_not_found() => {
            // A region misspelt in the provider block shows first as an AMI
            // that is not there: say so rather than blame the id.
            let region = &clients.region;
            if let Some(problem) = region_unusable(clients, region, "region").await {
                return Err(at_image("Invalid region", problem));
            }
            return Err(at_image(
                "AMI not found",
                format!(
                    "EC2 AMI ({image_id}) does not exist in account {} region {region}: {err}",
                    clients.account_id
                ),
            ));
        }
        Err(err) => {
            return Err(at_image(
                "reading EC2 AMI",
                format!("reading EC2 AMI ({image_id}): {err}"),
            ))
        }
    };
    let checked = match snapshots(clients, &image).await {
        Ok(snapshots) => check_shareable(clients, &image, &snapshots)
            .await
            .map(|verdict| verdict.map(|()| snapshots)),
        Err(err) => Err(err),
    };
    match checked {
        Ok(Ok(snapshots)) => Ok(Some((image, snapshots))),
        Ok(Err(reason)) => Err(at_image("AMI cannot be shared", reason)),
        Err(err) => Err(at_image(
            "checking EC2 AMI",
            format!("checking EC2 AMI ({image_id}) can be shared: {err}"),
        )),
    }
}
