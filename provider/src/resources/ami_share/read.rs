//! Refresh and import: the grants that exist, as the model.

use std::collections::BTreeSet;

use crate::aws::image::{find_image_by_id, Image};
use crate::aws::{AwsClients, AwsError};
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::protocol::typed::Field;

use crate::aws::permissions::read_volume_grants;

use super::aws_state::{
    aws_error, fill_computed, grant_accounts, granted_accounts, load_actual, managed_of,
    observed_state, recorded_grants, snapshots,
};
use super::key_grants;
use super::listed::{self, Listed};
use super::model::{set_like, AmiShareModel};
use super::recorded;
use super::rules::{Actual, Managed};

/// Refreshes `state`: drift in the managed sets, the image's facts, and
/// what the share still holds. A share whose image is gone stays in state
/// (see [`gone`]).
pub(super) async fn read(
    clients: &AwsClients,
    state: &AmiShareModel,
) -> Result<Option<AmiShareModel>, Diagnostics> {
    let image_id = state.image_id.known().cloned().unwrap_or_default();
    let summary = format!("reading EC2 AMI share ({image_id})");
    let managed = managed_of(state);
    // Read for every account the share may still hold a grant for, so that
    // one that lost part of its grants keeps the rest on record.
    let granted = granted_accounts(state);
    let scope = Managed {
        accounts: granted.clone(),
        ..managed.clone()
    };
    let found = async {
        let image = match listed::answers(&scope) {
            true => match listed::read(clients, &image_id, &scope).await? {
                Listed::Gone => return Ok(None),
                Listed::Found(found) => return Ok(Some(found)),
                Listed::PerImage(image) => image,
            },
            false => match find_image_by_id(clients, &image_id).await {
                Ok(image) => image,
                Err(err) if err.is_not_found() => return Ok(None),
                Err(err) => return Err(err),
            },
        };
        let actual = load_actual(clients, &image).await?;
        let snapshots = snapshots(clients, &image).await?;
        Ok::<_, AwsError>(Some((image, actual, snapshots)))
    }
    .await;
    let found = match found {
        Ok(Some((image, actual, snapshots))) => {
            // Only the grants of accounts the state manages are looked for:
            // what others granted on the key is theirs.
            let accounts = key_grant_accounts(state);
            let keys = key_grants::keys_of(&snapshots);
            let grants = match accounts.is_empty() {
                true => Ok(BTreeSet::new()),
                false => key_grants::held(clients, &image_id, &keys, &accounts).await,
            };
            grants.map(|grants| Some((image, actual, snapshots, grants)))
        }
        Ok(None) => Ok(None),
        Err(err) => Err(err),
    }
    .map_err(|err| aws_error(&summary, &err))?;
    let Some((image, actual, snapshots, grants)) = found else {
        return gone(clients, state, &granted)
            .await
            .map(Some)
            .map_err(|err| aws_error(&summary, &err));
    };
    let mut next = observed_state(state, &image, &actual, &granted);
    fill_computed(&mut next, &image, &snapshots, &actual);
    // State written before `share_kms_keys` existed reads as its default,
    // so upgrading the provider plans no change.
    if next.share_kms_keys.is_null() {
        next.share_kms_keys = Field::Known(false);
    }
    next.kms_grants = Field::Known(grants);
    Ok(Some(next))
}

