//! The provider block as a typed model, its validation, and its conversion
//! into the AWS layer's settings.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::aws::{AssumeRole, Endpoints, ProviderSettings};
use crate::duration::parse_duration;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::typed::{Field, FromValue, IntoValue, ObjectReader, ObjectWriter};
use crate::protocol::value::Value;
use crate::validate;

/// `assume_role { ... }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssumeRoleConfig {
    /// Role to assume.
    pub role_arn: Field<String>,
    /// CloudTrail session name.
    pub session_name: Field<String>,
    /// External id required by the trust policy.
    pub external_id: Field<String>,
    /// Session duration, e.g. "1h".
    pub duration: Field<String>,
}

/// `endpoints { ... }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointsConfig {
    /// EC2 endpoint.
    pub ec2: Field<String>,
    /// STS endpoint.
    pub sts: Field<String>,
    /// KMS endpoint.
    pub kms: Field<String>,
    /// Recycle Bin endpoint.
    pub rbin: Field<String>,
}

/// `default_tags { tags = {...} }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DefaultTagsConfig {
    /// The tags.
    pub tags: Field<BTreeMap<String, String>>,
}

/// The whole provider block.
#[derive(Clone, Default, PartialEq)]
pub struct ProviderConfig {
    /// AWS region.
    pub region: Field<String>,
    /// Shared config profile.
    pub profile: Field<String>,
    /// Static access key id (sensitive).
    pub access_key: Field<String>,
    /// Static secret key (sensitive).
    pub secret_key: Field<String>,
    /// Session token (sensitive).
    pub token: Field<String>,
    /// Accounts the provider may act in.
    pub allowed_account_ids: Field<BTreeSet<String>>,
    /// Accounts the provider must never act in.
    pub forbidden_account_ids: Field<BTreeSet<String>>,
    /// Attempts per AWS call.
    pub max_retries: Field<i64>,
    /// Snapshot copies run at once per account and destination region.
    pub max_concurrent_snapshot_copies: Field<i64>,
    /// At most one assume_role block.
    pub assume_role: Field<Vec<AssumeRoleConfig>>,
    /// At most one endpoints block.
    pub endpoints: Field<Vec<EndpointsConfig>>,
    /// At most one default_tags block.
    pub default_tags: Field<Vec<DefaultTagsConfig>>,
}

/// Secrets stay out of logs and panic messages.
impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |field: &Field<String>| match field {
            Field::Known(_) => "<set>",
            Field::Null => "<null>",
            Field::Unknown => "<unknown>",
        };
        f.debug_struct("ProviderConfig")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("access_key", &redacted(&self.access_key))
            .field("secret_key", &redacted(&self.secret_key))
            .field("token", &redacted(&self.token))
            .field("allowed_account_ids", &self.allowed_account_ids)
            .field("forbidden_account_ids", &self.forbidden_account_ids)
            .field("max_retries", &self.max_retries)
            .field(
                "max_concurrent_snapshot_copies",
                &self.max_concurrent_snapshot_copies,
            )
            .field("assume_role", &self.assume_role)
            .field("endpoints", &self.endpoints)
            .field("default_tags", &self.default_tags)
            .finish()
    }
}

impl FromValue for AssumeRoleConfig {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        let r = ObjectReader::new(value, path)?;
        Ok(Self {
            role_arn: r.get("role_arn")?,
            session_name: r.get("session_name")?,
            external_id: r.get("external_id")?,
            duration: r.get("duration")?,
        })
    }
}

impl IntoValue for AssumeRoleConfig {
    fn to_value(&self) -> Value {
        ObjectWriter::new()
            .set("role_arn", &self.role_arn)
            .set("session_name", &self.session_name)
            .set("external_id", &self.external_id)
            .set("duration", &self.duration)
            .build()
    }
}

impl FromValue for EndpointsConfig {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        let r = ObjectReader::new(value, path)?;
        Ok(Self {
            ec2: r.get("ec2")?,
            sts: r.get("sts")?,
            kms: r.get("kms")?,
            rbin: r.get("rbin")?,
        })
    }
}

