//! Building the SDK clients from [`ProviderSettings`] and learning who we are.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ec2::config::retry::RetryPartition;
use aws_sdk_sts::error::SdkError;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
use aws_types::region::Region;
use aws_types::SdkConfig;
use tokio::sync::OnceCell;

use super::config::region_in_url;
use super::config::{
    require_region, resolve_endpoint, retry_config, static_credentials, validate_assume_role,
    ProviderSettings, Service, DEFAULT_CONCURRENT_SNAPSHOT_COPIES,
};
use super::errors::{is_throttling, source_chain, AwsError, ErrorKind};
use super::identity::{caller_partition, check_account};
use super::reach::{assume_role_provider, Reach, Session, Target};

/// Attempts for the identity check in [`connect`] when `max_retries` is not
/// set: enough to ride out a throttled call, few enough that a wrong
/// endpoint fails in seconds.
const IDENTITY_CHECK_MAX_ATTEMPTS: u32 = 5;
/// Rounds of the identity check (each with the SDK's own attempts) while STS
/// or AssumeRole keeps answering with throttling: unlike a wrong endpoint,
/// throttling passes, so it alone earns more patience.
const IDENTITY_THROTTLED_ROUNDS: u32 = 4;
/// The pause before the next round grows by this much each round.
const IDENTITY_THROTTLED_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// The configured clients and the identity they act as.
///
/// Clients share one credentials cache, so assumed-role credentials are
/// fetched once and renewed before they expire, for all of them.
///
/// The SDK clients stay inside the AWS layer: resources call its operations
/// (finders, waiters, changes) with an `AwsClients`, never the SDK itself.
#[derive(Clone)]
pub struct AwsClients {
    /// EC2 in the clients' region.
    pub(super) ec2: aws_sdk_ec2::Client,
    /// KMS in the clients' region.
    pub(super) kms: aws_sdk_kms::Client,
    /// Recycle Bin in the clients' region.
    pub(super) rbin: aws_sdk_rbin::Client,
    /// The account the credentials act in (after `assume_role`).
    pub account_id: String,
    /// The partition of that account: `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: String,
    /// The provider's region.
    pub region: String,
    /// The caller's ARN, as STS GetCallerIdentity reported it.
    pub caller_arn: String,
    sdk_config: SdkConfig,
    ec2_endpoint: Option<String>,
    kms_endpoint: Option<String>,
    rbin_endpoint: Option<String>,
    /// The account's regions as (name, opt-in status), asked once per
    /// process (see `region`); shared by the clients `in_region` makes,
    /// since the account is the same.
    pub(super) regions: Arc<OnceCell<Vec<(String, String)>>>,
    /// How resources reach other accounts: the provider's own credentials
    /// and the role sessions assumed with them (see `reach`).
    reach: Arc<Reach>,
    /// The clients made for each target a resource names, so every
    /// operation on a hundred resources in one account-region uses one set
    /// instead of building its own.
    made: Arc<Mutex<HashMap<Target, AwsClients>>>,
    /// How many snapshot copies may run at once per account and
    /// destination region (see `copy_slots`).
    pub(super) copy_slot_limit: u32,
}

/// Written by hand so the credentials provider inside the SDK config, which
/// would show an access key id, is never printed.
impl fmt::Debug for AwsClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsClients")
            .field("account_id", &self.account_id)
            .field("partition", &self.partition)
            .field("region", &self.region)
            .field("caller_arn", &self.caller_arn)
            .field("ec2_endpoint", &self.ec2_endpoint)
            .finish_non_exhaustive()
    }
}

impl AwsClients {
    /// The same clients acting in `region` (a copy's `source_region`): EC2
    /// and KMS there, with the same credentials, retries and endpoint
    /// overrides. The account, partition and caller stay as they are.
    pub fn in_region(&self, region: &str) -> AwsClients {
        if region == self.region {
            return self.clone();
        }
        AwsClients {
            region: region.to_owned(),
            ..self.with_services(&self.sdk_config, &self.account_id, region)
        }
    }

