//! Reaching other accounts and regions from one provider configuration.
//!
//! A resource may name a `region` and an `assume_role` of its own, so one
//! provider block (the bake account's credentials) serves a `for_each` over
//! dozens of target accounts. Each role is assumed once per provider
//! process, with the provider's own credentials, and the session is shared
//! by every resource and region that names it: a 40-copy apply makes one
//! AssumeRole per role, not one per copy and poll. The SDK's identity cache
//! renews the session's credentials before they expire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_sts::error::SdkError;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
use aws_smithy_types::retry::RetryConfig;
use aws_types::SdkConfig;
use tokio::sync::OnceCell;

use super::clients::{assume_role_provider, AwsClients};
use super::config::{validate_assume_role, AssumeRole, ProviderSettings};
use super::errors::{source_chain, AwsError, ErrorKind};
use super::identity::{check_account, partition_from_arn};

/// Where a resource acts: a region and a role, each `None` for the
/// provider's own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Target {
    /// The region the resource acts in.
    pub region: Option<String>,
    /// The role whose account the resource acts in.
    pub role: Option<AssumeRole>,
}

/// An assumed role: its SDK configuration (credentials cached and renewed
/// inside) and who it turned out to be.
#[derive(Clone)]
pub(super) struct Session {
    pub(super) sdk_config: SdkConfig,
    pub(super) account_id: String,
    pub(super) partition: String,
    pub(super) caller_arn: String,
    /// The session account's regions (see `region`), asked at most once.
    pub(super) regions: Arc<OnceCell<Vec<(String, String)>>>,
}

/// What assuming a role needs from the provider configuration, and the
/// sessions assumed so far.
pub(super) struct Reach {
    /// The provider's own credentials (after its `assume_role`, if any):
    /// a resource's role is assumed with these.
    base: SdkConfig,
    sts_endpoint: Option<String>,
    retry: RetryConfig,
    allowed_account_ids: Vec<String>,
    forbidden_account_ids: Vec<String>,
    sessions: Mutex<HashMap<AssumeRole, Arc<OnceCell<Session>>>>,
    /// The clients made for each target, so every operation on a hundred
    /// resources in one account-region uses one set instead of building
    /// its own.
    made: Mutex<HashMap<Target, AwsClients>>,
}

impl Reach {
    pub(super) fn new(
        base: &SdkConfig,
        sts_endpoint: Option<String>,
        retry: RetryConfig,
        settings: &ProviderSettings,
    ) -> Self {
        Self {
            base: base.clone(),
            sts_endpoint,
            retry,
            allowed_account_ids: settings.allowed_account_ids.clone(),
            forbidden_account_ids: settings.forbidden_account_ids.clone(),
            sessions: Mutex::default(),
            made: Mutex::default(),
        }
    }

    /// The session for `role`, assumed on first use. A failure is not kept:
    /// the next resource naming the role tries again.
    async fn session(&self, role: &AssumeRole) -> Result<Session, AwsError> {
        let cell = {
            let mut sessions = self
                .sessions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            sessions.entry(role.clone()).or_default().clone()
        };
        cell.get_or_try_init(|| self.assume(role)).await.cloned()
    }

    /// Assumes `role` and asks STS who the session is, so a role that
    /// cannot be assumed fails here (at plan) rather than on the first
    /// change, and the account is checked against the provider's lists.
    async fn assume(&self, role: &AssumeRole) -> Result<Session, AwsError> {
        validate_assume_role(role)?;
        // The ARN names the account: an excluded one is refused before STS
        // is even asked (and again below, for what STS answers).
        if let Some(account) = role
            .role_arn
            .split(':')
            .nth(4)
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        {
            check_account(
                account,
                &self.allowed_account_ids,
                &self.forbidden_account_ids,
            )
            .map_err(|err| err.context(format!("assuming IAM role ({})", role.role_arn)))?;
        }
        let provider = assume_role_provider(
            role,
            &self.base,
            self.sts_endpoint.as_deref(),
            self.retry.clone(),
        )
        .await;
        let sdk_config = self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        let mut sts = aws_sdk_sts::config::Builder::from(&sdk_config);
        sts.set_endpoint_url(self.sts_endpoint.clone());
        let identity = aws_sdk_sts::Client::from_conf(sts.build())
            .get_caller_identity()
            .customize()
            .config_override(
                aws_sdk_sts::config::Builder::default().retry_config(self.retry.clone()),
            )
            .send()
            .await
            .map_err(|err| assume_error(role, err))?;
        let account_id = identity.account().unwrap_or_default().to_owned();
        let caller_arn = identity.arn().unwrap_or_default().to_owned();
        let partition = partition_from_arn(&caller_arn)
            .ok_or_else(|| {
                AwsError::config(format!(
                    "STS GetCallerIdentity returned an unexpected caller ARN {caller_arn:?}"
                ))
            })?
            .to_owned();
        check_account(
            &account_id,
            &self.allowed_account_ids,
            &self.forbidden_account_ids,
        )
        .map_err(|err| err.context(format!("assuming IAM role ({})", role.role_arn)))?;
        crate::log::info(
            "assumed IAM role for resources",
            &[("role_arn", &role.role_arn), ("account_id", &account_id)],
        );
        Ok(Session {
            sdk_config,
            account_id,
            partition,
            caller_arn,
            regions: Arc::default(),
        })
    }
}

impl AwsClients {
    /// The clients a resource with `target` acts through: the role's
    /// session (assumed once per process) in the target's region. Without
    /// a role, the provider's own credentials; without a region, the
    /// provider's region.
    pub async fn reach(&self, target: &Target) -> Result<AwsClients, AwsError> {
        let made = |reach: &Reach| {
            reach
                .made
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(target)
                .cloned()
        };
        if let Some(clients) = made(&self.reach) {
            return Ok(clients);
        }
        let in_account = match &target.role {
            None => self.clone(),
            Some(role) => {
                let session = self.reach.session(role).await?;
                self.as_session(&session)
            }
        };
        let region = target.region.as_deref().unwrap_or(&self.region).to_owned();
        let clients = in_account.in_region(&region);
        self.reach
            .made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(target.clone(), clients.clone());
        Ok(clients)
    }
}

/// The error of a session that could not be made, naming the role and, when
/// STS refused it, AWS's code and reason.
fn assume_error(role: &AssumeRole, err: SdkError<GetCallerIdentityError>) -> AwsError {
    let context = format!("assuming IAM role ({})", role.role_arn);
    let refused = source_chain(&err)
        .find_map(|e| e.downcast_ref::<SdkError<AssumeRoleError>>())
        .filter(|e| matches!(e, SdkError::ServiceError(_) | SdkError::ResponseError(_)));
    if let Some(refused) = refused {
        return AwsError::from_sdk_ref(context, refused).with_kind(ErrorKind::AssumeRole);
    }
    let err = AwsError::from_sdk("calling STS GetCallerIdentity", err).with_context(context);
    if err.kind() == ErrorKind::Credentials {
        err.with_kind(ErrorKind::AssumeRole)
    } else {
        err
    }
}