impl IntoValue for EndpointsConfig {
    fn to_value(&self) -> Value {
        ObjectWriter::new()
            .set("ec2", &self.ec2)
            .set("sts", &self.sts)
            .set("kms", &self.kms)
            .set("rbin", &self.rbin)
            .build()
    }
}

impl FromValue for DefaultTagsConfig {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        Ok(Self {
            tags: ObjectReader::new(value, path)?.get("tags")?,
        })
    }
}

impl IntoValue for DefaultTagsConfig {
    fn to_value(&self) -> Value {
        ObjectWriter::new().set("tags", &self.tags).build()
    }
}

impl FromValue for ProviderConfig {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        // The provider block is only read, so a value that is partly unknown at
        // plan time (a list of account ids from variables) is simply unknown.
        let r = ObjectReader::new(value, path)?;
        Ok(Self {
            region: r.get_or_unknown("region")?,
            profile: r.get_or_unknown("profile")?,
            access_key: r.get_or_unknown("access_key")?,
            secret_key: r.get_or_unknown("secret_key")?,
            token: r.get_or_unknown("token")?,
            allowed_account_ids: r.get_or_unknown("allowed_account_ids")?,
            forbidden_account_ids: r.get_or_unknown("forbidden_account_ids")?,
            max_retries: r.get_or_unknown("max_retries")?,
            max_concurrent_snapshot_copies: r.get_or_unknown("max_concurrent_snapshot_copies")?,
            assume_role: r.get_or_unknown("assume_role")?,
            endpoints: r.get_or_unknown("endpoints")?,
            default_tags: r.get_or_unknown("default_tags")?,
        })
    }
}

