//! The provider block's AWS settings, as plain Rust values, and the pure rules
//! that turn them into SDK configuration.
//!
//! The provider layer fills [`ProviderSettings`] from Terraform config; nothing
//! here knows about Terraform. [`crate::aws::connect`] uses the rules below.
//!
//! Precedence, highest first, matching what aws provider users expect:
//! - region: `region` setting, `AWS_REGION`, `AWS_DEFAULT_REGION`, the selected
//!   profile's `region` (`profile` setting, else `AWS_PROFILE`, else `default`), EC2 IMDS.
//! - credentials: `access_key` + `secret_key` (+ `token`); else the `profile`
//!   setting's credentials (environment credentials do not override an explicit
//!   profile); else the SDK's default chain (environment, shared files with
//!   `AWS_PROFILE`, web identity, container, instance profile). `assume_role`
//!   is then applied on top of whichever of these was chosen.
//! - endpoints: `endpoints { ec2/sts/kms/rbin }`, then `AWS_ENDPOINT_URL_EC2/STS/KMS/RBIN`,
//!   then `AWS_ENDPOINT_URL` (the last two through the SDK's own environment and
//!   shared-config lookup, so `services` sections and
//!   `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` work too).
//! - retries: `max_retries`, then `AWS_MAX_ATTEMPTS`, then [`DEFAULT_MAX_RETRIES`].

use std::fmt;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_smithy_types::retry::{RetryConfig, RetryMode};
use aws_types::region::Region;
use aws_types::service_config::ServiceConfigKey;
use aws_types::SdkConfig;

use super::errors::AwsError;

/// How many times a failed call is retried when `max_retries` is not set and
/// `AWS_MAX_ATTEMPTS` is not in the environment. The aws provider's default;
/// the SDK's own (3 attempts) gives up on throttled EC2 calls far too soon.
pub const DEFAULT_MAX_RETRIES: u32 = 25;

/// EC2's quota of concurrent snapshot copies per destination region, per
/// account ("Quotas for Amazon EBS": "Concurrent snapshot copies per
/// destination Region", 20, not adjustable); every snapshot of an AMI
/// being copied counts ("How Amazon EC2 AMI copy works").
pub const DEFAULT_CONCURRENT_SNAPSHOT_COPIES: u32 = 20;

/// The role session name used when `assume_role` does not set one.
pub const DEFAULT_SESSION_NAME: &str = "terraform-provider-imagecopier";

/// The shortest and longest session STS AssumeRole accepts.
pub const ASSUME_ROLE_DURATION_RANGE: (Duration, Duration) = (
    Duration::from_secs(15 * 60),
    Duration::from_secs(12 * 60 * 60),
);

/// The provider block's AWS settings. `None` means "not set in Terraform", so
/// the SDK's environment and shared-config lookup decides.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The AWS region, e.g. `eu-west-1`.
    pub region: Option<String>,
    /// A named profile from the shared config and credentials files.
    pub profile: Option<String>,
    /// Static access key id; must come with `secret_key`.
    pub access_key: Option<String>,
    /// Static secret access key; must come with `access_key`.
    pub secret_key: Option<String>,
    /// Session token for temporary static credentials.
    pub token: Option<String>,
    /// A role to assume with the credentials found above.
    pub assume_role: Option<AssumeRole>,
    /// When not empty, the only accounts the provider may act in.
    pub allowed_account_ids: Vec<String>,
    /// Accounts the provider must never act in.
    pub forbidden_account_ids: Vec<String>,
    /// Custom service endpoints.
    pub endpoints: Endpoints,
    /// How many times a call is attempted before a throttling or transient
    /// error is returned. Like the aws provider, and like `AWS_MAX_ATTEMPTS`,
    /// this counts attempts; 0 is taken as 1 (no retries).
    pub max_retries: Option<u32>,
    /// How many snapshot copies this provider lets run at once per account
    /// and destination region; [`DEFAULT_CONCURRENT_SNAPSHOT_COPIES`] when
    /// not set (EC2's default quota).
    pub max_concurrent_snapshot_copies: Option<u32>,
}

/// The `assume_role` block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AssumeRole {
    /// The ARN of the role to assume.
    pub role_arn: String,
    /// Session name; [`DEFAULT_SESSION_NAME`] when not set.
    pub session_name: Option<String>,
    /// External id the role's trust policy may require.
    pub external_id: Option<String>,
    /// Session length; STS's default (one hour) when not set. Sessions are
    /// renewed before they expire, so this does not bound an apply's length.
    pub duration: Option<Duration>,
}