/// The share of an image that is gone (deregistered outside Terraform).
///
/// Its snapshots can outlive it, still shared, and so do the KMS grants on
/// their keys: dropping the share from state would leave those granted for
/// good. So the share stays, with no account able to copy (`account_ids`
/// empty) and what it still holds in `permissions` and `kms_grants`;
/// destroy revokes that. It stays even when nothing is left: a destroy
/// first plans with the configuration, and a share dropped from state would
/// be planned anew, which fails for an image that does not exist, so the
/// destroy could not run at all.
async fn gone(
    clients: &AwsClients,
    state: &AmiShareModel,
    granted: &BTreeSet<String>,
) -> Result<AmiShareModel, AwsError> {
    let image_id = state.image_id.known().cloned().unwrap_or_default();
    let mut snapshot_ids: BTreeSet<String> =
        state.snapshot_ids.known().cloned().unwrap_or_default();
    if let Some(recorded) = state.permissions.known() {
        snapshot_ids.extend(recorded::snapshots(recorded));
    }
    let mut volumes = Vec::new();
    for snapshot in &snapshot_ids {
        match read_volume_grants(clients, snapshot).await {
            Ok(grants) => volumes.push((snapshot.clone(), grants)),
            Err(err) if err.is_not_found() => {}
            Err(err) => return Err(err),
        }
    }
    let actual = Actual {
        volumes,
        ..Actual::default()
    };
    let (mut accounts, mut keys) = recorded_grants(state);
    accounts.extend(key_grant_accounts(state));
    keys.extend(state.kms_key_ids.known().cloned().unwrap_or_default());
    let grants = match accounts.is_empty() || keys.is_empty() {
        true => BTreeSet::new(),
        false => key_grants::held(clients, &image_id, &keys, &accounts).await?,
    };
    crate::log::warn(
        "EC2 AMI not found; the share stays in state with what it still holds, for destroy to revoke",
        &[
            ("image_id", &image_id),
            ("snapshot_ids", &snapshot_ids.iter().cloned().collect::<Vec<_>>().join(",")),
            ("kms_grants", &grants.len().to_string()),
        ],
    );
    let mut next = state.clone();
    next.account_ids = set_like(&state.account_ids, &BTreeSet::new());
    next.organization_arns = set_like(&state.organization_arns, &BTreeSet::new());
    next.organizational_unit_arns = set_like(&state.organizational_unit_arns, &BTreeSet::new());
    next.permissions = Field::Known(recorded::held(
        granted,
        &image_id,
        &actual,
        state.shares_snapshots().unwrap_or(true),
    ));
    next.kms_grants = Field::Known(grants);
    next.public = Field::Known(false);
    if next.share_kms_keys.is_null() {
        next.share_kms_keys = Field::Known(false);
    }
    Ok(next)
}

/// The accounts whose KMS grants a refresh looks for: the share's accounts
/// with `share_kms_keys`, and those on record.
fn key_grant_accounts(state: &AmiShareModel) -> BTreeSet<String> {
    let mut accounts = grant_accounts(state);
    accounts.extend(recorded_grants(state).0);
    accounts
}

/// Imports the share of AMI `id`: `account_ids` are the accounts that can
/// copy it now (launch permission and createVolumePermission on every
/// snapshot), organizations and OUs are those with launch permission,
/// `share_snapshots = true`, `exclusive = false`. Empty sets import as null.
pub(super) async fn import(clients: &AwsClients, id: &str) -> Result<AmiShareModel, Diagnostics> {
    if let Err(reason) = crate::validate::ami_id(id) {
        return Err(Diagnostic::error(
            "Invalid import ID",
            format!("The import ID {reason}: imagecopier_ami_share is imported by AMI ID."),
        )
        .into());
    }
    let summary = format!("importing EC2 AMI share ({id})");
    let image = find_image_by_id(clients, id)
        .await
        .map_err(|err| aws_error(&summary, &err))?;
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
    import_image(clients, &image).await
}

/// The share of the caller's own `image` as it stands (see [`import`]),
/// in the clients' region.
pub(super) async fn import_image(
    clients: &AwsClients,
    image: &Image,
) -> Result<AmiShareModel, Diagnostics> {
    let summary = format!("importing EC2 AMI share ({})", image.id);
    let actual = load_actual(clients, image)
        .await
        .map_err(|err| aws_error(&summary, &err))?;
    let mut model = AmiShareModel {
        region: Field::Known(clients.region.clone()),
        image_id: Field::Known(image.id.clone()),
        share_snapshots: Field::Known(true),
        exclusive: Field::Known(false),
        share_kms_keys: Field::Known(false),
        kms_grants: Field::Known(BTreeSet::new()),
        ..AmiShareModel::default()
    };
    let accounts = actual.fully_shared_accounts(true);
    model.account_ids = set_like(&Field::Null, &accounts);
    model.organization_arns = set_like(&Field::Null, &actual.launch.organizations);
    model.organizational_unit_arns = set_like(&Field::Null, &actual.launch.organizational_units);
    // The share's own key grants, for every account and key, mean it was
    // made with share_kms_keys: import says so, for an empty plan after.
    let snapshots = match image.encrypted && !accounts.is_empty() {
        true => snapshots(clients, image)
            .await
            .map_err(|err| aws_error(&summary, &err))?,
        false => Vec::new(),
    };
    let keys = key_grants::keys_of(&snapshots);
    if !keys.is_empty() {
        let held = key_grants::held(clients, &image.id, &keys, &accounts)
            .await
            .map_err(|err| aws_error(&summary, &err))?;
        if held == key_grants::entries(&accounts, &keys) {
            model.share_kms_keys = Field::Known(true);
            model.kms_grants = Field::Known(held);
        }
    }
    model.permissions = Field::Known(recorded::held(&accounts, &image.id, &actual, true));
    // Read runs right after import and fills in the rest.
    fill_computed(&mut model, image, &snapshots, &actual);
    Ok(model)
}