impl ProviderConfig {
    /// Static checks on whatever is known; unknown values are checked at
    /// configure time, when Terraform knows them.
    pub fn validate(&self) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let mut check =
            |field: &Field<String>, path: AttrPath, rule: fn(&str) -> Result<(), String>| {
                if let Some(value) = field.known() {
                    if let Err(reason) = rule(value) {
                        diags.push(
                            Diagnostic::error(
                                "Invalid provider configuration",
                                format!("{path} {reason}."),
                            )
                            .at(path),
                        );
                    }
                }
            };
        check(&self.region, AttrPath::root("region"), validate::region);
        for (name, ids) in [
            ("allowed_account_ids", &self.allowed_account_ids),
            ("forbidden_account_ids", &self.forbidden_account_ids),
        ] {
            for id in ids.known().into_iter().flatten() {
                check(
                    &Field::Known(id.clone()),
                    AttrPath::root(name),
                    validate::account_id,
                );
            }
        }
        for (i, role) in self.assume_role.known().into_iter().flatten().enumerate() {
            let at = |name: &str| AttrPath::root("assume_role").index(i as i64).attr(name);
            check(&role.role_arn, at("role_arn"), validate::role_arn);
            check(&role.duration, at("duration"), validate::session_duration);
            check(
                &role.session_name,
                at("session_name"),
                validate::session_name,
            );
            check(&role.external_id, at("external_id"), validate::external_id);
        }
        for (i, endpoints) in self.endpoints.known().into_iter().flatten().enumerate() {
            for (name, field) in [
                ("ec2", &endpoints.ec2),
                ("sts", &endpoints.sts),
                ("kms", &endpoints.kms),
                ("rbin", &endpoints.rbin),
            ] {
                check(
                    field,
                    AttrPath::root("endpoints").index(i as i64).attr(name),
                    validate::endpoint_url,
                );
            }
        }
        for (i, block) in self.default_tags.known().into_iter().flatten().enumerate() {
            if let Some(tags) = block.tags.known() {
                diags.extend(super::default_tags::check(i, tags));
            }
        }
        if let Some(n) = self.max_retries.known() {
            if *n < 0 {
                diags.push(
                    Diagnostic::error(
                        "Invalid provider configuration",
                        "max_retries must not be negative.",
                    )
                    .at(AttrPath::root("max_retries")),
                );
            }
        }
        if let Some(n) = self.max_concurrent_snapshot_copies.known() {
            if *n < 1 {
                diags.push(
                    Diagnostic::error(
                        "Invalid provider configuration",
                        format!("max_concurrent_snapshot_copies must be at least 1, got {n}."),
                    )
                    .at(AttrPath::root("max_concurrent_snapshot_copies")),
                );
            }
        }
        let has_any = |f: &Field<BTreeSet<String>>| f.known().is_some_and(|s| !s.is_empty());
        if has_any(&self.allowed_account_ids) && has_any(&self.forbidden_account_ids) {
            diags.push(
                Diagnostic::error(
                    "Conflicting provider configuration",
                    "Set either allowed_account_ids or forbidden_account_ids, not both.",
                )
                .at(AttrPath::root("forbidden_account_ids")),
            );
        }
        if self.access_key.known().is_some() != self.secret_key.known().is_some()
            && !self.access_key.is_unknown()
            && !self.secret_key.is_unknown()
        {
            // Point at the argument that is there: Terraform can show its
            // line, and the missing one has none.
            let (set, missing) = if self.access_key.is_null() {
                ("secret_key", "access_key")
            } else {
                ("access_key", "secret_key")
            };
            diags.push(
                Diagnostic::error(
                    "Incomplete static credentials",
                    format!(
                        "{set} is set but {missing} is not: static credentials need both. Set both, or neither \
                         and let the provider find credentials in the environment, a profile or a role."
                    ),
                )
                .at(AttrPath::root(set)),
            );
        }
        diags
    }

    /// The default tags, if a default_tags block sets any.
    pub fn default_tags(&self) -> BTreeMap<String, String> {
        self.default_tags
            .known()
            .and_then(|blocks| blocks.first())
            .and_then(|block| block.tags.known().cloned())
            .unwrap_or_default()
    }

    /// The AWS layer's settings; `None` while any input is still unknown.
    pub fn settings(&self) -> Option<ProviderSettings> {
        fn opt(field: &Field<String>) -> Option<Option<String>> {
            match field {
                Field::Known(value) => Some(Some(value.clone())),
                Field::Null => Some(None),
                Field::Unknown => None,
            }
        }
        fn set(field: &Field<BTreeSet<String>>) -> Option<Vec<String>> {
            match field {
                Field::Known(ids) => Some(ids.iter().cloned().collect()),
                Field::Null => Some(Vec::new()),
                Field::Unknown => None,
            }
        }
        let assume_role = match &self.assume_role {
            Field::Unknown => return None,
            Field::Null => None,
            Field::Known(blocks) => match blocks.first() {
                None => None,
                Some(block) => Some(AssumeRole {
                    role_arn: opt(&block.role_arn)??,
                    session_name: opt(&block.session_name)?,
                    external_id: opt(&block.external_id)?,
                    duration: opt(&block.duration)?.as_deref().and_then(parse_duration),
                }),
            },
        };
        let endpoints = match &self.endpoints {
            Field::Unknown => return None,
            Field::Null => Endpoints::default(),
            Field::Known(blocks) => match blocks.first() {
                None => Endpoints::default(),
                Some(block) => Endpoints {
                    ec2: opt(&block.ec2)?,
                    sts: opt(&block.sts)?,
                    kms: opt(&block.kms)?,
                    rbin: opt(&block.rbin)?,
                },
            },
        };
        let max_retries = match &self.max_retries {
            // Negative is refused by validate; beyond u32 is "retry forever" anyway.
            Field::Known(n) => Some(u32::try_from(*n).unwrap_or(u32::MAX)),
            Field::Null => None,
            Field::Unknown => return None,
        };
        let max_concurrent_snapshot_copies = match &self.max_concurrent_snapshot_copies {
            Field::Known(n) => Some(u32::try_from(*n).unwrap_or(u32::MAX)),
            Field::Null => None,
            Field::Unknown => return None,
        };
        Some(ProviderSettings {
            region: opt(&self.region)?,
            profile: opt(&self.profile)?,
            access_key: opt(&self.access_key)?,
            secret_key: opt(&self.secret_key)?,
            token: opt(&self.token)?,
            assume_role,
            allowed_account_ids: set(&self.allowed_account_ids)?,
            forbidden_account_ids: set(&self.forbidden_account_ids)?,
            endpoints,
            max_retries,
            max_concurrent_snapshot_copies,
        })
    }
}