/// The `endpoints` block: custom URLs per service, e.g. for a local stand-in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// EC2 endpoint URL.
    pub ec2: Option<String>,
    /// STS endpoint URL, also used for AssumeRole.
    pub sts: Option<String>,
    /// KMS endpoint URL.
    pub kms: Option<String>,
    /// Recycle Bin endpoint URL.
    pub rbin: Option<String>,
}

/// Secrets never reach logs: the secret key and token are shown only as set
/// or not, and the access key id only by its first four characters (enough
/// to tell an `AKIA` long-term key from an `ASIA` temporary one).
impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field(
                "access_key",
                &self.access_key.as_deref().map(mask_access_key),
            )
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "** redacted **"),
            )
            .field("token", &self.token.as_ref().map(|_| "** redacted **"))
            .field("assume_role", &self.assume_role)
            .field("allowed_account_ids", &self.allowed_account_ids)
            .field("forbidden_account_ids", &self.forbidden_account_ids)
            .field("endpoints", &self.endpoints)
            .field("max_retries", &self.max_retries)
            .field(
                "max_concurrent_snapshot_copies",
                &self.max_concurrent_snapshot_copies,
            )
            .finish()
    }
}

fn mask_access_key(key: &str) -> String {
    let prefix: String = key.chars().take(4).collect();
    format!("{prefix}****")
}

/// An AWS service this provider talks to, with the names the SDK uses to look
/// up its endpoint in the environment and shared config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Ec2,
    Sts,
    Kms,
    Rbin,
}

impl Service {
    fn service_id(self) -> &'static str {
        match self {
            Service::Ec2 => "EC2",
            Service::Sts => "STS",
            Service::Kms => "KMS",
            Service::Rbin => "rbin",
        }
    }
}

impl Endpoints {
    fn explicit(&self, service: Service) -> Option<&str> {
        let value = match service {
            Service::Ec2 => &self.ec2,
            Service::Sts => &self.sts,
            Service::Kms => &self.kms,
            Service::Rbin => &self.rbin,
        };
        value.as_deref().filter(|s| !s.is_empty())
    }
}

/// The endpoint URL for `service`: the `endpoints` setting, else the SDK's
/// service-specific lookup (`AWS_ENDPOINT_URL_<SERVICE>`, profile `services`
/// section), else the global `AWS_ENDPOINT_URL`. `None` means AWS's own.
///
/// The generated service configs do the same lookup; doing it here lets an
/// explicit setting win over the environment and reach the AssumeRole call.
pub(crate) fn resolve_endpoint(
    endpoints: &Endpoints,
    sdk: &SdkConfig,
    service: Service,
) -> Option<String> {
    if let Some(url) = endpoints.explicit(service) {
        return Some(url.to_owned());
    }
    let key = ServiceConfigKey::builder()
        .service_id(service.service_id())
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok();
    key.and_then(|key| sdk.service_config().and_then(|conf| conf.load_config(key)))
        .or_else(|| sdk.endpoint_url().map(str::to_owned))
}

/// The static credentials, if the settings give them. Half a key pair is a
/// mistake the user must hear about, not a reason to fall back silently to
/// other credentials (possibly for another account).
pub(crate) fn static_credentials(
    settings: &ProviderSettings,
) -> Result<Option<Credentials>, AwsError> {
    let set = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    match (set(&settings.access_key), set(&settings.secret_key)) {
        (Some(access_key), Some(secret_key)) => Ok(Some(Credentials::new(
            access_key,
            secret_key,
            set(&settings.token),
            None,
            "ProviderConfiguration",
        ))),
        (None, None) if set(&settings.token).is_some() => Err(AwsError::config(
            "token is set but access_key and secret_key are not",
        )),
        (None, None) => Ok(None),
        (Some(_), None) => Err(AwsError::config("access_key is set but secret_key is not")),
        (None, Some(_)) => Err(AwsError::config("secret_key is set but access_key is not")),
    }
}

