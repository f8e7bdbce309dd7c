//! Delete: revoke exactly what the share granted.

use crate::aws::image::find_image_by_id;
use crate::aws::AwsClients;
use crate::protocol::diagnostics::Diagnostics;

use super::aws_state::{
    apply_changes, aws_error, grant_accounts, load_actual, managed_of, recorded_grants, snapshots,
};
use super::key_grants;
use super::model::AmiShareModel;
use super::rules::{changes, Managed};

/// Revokes what `prior` manages. A vanished image has no permissions left
/// to revoke, but the KMS grants made for it live on its keys, which state
/// records, so those are still revoked.
pub(super) async fn delete(clients: &AwsClients, prior: &AmiShareModel) -> Result<(), Diagnostics> {
    let image_id = prior.image_id.known().cloned().unwrap_or_default();
    let summary = format!("unsharing EC2 AMI ({image_id})");
    let (mut accounts, mut keys) = recorded_grants(prior);
    accounts.extend(grant_accounts(prior));
    let result = async {
        let image = match find_image_by_id(clients, &image_id).await {
            Ok(image) => Some(image),
            Err(err) if err.is_not_found() => None,
            Err(err) => return Err(err),
        };
        if let Some(image) = &image {
            let actual = load_actual(clients, image).await?;
            let revoke = changes(&Managed::default(), &managed_of(prior), &actual);
            apply_changes(clients, &image.id, &revoke).await?;
            if !accounts.is_empty() {
                keys.extend(key_grants::keys_of(&snapshots(clients, image).await?));
            }
        }
        if !accounts.is_empty() {
            key_grants::revoke(clients, &image_id, &keys, &accounts).await?;
        }
        Ok(())
    }
    .await;
    result.map_err(|err| aws_error(&summary, &err))
}