    /// These clients with EC2, KMS and Recycle Bin clients made anew from
    /// `config`, for `account_id` in `region`, with the same endpoint
    /// overrides (see [`service_clients`]). The rest is copied as it is.
    fn with_services(&self, config: &SdkConfig, account_id: &str, region: &str) -> AwsClients {
        let (ec2, kms, rbin) = service_clients(
            config,
            account_id,
            region,
            [&self.ec2_endpoint, &self.kms_endpoint, &self.rbin_endpoint],
        );
        AwsClients {
            ec2,
            kms,
            rbin,
            ..self.clone()
        }
    }

    /// An endpoint override naming a Region other than `region`, as
    /// (service, URL): AWS endpoints, VPC endpoints included, serve one
    /// Region, and the same override is used for every Region a resource
    /// names. An override that names no Region (a local stand-in) serves
    /// any.
    pub fn endpoint_elsewhere(&self, region: &str) -> Option<(&'static str, String)> {
        [
            ("ec2", &self.ec2_endpoint),
            ("kms", &self.kms_endpoint),
            ("rbin", &self.rbin_endpoint),
        ]
        .into_iter()
        .find_map(|(service, url)| {
            let url = url.as_deref()?;
            let named = region_in_url(url)?;
            (named != region).then(|| (service, url.to_owned()))
        })
    }

    /// The clients a resource with `target` acts through: the role's
    /// session (assumed once per process) in the target's region. Without
    /// a role, the provider's own credentials; without a region, the
    /// provider's region.
    pub async fn reach(&self, target: &Target) -> Result<AwsClients, AwsError> {
        let made = |target: &Target| {
            self.made
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(target)
                .cloned()
        };
        if let Some(clients) = made(target) {
            return Ok(clients);
        }
        let in_account = match &target.role {
            None => self.clone(),
            Some(role) => self.as_session(&self.reach.session(role).await?),
        };
        let region = target.region.as_deref().unwrap_or(&self.region).to_owned();
        let clients = in_account.in_region(&region);
        self.made
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(target.clone(), clients.clone());
        Ok(clients)
    }

    /// The same clients acting as `session` (an assumed role), in the
    /// provider's region; the process-wide slots, watchers and sessions
    /// stay shared.
    pub(super) fn as_session(&self, session: &Session) -> AwsClients {
        AwsClients {
            account_id: session.account_id.clone(),
            partition: session.partition.clone(),
            caller_arn: session.caller_arn.clone(),
            sdk_config: session.sdk_config.clone(),
            regions: session.regions.clone(),
            ..self.with_services(&session.sdk_config, &session.account_id, &self.region)
        }
    }
}

/// EC2, KMS and Recycle Bin clients acting in `account_id` and `region`
/// through `config`, each at its endpoint override (EC2, KMS, Recycle Bin
/// order) when one is set.
///
/// Each client gets a retry partition of its own account and region. The
/// SDK's retry quota (a token bucket that each retry draws from) is shared
/// by every client of a partition in the process, and its default partition
/// is the service and region: a fan-out throttled in one account would
/// drain the quota of every other account in that region, and their calls
/// would then fail at the first error whatever `max_retries` says. EC2
/// throttles per account and region ("Request throttling for the Amazon
/// EC2 API"), so the quota follows it.
fn service_clients(
    config: &SdkConfig,
    account_id: &str,
    region: &str,
    [ec2_endpoint, kms_endpoint, rbin_endpoint]: [&Option<String>; 3],
) -> (
    aws_sdk_ec2::Client,
    aws_sdk_kms::Client,
    aws_sdk_rbin::Client,
) {
    let partition = |service: &str| RetryPartition::new(format!("{service}-{account_id}-{region}"));
    let region = Region::new(region.to_owned());
    let mut ec2 = aws_sdk_ec2::config::Builder::from(config)
        .region(region.clone())
        .retry_partition(partition("ec2"));
    ec2.set_endpoint_url(ec2_endpoint.clone());
    let mut kms = aws_sdk_kms::config::Builder::from(config)
        .region(region.clone())
        .retry_partition(partition("kms"));
    kms.set_endpoint_url(kms_endpoint.clone());
    let mut rbin = aws_sdk_rbin::config::Builder::from(config)
        .region(region)
        .retry_partition(partition("rbin"));
    rbin.set_endpoint_url(rbin_endpoint.clone());
    (
        aws_sdk_ec2::Client::from_conf(ec2.build()),
        aws_sdk_kms::Client::from_conf(kms.build()),
        aws_sdk_rbin::Client::from_conf(rbin.build()),
    )
}

