//! Create and update: both make the grants what the plan says, starting
//! from what exists, and record what AWS then shows.

use std::collections::BTreeSet;

use crate::aws::image::find_image_by_id;
use crate::aws::{AwsClients, AwsError};
use crate::protocol::diagnostics::{AttrPath, Diagnostic};
use crate::protocol::managed::Applied;
use crate::protocol::typed::Field;

use super::aws_state::{
    apply_changes, as_written, aws_error, check_shareable, fill_computed, grant_accounts,
    granted_accounts, load_actual, managed_of, observed_state, recorded_grants, settle, snapshots,
};
use super::key_grants;
use super::model::AmiShareModel;
use super::recorded;
use super::rules::{changes, Actual};

/// Grants and revokes so that `planned` holds, starting from `prior`.
/// Returns the state to record: `planned` with computed values filled in,
/// or, on failure, what exists now with the error.
pub(super) async fn converge(
    clients: &AwsClients,
    prior: Option<&AmiShareModel>,
    mut planned: AmiShareModel,
) -> Applied<AmiShareModel> {
    let image_id = planned.image_id.known().cloned().unwrap_or_default();
    let summary = format!("sharing EC2 AMI ({image_id})");
    let image = match find_image_by_id(clients, &image_id).await {
        Ok(image) => image,
        Err(err) => return failed(prior, &summary, &err),
    };
    let snapshots = match snapshots(clients, &image).await {
        Ok(snapshots) => snapshots,
        Err(err) => return failed(prior, &summary, &err),
    };
    if prior.is_none() {
        // Plan checked this already unless the provider configuration was
        // unknown then; checking again costs little and changes nothing.
        match check_shareable(clients, &image, &snapshots).await {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => {
                return Applied::failed(
                    Diagnostic::error("AMI cannot be shared", reason)
                        .at(AttrPath::root("image_id")),
                )
            }
            Err(err) => return Applied::failed(aws_error(&summary, &err)),
        }
    }
    let desired = managed_of(&planned);
    // What the prior state granted, partial grants on record included, is
    // what leaving the configuration revokes.
    let before = prior.map_or_else(Default::default, |p| {
        let mut before = managed_of(p);
        before.accounts.extend(granted_accounts(p));
        before
    });
    let keys = key_grants::keys_of(&snapshots);
    let grantees = grant_accounts(&planned);
    // Ours to retire: what the prior state granted, by setting or by record.
    let revocable: BTreeSet<String> = prior.map_or_else(BTreeSet::new, |p| {
        let mut accounts = grant_accounts(p);
        accounts.extend(recorded_grants(p).0);
        accounts
    });
    // Whose permissions the state records: the planned accounts, and any
    // the prior state granted that may still hold some.
    let mut granted = granted_accounts(&planned);
    if let Some(prior) = prior {
        granted.extend(granted_accounts(prior));
    }
    let result = async {
        // Key grants first: an account that may launch the AMI can then
        // also copy it as soon as its snapshots are shared.
        let grants = key_grants::converge(clients, &image.id, &keys, &grantees, &revocable).await?;
        let actual = load_actual(clients, &image).await?;
        let todo = changes(&desired, &before, &actual);
        if !todo.is_empty() {
            apply_changes(clients, &image.id, &todo).await?;
        }
        let (actual, settled) = settle(clients, &image, &desired).await?;
        Ok::<_, AwsError>((actual, settled, grants))
    }
    .await;
    match result {
        Ok((actual, settled, grants)) => {
            // Past the read-back budget the calls that succeeded are trusted:
            // recorded as made, with a warning, so nothing granted is lost
            // from state (destroy revokes it) and the next refresh reads AWS.
            let actual = if settled {
                actual
            } else {
                as_written(&desired, &actual)
            };
            let mut filled = planned.clone();
            fill_computed(&mut filled, &image, &snapshots, &actual);
            filled.kms_grants = Field::Known(grants);
            filled.permissions = Field::Known(recorded::held(
                &desired.accounts,
                &image.id,
                &actual,
                desired.share_snapshots,
            ));
            // Computed values the plan already knew stay as planned (they
            // describe the same image); only unknown ones are filled.
            planned.fill_unknown_from(filled);
            let mut applied = Applied::ok(planned);
            if !settled {
                applied.diagnostics.push(Diagnostic::warning(
                    summary,
                    "Every permission call succeeded, but AWS does not show all of them yet after \
                     about 5 minutes (EC2 is eventually consistent). They are recorded as made; \
                     the next plan reads them again and shows any that are really missing.",
                ));
            }
            applied
        }
        Err(err) => {
            // Some calls may have succeeded: record what exists now, so the
            // next plan shows the rest and destroy revokes what was granted.
            let diags = aws_error(&summary, &err);
            let mut scope = grantees.clone();
            scope.extend(revocable.iter().cloned());
            let held = key_grants::held(clients, &image.id, &keys, &scope).await;
            let mut state = match load_actual(clients, &image).await {
                Ok(actual) => observed_state(&planned, &image, &actual, &granted),
                Err(_) => match prior {
                    Some(prior) => prior.clone(),
                    None => observed_state(&planned, &image, &Actual::default(), &granted),
                },
            };
            state.kms_grants = match (held, prior) {
                (Ok(held), _) => Field::Known(held),
                // Unreadable: keep every grant that may exist on record, so
                // destroy still revokes it.
                (Err(_), Some(prior)) => {
                    let mut all = prior.kms_grants.known().cloned().unwrap_or_default();
                    all.extend(key_grants::entries(&grantees, &keys));
                    Field::Known(all)
                }
                (Err(_), None) => Field::Known(key_grants::entries(&grantees, &keys)),
            };
            Applied::partial(state, diags)
        }
    }
}

fn failed(prior: Option<&AmiShareModel>, summary: &str, err: &AwsError) -> Applied<AmiShareModel> {
    let diagnostics = match (err.is_not_found(), prior) {
        (true, Some(prior)) => Diagnostic::error(
            summary,
            format!(
                "EC2 AMI ({}) no longer exists: it was deregistered outside Terraform, so nothing can be shared \
                 again. What the share still holds on its snapshots and keys stays in state (permissions, \
                 kms_grants); remove the share, or point image_id at another AMI, and the apply revokes it.",
                prior.image_id.known().map_or("", String::as_str)
            ),
        )
        .at(AttrPath::root("image_id"))
        .into(),
        _ => aws_error(summary, err),
    };
    match prior {
        Some(prior) => Applied::partial(prior.clone(), diagnostics),
        None => Applied::failed(diagnostics),
    }
}
