//! Delete: revoke exactly what the share granted.

use crate::aws::image::find_image_by_id;
use crate::aws::AwsClients;
use crate::protocol::diagnostics::Diagnostics;

use super::aws_state::{apply_changes, aws_error, load_actual, managed_of};
use super::model::AmiShareModel;
use super::rules::{changes, Managed};

/// Revokes what `prior` manages; a vanished image has nothing left to revoke.
pub(super) async fn delete(clients: &AwsClients, prior: &AmiShareModel) -> Result<(), Diagnostics> {
    let image_id = prior.image_id.known().cloned().unwrap_or_default();
    let summary = format!("unsharing EC2 AMI ({image_id})");
    let image = match find_image_by_id(clients, &image_id).await {
        Ok(image) => image,
        Err(err) if err.is_not_found() => return Ok(()),
        Err(err) => return Err(aws_error(&summary, &err)),
    };
    let result = async {
        let actual = load_actual(clients, &image).await?;
        let revoke = changes(&Managed::default(), &managed_of(prior), &actual);
        apply_changes(clients, &image.id, &revoke).await
    }
    .await;
    result.map_err(|err| aws_error(&summary, &err))
}
