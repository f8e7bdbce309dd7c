//! KMS DescribeKey: turning any key form into the key's ARN and telling
//! whether the key can encrypt a copy at all.

use super::clients::AwsClients;
use super::errors::AwsError;
use super::memo::{Forgotten, Memo};

/// What DescribeKey tells about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    /// The key's ARN, whatever form it was named by.
    pub arn: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...
    pub state: String,
    /// True for AWS-managed keys such as `alias/aws/ebs`, which AWS will
    /// not let another account use.
    pub aws_managed: bool,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, `HMAC_256`, ...; empty if KMS did not say.
    pub spec: String,
}

impl KeyFacts {
    /// True when the key can encrypt now.
    pub fn usable(&self) -> bool {
        self.state == "Enabled"
    }

    /// Whether EBS can encrypt with it: EBS takes only symmetric encryption
    /// keys (an unreported spec is taken as the default, symmetric).
    pub fn symmetric(&self) -> bool {
        self.spec.is_empty() || self.spec == "SYMMETRIC_DEFAULT"
    }
}

/// Keys described in this process: (caller, region, key as named) to what
/// KMS said, looked up once even when many copies ask at the same moment.
/// A key's ARN, manager and spec never change; its state rarely does, and a
/// key disabled mid-command makes CopyImage fail with EC2's own error.
/// Every copy into an account usually names the same key, and Terraform
/// plans each copy again at apply: one DescribeKey per key and process
/// instead of two per copy. A failure is not kept: the next caller asks.
static DESCRIBED: Memo<CallerRegionKey, KeyFacts> = Memo::new(Forgotten::Never);

/// A caller's ARN, a region and a key as named.
type CallerRegionKey = (String, String, String);

/// Describes `key_id` (key id, key ARN, alias name or alias ARN), at most
/// once per caller, region and key per process (see [`DESCRIBED`]).
pub async fn describe_key(clients: &AwsClients, key_id: &str) -> Result<KeyFacts, AwsError> {
    let key = (
        clients.caller_arn.clone(),
        clients.region.clone(),
        key_id.to_owned(),
    );
    DESCRIBED
        .get_or_ask(key, || describe_key_now(clients, key_id))
        .await
}

async fn describe_key_now(clients: &AwsClients, key_id: &str) -> Result<KeyFacts, AwsError> {
    let output = clients
        .kms
        .describe_key()
        .key_id(key_id)
        .send()
        .await
        .map_err(|err| AwsError::from_sdk(format!("calling KMS DescribeKey for {key_id}"), err))?;
    let meta = output.key_metadata();
    let arn = meta.and_then(|m| m.arn()).unwrap_or_default().to_owned();
    let state = meta
        .and_then(|m| m.key_state())
        .map(|s| s.as_str().to_owned())
        .unwrap_or_else(|| {
            if meta.is_some_and(|m| m.enabled()) {
                "Enabled".to_owned()
            } else {
                "Disabled".to_owned()
            }
        });
    let aws_managed = meta
        .and_then(|m| m.key_manager())
        .is_some_and(|m| m.as_str() == "AWS");
    let spec = meta
        .and_then(|m| m.key_spec())
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    Ok(KeyFacts {
        arn,
        state,
        aws_managed,
        spec,
    })
}

/// The account's default key for EBS encryption (EC2 GetEbsDefaultKmsKeyId),
/// which a copy without `kms_key_id` is encrypted with.
pub async fn ebs_default_key_id(clients: &AwsClients) -> Result<String, AwsError> {
    let output = clients
        .ec2
        .get_ebs_default_kms_key_id()
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("calling EC2 GetEbsDefaultKmsKeyId", err))?;
    Ok(output.kms_key_id().unwrap_or("alias/aws/ebs").to_owned())
}

/// Whether `key_id` (an id, ARN, alias or alias ARN) is an AWS-managed KMS
/// key, such as the default `aws/ebs` key. Snapshots encrypted with one cannot
/// be shared with other accounts, because its key policy cannot be changed.
/// KMS says so in KeyManager; aliases under `alias/aws/` are reserved for
/// AWS-managed keys, so one of those is taken as proof too.
pub async fn is_aws_managed_key(clients: &AwsClients, key_id: &str) -> Result<bool, AwsError> {
    let key = describe_key(clients, key_id).await?;
    if key.aws_managed {
        return Ok(true);
    }
    if key.arn.is_empty() {
        return Ok(false);
    }
    let aliases = clients
        .kms
        .list_aliases()
        .key_id(&key.arn)
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("calling KMS ListAliases", err))?;
    Ok(aliases
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .any(|name| name.starts_with("alias/aws/")))
}
