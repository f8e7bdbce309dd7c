//! Reading and changing the grants of one AMI through the AWS layer.

use std::collections::BTreeSet;

use crate::aws::backoff::read_back;
use crate::aws::image::Image;
use crate::aws::kms::is_aws_managed_key;
use crate::aws::permissions::{self, Change};
use crate::aws::snapshot::{self, Snapshot};
use crate::aws::{AwsClients, AwsError};
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::protocol::typed::Field;

use super::key_grants;
use super::model::{set_like, set_of, AmiShareModel};
use super::recorded;
use super::rules::{observe, Actual, Changes, Managed};

/// The grants on `image` and its snapshots.
pub(super) async fn load_actual(clients: &AwsClients, image: &Image) -> Result<Actual, AwsError> {
    let launch = permissions::read_launch_grants(clients, &image.id).await?;
    let mut volumes = Vec::with_capacity(image.snapshot_ids.len());
    for id in &image.snapshot_ids {
        volumes.push((
            id.clone(),
            permissions::read_volume_grants(clients, id).await?,
        ));
    }
    Ok(Actual { launch, volumes })
}

/// Makes the calls in `changes`: grants first, so that a failure half way
/// never leaves a target with less than it had, then revocations.
pub(super) async fn apply_changes(
    clients: &AwsClients,
    image_id: &str,
    changes: &Changes,
) -> Result<(), AwsError> {
    for (snapshot, accounts) in &changes.volume_add {
        permissions::modify_volume_grants(clients, snapshot, Change::Add, accounts, false).await?;
    }
    permissions::modify_launch_grants(clients, image_id, Change::Add, &changes.launch_add).await?;
    permissions::modify_launch_grants(clients, image_id, Change::Remove, &changes.launch_remove)
        .await?;
    for (snapshot, accounts, public) in &changes.volume_remove {
        permissions::modify_volume_grants(clients, snapshot, Change::Remove, accounts, *public)
            .await?;
    }
    Ok(())
}

/// Reads the grants until they show `desired` (AWS may lag right after a
/// change) for about 5 minutes (see [`read_back`]); the last reading either way.
pub(super) async fn settle(
    clients: &AwsClients,
    image: &Image,
    desired: &Managed,
) -> Result<(Actual, bool), AwsError> {
    read_back(
        || load_actual(clients, image),
        |actual| matches(desired, actual),
        &image.id,
    )
    .await
}

/// The grants as the calls that succeeded left them, for when reads still lag
/// behind: `desired` added to what was `actual`ly seen (everything else taken
/// away when exclusive). Recording this rather than the lagging reading keeps
/// every grant made on record, so destroy revokes it, and the next refresh
/// reads AWS again.
pub(super) fn as_written(desired: &Managed, actual: &Actual) -> Actual {
    let keep = |seen: &BTreeSet<String>, wanted: &BTreeSet<String>| -> BTreeSet<String> {
        if desired.exclusive {
            wanted.clone()
        } else {
            seen.union(wanted).cloned().collect()
        }
    };
    let mut written = actual.clone();
    written.launch.accounts = keep(&actual.launch.accounts, &desired.accounts);
    written.launch.organizations = keep(&actual.launch.organizations, &desired.organizations);
    written.launch.organizational_units = keep(
        &actual.launch.organizational_units,
        &desired.organizational_units,
    );
    written.launch.public = actual.launch.public && !desired.exclusive;
    if desired.share_snapshots {
        for (_, grants) in &mut written.volumes {
            grants.accounts = keep(&grants.accounts, &desired.accounts);
            grants.public = grants.public && !desired.exclusive;
        }
    }
    written
}

fn matches(desired: &Managed, actual: &Actual) -> bool {
    let seen = observe(desired, actual);
    seen == *desired && !(desired.exclusive && actual.public(desired.share_snapshots))
}

/// The snapshots behind `image` (those that exist).
pub(super) async fn snapshots(
    clients: &AwsClients,
    image: &Image,
) -> Result<Vec<Snapshot>, AwsError> {
    snapshot::find_snapshots_by_ids(clients, &image.snapshot_ids).await
}

/// Fills the computed attributes from what AWS reports.
pub(super) fn fill_computed(
    model: &mut AmiShareModel,
    image: &Image,
    snapshots: &[Snapshot],
    actual: &Actual,
) {
    let share_snapshots = model.shares_snapshots().unwrap_or(true);
    model.id = Field::Known(image.id.clone());
    fill_image_facts(model, image);
    fill_encryption(model, image, snapshots);
    model.public = Field::Known(actual.public(share_snapshots));
}

/// Whether the AMI is encrypted, and with which keys, from its snapshots.
pub(super) fn fill_encryption(model: &mut AmiShareModel, image: &Image, snapshots: &[Snapshot]) {
    model.encrypted = Field::Known(image.encrypted || snapshots.iter().any(|s| s.encrypted));
    model.kms_key_ids = Field::Known(
        snapshots
            .iter()
            .filter_map(|s| s.kms_key_id.clone())
            .collect(),
    );
}

