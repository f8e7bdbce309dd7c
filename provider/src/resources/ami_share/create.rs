//! Create and update: both make the grants what the plan says, starting
//! from what exists, and record what AWS then shows.

use crate::aws::image::find_image_by_id;
use crate::aws::{AwsClients, AwsError};
use crate::protocol::diagnostics::{AttrPath, Diagnostic};
use crate::protocol::managed::Applied;

use super::aws_state::{
    apply_changes, aws_error, check_shareable, fill_computed, load_actual, managed_of,
    observed_state, settle, snapshots,
};
use super::model::AmiShareModel;
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
            Err(err) => return Applied::failed(aws_error(&summary, &err)),
        }
    }
    let desired = managed_of(&planned);
    let before = prior.map(managed_of).unwrap_or_default();
    let result = async {
        let actual = load_actual(clients, &image).await?;
        let todo = changes(&desired, &before, &actual);
        if !todo.is_empty() {
            apply_changes(clients, &image.id, &todo).await?;
        }
        let (actual, settled) = settle(clients, &image, &desired).await?;
        let snapshots = snapshots(clients, &image).await?;
        Ok::<_, AwsError>((actual, settled, snapshots))
    }
    .await;
    match result {
        Ok((actual, true, snapshots)) => {
            let mut filled = planned.clone();
            fill_computed(&mut filled, &image, &snapshots, &actual);
            // Computed values the plan already knew stay as planned (they
            // describe the same image); only unknown ones are filled.
            planned.fill_unknown_from(filled);
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
            let diags = aws_error(&summary, &err);
            match load_actual(clients, &image).await {
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
        Some(prior) => Applied::partial(prior.clone(), aws_error(summary, err)),
        None => Applied::failed(aws_error(summary, err)),
    }
}
