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

use aws_config::identity::IdentityCache;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_sts::error::SdkError;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
use aws_smithy_types::retry::RetryConfig;
use aws_types::origin::Origin;
use aws_types::SdkConfig;
use tokio::sync::OnceCell;

use super::config::{validate_assume_role, AssumeRole, ProviderSettings, DEFAULT_SESSION_NAME};
use super::errors::{source_chain, AwsError, ErrorKind};
use super::identity::{caller_partition, check_account};

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
        }
    }

    /// The session for `role`, assumed on first use. A failure is not kept:
    /// the next resource naming the role tries again.
    pub(super) async fn session(&self, role: &AssumeRole) -> Result<Session, AwsError> {
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
        // A cache of its own for each session. The SDK's identity cache
        // holds at most 64 credential providers and evicts beyond that; one
        // shared by every session made a fan-out past 63 accounts evict and
        // re-assume roles over and over (hundreds of AssumeRole calls where
        // one per role is due). Each session's cache holds its one provider.
        let sdk_config = self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .identity_cache(IdentityCache::lazy().build())
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
        let partition = caller_partition(&caller_arn)?;
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

/// A credentials provider that assumes `role` with the base credentials,
/// calling STS at the same endpoint as every other STS call, with the
/// identity check's retry policy.
pub(super) async fn assume_role_provider(
    role: &AssumeRole,
    base: &SdkConfig,
    sts_endpoint: Option<&str>,
    retry: RetryConfig,
) -> AssumeRoleProvider {
    let mut sts_config = base.to_builder();
    // Credentials are fetched inside the SDK's identity cache, whose load
    // timeout cuts a long retry sequence short with a vaguer error.
    sts_config.set_retry_config(Some(retry));
    sts_config.set_endpoint_url(sts_endpoint.map(str::to_owned));
    // Marked as set in code, so the STS client does not let
    // AWS_ENDPOINT_URL_STS override what we resolved.
    sts_config.insert_origin("endpoint_url", Origin::shared_config());
    let mut builder = AssumeRoleProvider::builder(role.role_arn.clone())
        .configure(&sts_config.build())
        .session_name(
            role.session_name
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or(DEFAULT_SESSION_NAME),
        );
    if let Some(external_id) = role.external_id.as_deref().filter(|s| !s.is_empty()) {
        builder = builder.external_id(external_id);
    }
    if let Some(duration) = role.duration {
        builder = builder.session_length(duration);
    }
    builder.build().await
}
