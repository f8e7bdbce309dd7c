//! Create, update, delete, read and import of `imagecopier_ami_share`.

use crate::aws::image::{find_image_by_id, Image};
use crate::aws::{AwsClients, AwsError};
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::managed::Applied;
use crate::protocol::typed::Field;

use super::aws_state::{
    apply_changes, check_shareable, fill_computed, load_actual, settle, snapshots,
};
use super::grants::{changes, observe, Actual, Managed};
use super::model::{set_like, set_of, AmiShareModel};

/// The principals a model manages; unknown sets count as empty (apply
/// only sees known values, state only holds known values).
pub fn managed_of(model: &AmiShareModel) -> Managed {
    Managed {
        accounts: set_of(&model.account_ids).unwrap_or_default(),
        organizations: set_of(&model.organization_arns).unwrap_or_default(),
        organizational_units: set_of(&model.organizational_unit_arns).unwrap_or_default(),
        share_snapshots: model.shares_snapshots().unwrap_or(true),
        exclusive: model.is_exclusive().unwrap_or(false),
    }
}

fn error(summary: &str, err: &AwsError) -> Diagnostics {
    Diagnostic::error(summary, err.to_string()).into()
}

/// Grants and revokes so that `planned` holds, starting from `prior`.
/// Returns the state to record: `planned` with computed values filled in,
/// or, on failure, what exists now with the error.
pub async fn converge(
    clients: &AwsClients,
    prior: Option<&AmiShareModel>,
    mut planned: AmiShareModel,
) -> Applied<AmiShareModel> {
    let image_id = planned.image_id.known().cloned().unwrap_or_default();
    let summary = format!("sharing EC2 AMI ({image_id})");
    let ec2 = &clients.ec2;
    let image = match find_image_by_id(ec2, &image_id).await {
        Ok(image) => image,
        Err(err) => return failed(prior, &summary, &err),
    };
    if prior.is_none() {
        // Plan checked this already unless the provider configuration was
        // unknown then; checking again costs little and changes nothing.
        match check_shareable(clients, &image).await {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => {
                return Applied::failed(
                    Diagnostic::error("AMI cannot be shared", reason)
                        .at(AttrPath::root("image_id")),
                )
            }
            Err(err) => return Applied::failed(error(&summary, &err)),
        }
    }
    let desired = managed_of(&planned);
    let before = prior.map(managed_of).unwrap_or_default();
    let result = async {
        let actual = load_actual(ec2, &image).await?;
        let todo = changes(&desired, &before, &actual);
        if !todo.is_empty() {
            apply_changes(ec2, &image.id, &todo).await?;
        }
        let (actual, settled) = settle(ec2, &image, &desired).await?;
        let snapshots = snapshots(ec2, &image).await?;
        Ok::<_, AwsError>((actual, settled, snapshots))
    }
    .await;
    match result {
        Ok((actual, true, snapshots)) => {
            let mut filled = planned.clone();
            fill_computed(&mut filled, &image, &snapshots, &actual);
            // Computed values the plan already knew stay as planned (they
            // describe the same image); only unknown ones are filled.
            keep_planned(&mut planned, filled);
            Applied::ok(planned)
        }
        Ok((actual, false, _)) => {
            let state = observed_state(&planned, &image, &actual);
            Applied::partial(
                state,
                Diagnostic::error(
                    summary,
                    "The permissions were changed, but AWS still does not show all of them after waiting. \
                     Run terraform apply again.",
                ),
            )
        }
        Err(err) => {
            // Some calls may have succeeded: record what exists now, so the
            // next plan shows the rest and destroy revokes what was granted.
            let diags = error(&summary, &err);
            match load_actual(ec2, &image).await {
                Ok(actual) => Applied::partial(observed_state(&planned, &image, &actual), diags),
                Err(_) => match prior {
                    Some(prior) => Applied::partial(prior.clone(), diags),
                    None => Applied::partial(
                        observed_state(&planned, &image, &Actual::default()),
                        diags,
                    ),
                },
            }
        }
    }
}

fn failed(prior: Option<&AmiShareModel>, summary: &str, err: &AwsError) -> Applied<AmiShareModel> {
    match prior {
        Some(prior) => Applied::partial(prior.clone(), error(summary, err)),
        None => Applied::failed(error(summary, err)),
    }
}

fn keep_planned(planned: &mut AmiShareModel, filled: AmiShareModel) {
    fn keep<T>(planned: &mut Field<T>, filled: Field<T>) {
        if planned.is_unknown() {
            *planned = filled;
        }
    }
    keep(&mut planned.id, filled.id);
    keep(&mut planned.snapshot_ids, filled.snapshot_ids);
    keep(&mut planned.image_name, filled.image_name);
    keep(&mut planned.image_tags, filled.image_tags);
    keep(&mut planned.encrypted, filled.encrypted);
    keep(&mut planned.kms_key_ids, filled.kms_key_ids);
    keep(&mut planned.public, filled.public);
}