/// The attributes the image alone decides: its snapshots, name and user tags.
pub(super) fn fill_image_facts(model: &mut AmiShareModel, image: &Image) {
    model.snapshot_ids = Field::Known(image.snapshot_ids.iter().cloned().collect());
    model.image_name = Some(image.name.clone()).filter(|n| !n.is_empty()).into();
    // The AWS layer leaves out `aws:` keys, which no copy can carry.
    model.image_tags = Field::Known(image.tags.clone());
}

/// Refuses an image this provider cannot share: owned by another account,
/// or with a snapshot encrypted with an AWS-managed key. `Err` is the reason.
pub(super) async fn check_shareable(
    clients: &AwsClients,
    image: &Image,
    snapshots: &[Snapshot],
) -> Result<Result<(), String>, AwsError> {
    if image.owner_id != clients.account_id {
        return Ok(Err(format!(
            "EC2 AMI ({}) is owned by account {}, not by the provider's account {}; only the owner \
             can share it. Configure the provider for the owning account.",
            image.id, image.owner_id, clients.account_id
        )));
    }
    for snapshot in snapshots {
        if !snapshot.encrypted {
            continue;
        }
        let managed = match &snapshot.kms_key_id {
            // Encrypted without a named key means the account's default, AWS-managed key.
            None => true,
            Some(key) => is_aws_managed_key(clients, key).await?,
        };
        if managed {
            return Ok(Err(format!(
                "EBS snapshot {} of EC2 AMI ({}) is encrypted with an AWS-managed KMS key ({}), \
                 which AWS does not allow to be shared. Copy the AMI in this account with a \
                 customer-managed key and share the copy.",
                snapshot.id,
                image.id,
                snapshot.kms_key_id.as_deref().unwrap_or("alias/aws/ebs")
            )));
        }
    }
    Ok(Ok(()))
}

/// The principals a model manages; unknown sets count as empty (apply
/// only sees known values, state only holds known values).
pub(super) fn managed_of(model: &AmiShareModel) -> Managed {
    Managed {
        accounts: set_of(&model.account_ids).unwrap_or_default(),
        organizations: set_of(&model.organization_arns).unwrap_or_default(),
        organizational_units: set_of(&model.organizational_unit_arns).unwrap_or_default(),
        share_snapshots: model.shares_snapshots().unwrap_or(true),
        exclusive: model.is_exclusive().unwrap_or(false),
    }
}

/// The accounts `model` holds KMS grants for: its accounts with
/// `share_kms_keys`, none without.
pub(super) fn grant_accounts(model: &AmiShareModel) -> BTreeSet<String> {
    match model.shares_kms_keys() {
        Some(true) => set_of(&model.account_ids).unwrap_or_default(),
        _ => BTreeSet::new(),
    }
}

/// Every account `model` may hold a grant for: those it shares with, and
/// those its record says still hold a permission or a KMS grant (an
/// account that lost part of its grants is no longer in `account_ids`).
pub(super) fn granted_accounts(model: &AmiShareModel) -> BTreeSet<String> {
    let mut accounts = set_of(&model.account_ids).unwrap_or_default();
    if let Some(recorded) = model.permissions.known() {
        accounts.extend(recorded::accounts(recorded));
    }
    accounts.extend(recorded_grants(model).0);
    accounts
}

/// The accounts and keys named in `model`'s recorded grants.
pub(super) fn recorded_grants(model: &AmiShareModel) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut accounts = BTreeSet::new();
    let mut keys = BTreeSet::new();
    for entry in model.kms_grants.known().into_iter().flatten() {
        if let Some((account, key)) = key_grants::parse_entry(entry) {
            accounts.insert(account.to_owned());
            keys.insert(key.to_owned());
        }
    }
    (accounts, keys)
}

/// An AWS failure as the diagnostic of `summary` (what was being done).
pub(super) fn aws_error(summary: &str, err: &AwsError) -> Diagnostics {
    Diagnostic::error(summary, err.to_string()).into()
}

/// `model` with its sets replaced by what exists (see [`observe`]) and its
/// computed values refreshed; `permissions` lists what the `granted`
/// accounts hold.
pub(super) fn observed_state(
    model: &AmiShareModel,
    image: &Image,
    actual: &Actual,
    granted: &BTreeSet<String>,
) -> AmiShareModel {
    let seen = observe(&managed_of(model), actual);
    let mut state = model.clone();
    state.account_ids = set_like(&model.account_ids, &seen.accounts);
    state.organization_arns = set_like(&model.organization_arns, &seen.organizations);
    state.organizational_unit_arns =
        set_like(&model.organizational_unit_arns, &seen.organizational_units);
    fill_computed(&mut state, image, &[], actual);
    state.permissions = Field::Known(recorded::held(
        granted,
        &image.id,
        actual,
        state.shares_snapshots().unwrap_or(true),
    ));
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
