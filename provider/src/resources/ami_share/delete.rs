//! Delete: revoke exactly what the share granted, whatever happened to the
//! image or to an earlier attempt.

use std::collections::BTreeSet;

use crate::aws::image::find_image_by_id;
use crate::aws::permissions::{modify_volume_grants, read_volume_grants, Change};
use crate::aws::{AwsClients, AwsError};
use crate::log;
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};

use super::aws_state::{
    apply_changes, aws_error, granted_accounts, load_actual, managed_of, recorded_grants, snapshots,
};
use super::key_grants;
use super::model::AmiShareModel;
use super::recorded;
use super::rules::{changes, Managed};

/// Revokes what `prior` granted: its accounts' and every account on record
/// (`permissions`, `kms_grants`: an interrupted destroy may have revoked
/// part of an account's grants already). A vanished image has no launch
/// permission left, but its snapshots and the KMS grants on their keys can
/// outlive it: those are revoked from the record. `Ok` carries a warning
/// naming what was already gone.
pub(super) async fn delete(
    clients: &AwsClients,
    prior: &AmiShareModel,
) -> Result<Diagnostics, Diagnostics> {
    let image_id = prior.image_id.known().cloned().unwrap_or_default();
    let summary = format!("unsharing EC2 AMI ({image_id})");
    let granted = granted_accounts(prior);
    let (_, mut keys) = recorded_grants(prior);
    let result = async {
        let image = match find_image_by_id(clients, &image_id).await {
            Ok(image) => Some(image),
            Err(err) if err.is_not_found() => None,
            Err(err) => return Err(err),
        };
        let mut warnings = Diagnostics::new();
        match &image {
            Some(image) => {
                let actual = load_actual(clients, image).await?;
                let mut granting = managed_of(prior);
                granting.accounts.extend(granted.iter().cloned());
                let revoke = changes(&Managed::default(), &granting, &actual);
                apply_changes(clients, &image.id, &revoke).await?;
                if !granted.is_empty() {
                    keys.extend(key_grants::keys_of(&snapshots(clients, image).await?));
                }
            }
            None => {
                keys.extend(prior.kms_key_ids.known().cloned().unwrap_or_default());
                let gone = revoke_on_snapshots(clients, prior, &granted).await?;
                warnings.push(Diagnostic::warning(
                    "AMI already gone",
                    format!(
                        "EC2 AMI ({image_id}) no longer exists, so it had no launch permission left to revoke. \
                         createVolumePermission was revoked on what remains of its snapshots{}, and the share's KMS \
                         grants on their keys.",
                        match gone.is_empty() {
                            true => String::new(),
                            false => format!(" ({} already deleted)", gone.join(", ")),
                        }
                    ),
                ));
            }
        }
        if !granted.is_empty() && !keys.is_empty() {
            key_grants::revoke(clients, &image_id, &keys, &granted).await?;
        }
        Ok(warnings)
    }
    .await;
    result.map_err(|err| aws_error(&summary, &err))
}

/// Revokes the `granted` accounts' createVolumePermission on every snapshot
/// `prior` knew (its `snapshot_ids` and those on record) that still exists;
/// returns the snapshots already deleted.
async fn revoke_on_snapshots(
    clients: &AwsClients,
    prior: &AmiShareModel,
    granted: &BTreeSet<String>,
) -> Result<Vec<String>, AwsError> {
    // Without share_snapshots the share granted nothing on them.
    if prior.shares_snapshots() == Some(false) {
        return Ok(Vec::new());
    }
    let mut snapshot_ids: BTreeSet<String> =
        prior.snapshot_ids.known().cloned().unwrap_or_default();
    if let Some(record) = prior.permissions.known() {
        snapshot_ids.extend(recorded::snapshots(record));
    }
    let mut gone = Vec::new();
    for snapshot in &snapshot_ids {
        let held = match read_volume_grants(clients, snapshot).await {
            Ok(grants) => grants.accounts,
            Err(err) if err.is_not_found() => {
                gone.push(snapshot.clone());
                continue;
            }
            Err(err) => return Err(err),
        };
        let revoke: BTreeSet<String> = held.intersection(granted).cloned().collect();
        if revoke.is_empty() {
            continue;
        }
        log::info(
            "revoking createVolumePermission on a snapshot of a deregistered AMI",
            &[
                ("snapshot_id", snapshot),
                ("accounts", &revoke.len().to_string()),
            ],
        );
        modify_volume_grants(clients, snapshot, Change::Remove, &revoke, false).await?;
    }
    Ok(gone)
}