/// `model` with its sets replaced by what exists (see [`observe`]) and its
/// computed values refreshed.
fn observed_state(model: &AmiShareModel, image: &Image, actual: &Actual) -> AmiShareModel {
    let seen = observe(&managed_of(model), actual);
    let mut state = model.clone();
    state.account_ids = set_like(&model.account_ids, &seen.accounts);
    state.organization_arns = set_like(&model.organization_arns, &seen.organizations);
    state.organizational_unit_arns =
        set_like(&model.organizational_unit_arns, &seen.organizational_units);
    fill_computed(&mut state, image, &[], actual);
    // Without the snapshots at hand, keep what was known about encryption.
    state.encrypted = model.encrypted.clone();
    state.kms_key_ids = model.kms_key_ids.clone();
    if state.encrypted.is_unknown() {
        state.encrypted = Field::Known(image.encrypted);
    }
    if state.kms_key_ids.is_unknown() {
        state.kms_key_ids = Field::Known(Default::default());
    }
    state
}

/// Revokes what `prior` manages; a vanished image has nothing left to revoke.
pub async fn delete(clients: &AwsClients, prior: &AmiShareModel) -> Result<(), Diagnostics> {
    let image_id = prior.image_id.known().cloned().unwrap_or_default();
    let summary = format!("unsharing EC2 AMI ({image_id})");
    let image = match find_image_by_id(&clients.ec2, &image_id).await {
        Ok(image) => image,
        Err(err) if err.is_not_found() => return Ok(()),
        Err(err) => return Err(error(&summary, &err)),
    };
    let result = async {
        let actual = load_actual(&clients.ec2, &image).await?;
        let revoke = changes(&Managed::default(), &managed_of(prior), &actual);
        apply_changes(&clients.ec2, &image.id, &revoke).await
    }
    .await;
    result.map_err(|err| error(&summary, &err))
}

/// Refreshes `state`: drift in the managed sets, the image's facts, and
/// `None` when the image is gone.
pub async fn read(
    clients: &AwsClients,
    state: &AmiShareModel,
) -> Result<Option<AmiShareModel>, Diagnostics> {
    let image_id = state.image_id.known().cloned().unwrap_or_default();
    let summary = format!("reading EC2 AMI share ({image_id})");
    let image = match find_image_by_id(&clients.ec2, &image_id).await {
        Ok(image) => image,
        Err(err) if err.is_not_found() => {
            crate::protocol::log::warn(
                "EC2 AMI not found, removing the share from state",
                &[("image_id", &image_id)],
            );
            return Ok(None);
        }
        Err(err) => return Err(error(&summary, &err)),
    };
    let result = async {
        let actual = load_actual(&clients.ec2, &image).await?;
        let snapshots = snapshots(&clients.ec2, &image).await?;
        Ok::<_, AwsError>((actual, snapshots))
    }
    .await;
    let (actual, snapshots) = result.map_err(|err| error(&summary, &err))?;
    let mut next = observed_state(state, &image, &actual);
    fill_computed(&mut next, &image, &snapshots, &actual);
    Ok(Some(next))
}

/// Imports the share of AMI `id`: `account_ids` are the accounts that can
/// copy it now (launch permission and createVolumePermission on every
/// snapshot), organizations and OUs are those with launch permission,
/// `share_snapshots = true`, `exclusive = false`. Empty sets import as null.
pub async fn import(clients: &AwsClients, id: &str) -> Result<AmiShareModel, Diagnostics> {
    if let Err(reason) = super::validate::image_id(id) {
        return Err(Diagnostic::error(
            "Invalid import ID",
            format!("The import ID {reason}: imagecopier_ami_share is imported by AMI ID."),
        )
        .into());
    }
    let summary = format!("importing EC2 AMI share ({id})");
    let image = find_image_by_id(&clients.ec2, id)
        .await
        .map_err(|err| error(&summary, &err))?;
    if image.owner_id != clients.account_id {
        return Err(Diagnostic::error(
            summary,
            format!(
                "EC2 AMI ({id}) is owned by account {}, not by the provider's account {}.",
                image.owner_id, clients.account_id
            ),
        )
        .into());
    }
    let actual = load_actual(&clients.ec2, &image)
        .await
        .map_err(|err| error(&summary, &err))?;
    let mut model = AmiShareModel {
        image_id: Field::Known(id.to_owned()),
        share_snapshots: Field::Known(true),
        exclusive: Field::Known(false),
        ..AmiShareModel::default()
    };
    model.account_ids = set_like(&Field::Null, &actual.fully_shared_accounts(true));
    model.organization_arns = set_like(&Field::Null, &actual.launch.organizations);
    model.organizational_unit_arns = set_like(&Field::Null, &actual.launch.organizational_units);
    // Read runs right after import and fills in the rest.
    fill_computed(&mut model, &image, &[], &actual);
    Ok(model)
}