/// Builds the clients from the provider settings (see [`super::config`] for
/// the precedence rules), assumes the role if one is configured, asks STS who
/// the credentials belong to, and refuses accounts the settings exclude.
pub async fn connect(settings: &ProviderSettings) -> Result<AwsClients, AwsError> {
    let retry = retry_config(settings.max_retries, |name| std::env::var(name).ok())?;
    let static_creds = static_credentials(settings)?;
    if let Some(role) = &settings.assume_role {
        validate_assume_role(role)?;
    }
    let profile = settings.profile.as_deref().filter(|p| !p.is_empty());

    // A wrong endpoint or no network would otherwise keep `connect` retrying
    // for minutes before the user sees anything. A retry count the user chose
    // (max_retries or AWS_MAX_ATTEMPTS) is kept as it is.
    let user_chose_retries =
        settings.max_retries.is_some() || std::env::var_os("AWS_MAX_ATTEMPTS").is_some();
    let check_retry = if user_chose_retries {
        retry.clone()
    } else {
        retry
            .clone()
            .with_max_attempts(retry.max_attempts().min(IDENTITY_CHECK_MAX_ATTEMPTS))
    };
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(attempt_timeout());
    if let Some(region) = settings.region.as_deref().filter(|r| !r.is_empty()) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(creds) = static_creds.clone() {
        loader = loader.credentials_provider(creds);
    }
    let mut base = loader.load().await;
    let region = require_region(base.region(), profile)?;

    // The default chain reads environment credentials before the profile, so
    // an explicit profile gets a provider of its own to win over them.
    if let (None, Some(profile)) = (&static_creds, profile) {
        let provider_config = ProviderConfig::default().with_region(base.region().cloned());
        let provider = ProfileFileCredentialsProvider::builder()
            .configure(&provider_config)
            .profile_name(profile)
            .build();
        base = base
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
    }

    let sts_endpoint = resolve_endpoint(&settings.endpoints, &base, Service::Sts);
    let sdk_config = match &settings.assume_role {
        None => base,
        Some(role) => {
            let provider =
                assume_role_provider(role, &base, sts_endpoint.as_deref(), check_retry.clone())
                    .await;
            base.into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build()
        }
    };

    let reach = Reach::new(
        &sdk_config,
        sts_endpoint.clone(),
        check_retry.clone(),
        settings,
    );
    let ec2_endpoint = resolve_endpoint(&settings.endpoints, &sdk_config, Service::Ec2);
    let kms_endpoint = resolve_endpoint(&settings.endpoints, &sdk_config, Service::Kms);
    let rbin_endpoint = resolve_endpoint(&settings.endpoints, &sdk_config, Service::Rbin);
    let mut sts = aws_sdk_sts::config::Builder::from(&sdk_config);
    sts.set_endpoint_url(sts_endpoint);
    let sts = aws_sdk_sts::Client::from_conf(sts.build());

    let mut round = 1;
    let identity = loop {
        let result = sts
            .get_caller_identity()
            .customize()
            .config_override(
                aws_sdk_sts::config::Builder::default().retry_config(check_retry.clone()),
            )
            .send()
            .await;
        match result {
            Ok(identity) => break identity,
            Err(err) => {
                let err = caller_identity_error(err, settings, static_creds.is_some());
                if round >= IDENTITY_THROTTLED_ROUNDS || !err.code().is_some_and(is_throttling) {
                    return Err(err);
                }
                tokio::time::sleep(IDENTITY_THROTTLED_PAUSE * round).await;
                round += 1;
            }
        }
    };
    let account_id = identity
        .account()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| AwsError::config("STS GetCallerIdentity returned no account id"))?
        .to_owned();
    let caller_arn = identity.arn().unwrap_or_default().to_owned();
    let partition = caller_partition(&caller_arn)?;
    check_account(
        &account_id,
        &settings.allowed_account_ids,
        &settings.forbidden_account_ids,
    )?;

    let (ec2, kms, rbin) = service_clients(
        &sdk_config,
        &account_id,
        &region,
        [&ec2_endpoint, &kms_endpoint, &rbin_endpoint],
    );
    Ok(AwsClients {
        ec2,
        kms,
        rbin,
        account_id,
        partition,
        region,
        caller_arn,
        sdk_config,
        ec2_endpoint,
        kms_endpoint,
        rbin_endpoint,
        regions: Arc::default(),
        reach: Arc::new(reach),
        made: Arc::default(),
        copy_slot_limit: settings
            .max_concurrent_snapshot_copies
            .unwrap_or(DEFAULT_CONCURRENT_SNAPSHOT_COPIES)
            .max(1),
    })
}