/// The retry policy. `env` looks up an environment variable; it is a
/// parameter so tests do not depend on the process environment.
///
/// We always hand the SDK an explicit policy: its own environment lookup
/// panics on a malformed `AWS_MAX_ATTEMPTS`, which would crash the plugin
/// instead of giving the user a diagnostic. A profile's `max_attempts` is
/// therefore not consulted. `AWS_RETRY_MODE` selects standard or adaptive
/// mode; `legacy`, which the Rust SDK lacks, means standard.
pub(crate) fn retry_config(
    max_retries: Option<u32>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<RetryConfig, AwsError> {
    // max_retries counts retries, as the aws provider words it (0: one
    // attempt, no retry); the SDK and AWS_MAX_ATTEMPTS count attempts.
    let max_attempts = match (max_retries, env("AWS_MAX_ATTEMPTS")) {
        (Some(retries), _) => retries.saturating_add(1),
        (None, Some(raw)) => match raw.trim().parse::<u32>() {
            Ok(attempts) if attempts > 0 => attempts,
            _ => {
                return Err(AwsError::config(format!(
                    "AWS_MAX_ATTEMPTS must be a whole number of at least 1, got {raw:?}"
                )))
            }
        },
        (None, None) => DEFAULT_MAX_RETRIES + 1,
    };
    let mode = match env("AWS_RETRY_MODE") {
        None => RetryMode::Standard,
        Some(raw) if raw.trim().eq_ignore_ascii_case("legacy") => RetryMode::Standard,
        Some(raw) => raw.parse::<RetryMode>().map_err(|_| {
            AwsError::config(format!(
                "AWS_RETRY_MODE must be standard, adaptive or legacy, got {raw:?}"
            ))
        })?,
    };
    Ok(RetryConfig::standard()
        .with_max_attempts(max_attempts)
        .with_retry_mode(mode))
}

/// The region the SDK settled on, or the error users get when there is none.
pub(crate) fn require_region(
    region: Option<&Region>,
    profile: Option<&str>,
) -> Result<String, AwsError> {
    if let Some(region) = region.map(Region::as_ref).filter(|r| !r.is_empty()) {
        return Ok(region.to_owned());
    }
    let mut message =
        "The region is not set: set region in the provider configuration or AWS_REGION".to_owned();
    if let Some(profile) = profile {
        message.push_str(&format!(", or region in profile {profile:?}"));
    }
    Err(AwsError::config(message))
}

/// Checks the `assume_role` block before any call is made.
pub(crate) fn validate_assume_role(role: &AssumeRole) -> Result<(), AwsError> {
    if role.role_arn.trim().is_empty() {
        return Err(AwsError::config("assume_role: role_arn must not be empty"));
    }
    if let Some(duration) = role.duration {
        let (min, max) = ASSUME_ROLE_DURATION_RANGE;
        if duration < min || duration > max {
            return Err(AwsError::config(format!(
                "assume_role: duration must be between 15m and 12h, got {}s",
                duration.as_secs()
            )));
        }
    }
    Ok(())
}

/// The Region an endpoint URL names, if its host has one: AWS's regional
/// endpoints and VPC endpoint DNS names carry it as a label
/// (`ec2.eu-west-1.amazonaws.com`,
/// `vpce-0a1b-c2d3.ec2.eu-west-1.vpce.amazonaws.com`). A local endpoint (a
/// stand-in, LocalStack, `127.0.0.1`) names none.
pub(super) fn region_in_url(url: &str) -> Option<&str> {
    let host = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = host.split(['/', ':', '?']).next().unwrap_or_default();
    host.split('.').find(|label| is_region_name(label))
}

/// Whether `label` is shaped like a Region name: a geography AWS uses,
/// optionally a partition word, directions, a number (`eu-west-1`,
/// `us-gov-west-1`, `ap-southeast-5`, `us-isob-east-1`). Stricter than the
/// `region` argument's check (`validate::region`), which must let future
/// Regions through: here a false match refuses a working endpoint, so a
/// proxy's `my-proxy-1` must not read as a Region.
fn is_region_name(label: &str) -> bool {
    const GEOGRAPHIES: &[&str] = &["af", "ap", "ca", "cn", "eu", "il", "me", "mx", "sa", "us"];
    const WORDS: &[&str] = &[
        "gov",
        "iso",
        "isob",
        "isoe",
        "isof",
        "north",
        "south",
        "east",
        "west",
        "central",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ];
    let parts: Vec<&str> = label.split('-').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return false;
    };
    GEOGRAPHIES.contains(first)
        && !middle.is_empty()
        && middle.iter().all(|word| WORDS.contains(word))
        && !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests;
