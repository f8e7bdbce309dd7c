//! KMS grants on the caller's keys: listing, creating, retiring and revoking.
//!
//! A grant lets another account's principals use a key for the operations
//! it names, without changing the key policy (KMS Developer Guide, "Grants
//! in AWS KMS"). ListGrants is paged (at most 100 per page) and answers
//! every grant of one key, so a refresh of many shares of AMIs encrypted
//! with the same key lists it once per provider process (one Terraform
//! command); every grant write forgets that key's listing first, so no read
//! after a change is served from before it.

use std::sync::Arc;

use aws_sdk_kms::types::GrantOperation;

use super::clients::AwsClients;
use super::errors::AwsError;
use super::memo::{Forgotten, Memo};

/// Grants per ListGrants page: the most KMS returns.
const PAGE_SIZE: i32 = 100;

/// One grant on a key, as ListGrants reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    /// The grant's id, which RetireGrant and RevokeGrant take.
    pub grant_id: String,
    /// The name given at CreateGrant; empty for an unnamed grant.
    pub name: String,
    /// Who may use the key through it (an ARN).
    pub grantee_principal: String,
    /// The operations it allows (`Decrypt`, `CreateGrant`, ...).
    pub operations: Vec<String>,
}

/// A caller's ARN, a region and a key ARN.
type GrantsKey = (String, String, String);

/// The grant listings of this provider process, by caller, region and key,
/// each forgotten by every grant write on its key.
static GRANTS: Memo<GrantsKey, Arc<Vec<KeyGrant>>> = Memo::new(Forgotten::ByWritesToIt);

impl AwsClients {
    fn grants_key(&self, key_arn: &str) -> GrantsKey {
        (
            self.caller_arn.clone(),
            self.region.clone(),
            key_arn.to_owned(),
        )
    }

    /// Forgets the listing of `key_arn`'s grants: every grant write calls
    /// this before it changes anything.
    fn forget_grants(&self, key_arn: &str) {
        let key = self.grants_key(key_arn);
        GRANTS.forget(|cached| *cached == key);
    }
}

/// Every grant on `key_arn`, listed once per process.
pub async fn list_grants(
    clients: &AwsClients,
    key_arn: &str,
) -> Result<Arc<Vec<KeyGrant>>, AwsError> {
    GRANTS
        .get_or_ask(clients.grants_key(key_arn), || async {
            list_all(clients, key_arn).await.map(Arc::new)
        })
        .await
}

async fn list_all(clients: &AwsClients, key_arn: &str) -> Result<Vec<KeyGrant>, AwsError> {
    let mut grants = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = clients
            .kms
            .list_grants()
            .key_id(key_arn)
            .limit(PAGE_SIZE)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|err| {
                AwsError::from_sdk(format!("calling KMS ListGrants for {key_arn}"), err)
            })?;
        grants.extend(page.grants().iter().map(|g| {
            KeyGrant {
                grant_id: g.grant_id().unwrap_or_default().to_owned(),
                name: g.name().unwrap_or_default().to_owned(),
                grantee_principal: g.grantee_principal().unwrap_or_default().to_owned(),
                operations: g
                    .operations()
                    .iter()
                    .map(|op| op.as_str().to_owned())
                    .collect(),
            }
        }));
        // KMS documents Truncated as the signal; a missing marker ends the
        // loop too, so a faulty answer cannot make it spin.
        match (page.truncated(), page.next_marker()) {
            (true, Some(next)) if !next.is_empty() => marker = Some(next.to_owned()),
            _ => break,
        }
    }
    crate::log::debug(
        "listed KMS grants",
        &[("key", key_arn), ("grants", &grants.len().to_string())],
    );
    Ok(grants)
}

/// Creates a grant named `name` on `key_arn` for `grantee` with `operations`;
/// returns its id. KMS answers a retry with the same name and properties
/// with the first grant's id instead of a second grant (CreateGrant, Name),
/// so an apply interrupted after the call makes no duplicate when repeated.
pub async fn create_grant(
    clients: &AwsClients,
    key_arn: &str,
    grantee: &str,
    name: &str,
    operations: &[&str],
) -> Result<String, AwsError> {
    clients.forget_grants(key_arn);
    let output = clients
        .kms
        .create_grant()
        .key_id(key_arn)
        .grantee_principal(grantee)
        .name(name)
        .set_operations(Some(
            operations
                .iter()
                .map(|op| GrantOperation::from(*op))
                .collect(),
        ))
        .send()
        .await
        .map_err(|err| {
            AwsError::from_sdk(
                format!("calling KMS CreateGrant on {key_arn} for {grantee}"),
                err,
            )
        })?;
    Ok(output.grant_id().unwrap_or_default().to_owned())
}

/// How a grant is taken away: retired (its user is done with it) or
/// revoked (its key's administrator denies what it allowed). Both delete it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantRemoval {
    /// RetireGrant, by key id and grant id: allowed to the account that
    /// created the grant.
    Retire,
    /// RevokeGrant: allowed to the key's administrators.
    Revoke,
}

/// Retires or revokes grant `grant_id` on `key_arn`. A grant already gone
/// (NotFoundException) counts as done.
pub async fn remove_grant(
    clients: &AwsClients,
    key_arn: &str,
    grant_id: &str,
    how: GrantRemoval,
) -> Result<(), AwsError> {
    clients.forget_grants(key_arn);
    let context = |action: &str| format!("calling KMS {action} for grant {grant_id} on {key_arn}");
    let result = match how {
        GrantRemoval::Retire => clients
            .kms
            .retire_grant()
            .key_id(key_arn)
            .grant_id(grant_id)
            .send()
            .await
            .map(drop)
            .map_err(|err| AwsError::from_sdk(context("RetireGrant"), err)),
        GrantRemoval::Revoke => clients
            .kms
            .revoke_grant()
            .key_id(key_arn)
            .grant_id(grant_id)
            .send()
            .await
            .map(drop)
            .map_err(|err| AwsError::from_sdk(context("RevokeGrant"), err)),
    };
    match result {
        Err(err) if err.code() == Some("NotFoundException") => Ok(()),
        other => other,
    }
}