/// How long one attempt of one call may take before the SDK gives it up
/// and retries it: EC2, KMS and STS answer in well under a second, a page
/// of a large listing in a few. Without it one hung read (a connection
/// dropped silently by a firewall or a NAT) blocks the operation until the
/// resource's timeout, or forever at plan, which has none.
pub(crate) const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How long opening a connection may take: the SDK's own default, set here
/// because a timeout configuration given to the SDK replaces its defaults.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(3100);

/// The SDK's timeouts: [`CONNECT_TIMEOUT`] and [`ATTEMPT_TIMEOUT`].
fn attempt_timeout() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}

/// Credentials are loaded lazily, on the first call, so a failing AssumeRole
/// or missing credentials surface here. Name the real cause: the AssumeRole
/// call and its AWS error code when that is what failed.
fn caller_identity_error(
    err: SdkError<GetCallerIdentityError>,
    settings: &ProviderSettings,
    has_static_credentials: bool,
) -> AwsError {
    let role = settings.assume_role.as_ref();
    let assume_role_failure = source_chain(&err)
        .find_map(|e| e.downcast_ref::<SdkError<AssumeRoleError>>())
        .filter(|e| matches!(e, SdkError::ServiceError(_) | SdkError::ResponseError(_)));
    if let (Some(failure), Some(role)) = (assume_role_failure, role) {
        return AwsError::from_sdk_ref(format!("assuming IAM role ({})", role.role_arn), failure)
            .with_kind(ErrorKind::AssumeRole);
    }
    let not_loaded = source_chain(&err).any(|e| {
        matches!(
            e.downcast_ref::<CredentialsError>(),
            Some(CredentialsError::CredentialsNotLoaded(_))
        )
    });
    let err = AwsError::from_sdk("calling STS GetCallerIdentity", err);
    let profile = settings.profile.as_deref().filter(|p| !p.is_empty());
    if let (false, Some(profile), ErrorKind::Credentials) =
        (has_static_credentials, profile, err.kind())
    {
        return err.with_context(format!("loading credentials of profile {profile:?}"));
    }
    if not_loaded {
        return err.with_context(
            "no valid credential sources found (set access_key and secret_key or profile in \
             the provider configuration, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
        );
    }
    match role {
        Some(role) if err.kind() == ErrorKind::Credentials => {
            err.with_context(format!("assuming IAM role ({})", role.role_arn))
        }
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_and_region_has_a_retry_quota_of_its_own() {
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .build();
        let none = [&None, &None, &None];
        let partition = |account: &str, region: &str| {
            let (ec2, kms, rbin) = service_clients(&config, account, region, none);
            [
                ec2.config().retry_partition().map(ToString::to_string),
                kms.config().retry_partition().map(ToString::to_string),
                rbin.config().retry_partition().map(ToString::to_string),
            ]
        };
        let here = partition("111111111111", "eu-west-1");
        assert_eq!(
            here,
            [
                Some("ec2-111111111111-eu-west-1".to_owned()),
                Some("kms-111111111111-eu-west-1".to_owned()),
                Some("rbin-111111111111-eu-west-1".to_owned()),
            ]
        );
        assert_ne!(
            here,
            partition("222222222222", "eu-west-1"),
            "another account"
        );
        assert_ne!(
            here,
            partition("111111111111", "us-east-1"),
            "another region"
        );
    }
}
