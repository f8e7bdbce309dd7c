//! Checks of identifier formats, shared by the provider block and resources.
//!
//! Each returns `Err(reason)` phrased to follow "<attribute> ..." in a
//! diagnostic; the caller names the attribute.

/// A 12-digit AWS account id.
pub fn account_id(value: &str) -> Result<(), String> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("must be a 12-digit AWS account id, got {value:?}"))
    }
}

/// An AMI id: `ami-` and 8 or 17 lowercase hex digits, as EC2 issues them.
pub fn ami_id(value: &str) -> Result<(), String> {
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    match value.strip_prefix("ami-") {
        Some(hex) if matches!(hex.len(), 8 | 17) && hex.bytes().all(lower_hex) => Ok(()),
        _ => Err(format!(
            "must be an AMI ID such as \"ami-0123456789abcdef0\", got {value:?}"
        )),
    }
}

/// An AWS region name such as `eu-west-1` or `us-gov-west-1`.
pub fn region(value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "must be an AWS region name such as \"eu-west-1\", got {value:?}"
        ))
    }
}

/// An IAM role ARN: `arn:<partition>:iam::<account>:role/<path/name>`.
pub fn role_arn(value: &str) -> Result<(), String> {
    let fields: Vec<&str> = value.splitn(6, ':').collect();
    let ok = fields.len() == 6
        && fields[0] == "arn"
        && PARTITIONS.contains(&fields[1])
        && fields[2] == "iam"
        && fields[3].is_empty()
        && account_id(fields[4]).is_ok()
        && fields[5]
            .strip_prefix("role/")
            .is_some_and(role_path_and_name);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be an IAM role ARN such as \"arn:aws:iam::111111111111:role/name\" (one role: no wildcard, a \
             partition AWS has), got {value:?}"
        ))
    }
}

/// The AWS partitions (the second field of an ARN).
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// A role's optional path and its name, as IAM allows them: a name of 1 to
/// 64 characters from letters, digits and `+=,.@_-`, after a path of
/// `/`-separated segments of the same characters. A wildcard names no role.
fn role_path_and_name(text: &str) -> bool {
    let name = text.rsplit('/').next().unwrap_or_default();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c);
    !name.is_empty() && name.len() <= 64 && text.len() <= 576 && text.chars().all(allowed)
}

/// An `assume_role.external_id`, as STS takes it: 2 to 1,224 characters from
/// letters, digits and `+=,.@:/-_` (AssumeRole API reference, ExternalId).
pub fn external_id(value: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c);
    let length = value.chars().count();
    if !(2..=1224).contains(&length) {
        return Err(format!("must be 2 to 1224 characters long, got {length}"));
    }
    match value.chars().find(|c| !allowed(*c)) {
        None => Ok(()),
        Some(c) => Err(format!(
            "may hold only letters, digits and +=,.@:/-_ (STS refuses {c:?})"
        )),
    }
}

/// The account an IAM role ARN names (its fifth field), when `arn` is one.
pub fn role_account(arn: &str) -> Option<&str> {
    role_arn(arn).ok()?;
    arn.split(':').nth(4)
}

/// An `assume_role` duration: a Go-style duration STS accepts for a role
/// session, 15 minutes to 12 hours (the role's own maximum may be lower).
pub fn session_duration(text: &str) -> Result<(), String> {
    let (min, max) = crate::aws::ASSUME_ROLE_DURATION_RANGE;
    match crate::duration::parse_duration(text) {
        Some(d) if (min..=max).contains(&d) => Ok(()),
        Some(_) => Err(format!("must be between 15m and 12h, got {text:?}")),
        None => Err(format!(
            "must be a duration such as \"1h\" or \"45m\", got {text:?}"
        )),
    }
}

/// An `assume_role` session name as STS allows it.
pub fn session_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if (2..=64).contains(&name.len()) && name.chars().all(allowed) {
        Ok(())
    } else {
        Err(format!(
            "must be 2 to 64 letters, digits or +=,.@_- characters, got {name:?}"
        ))
    }
}

/// User tags EC2 allows on one resource (its tag restrictions; `aws:` tags
/// do not count, and cannot be set by users anyway).
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

/// A tag key EC2 accepts from a user: 1 to 128 characters, not starting
/// with `aws:` (any case), which AWS reserves for itself.
pub fn tag_key(key: &str) -> Result<(), String> {
    if key.to_ascii_lowercase().starts_with("aws:") {
        Err("tag keys starting with \"aws:\" are reserved by AWS and cannot be set".to_owned())
    } else if key.is_empty() || key.chars().count() > 128 {
        Err("tag keys have 1 to 128 characters".to_owned())
    } else {
        Ok(())
    }
}

/// A tag value EC2 accepts: at most 256 characters (empty is allowed).
pub fn tag_value(value: &str) -> Result<(), String> {
    let count = value.chars().count();
    if count > 256 {
        Err(format!(
            "tag values have at most 256 characters, this one has {count}"
        ))
    } else {
        Ok(())
    }
}

/// An endpoint URL.
pub fn endpoint_url(value: &str) -> Result<(), String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err(format!("must be an http:// or https:// URL, got {value:?}")),
    }
}

/// `arn:<partition>:organizations::<account>:organization/o-<10 to 32 chars>`.
pub fn organization_arn(value: &str) -> Result<(), String> {
    let ok = organizations_resource(value)
        .and_then(|r| r.strip_prefix("organization/"))
        .is_some_and(is_org_id);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be an organization ARN such as \
             \"arn:aws:organizations::111111111111:organization/o-exampleorgid\", got {value:?}"
        ))
    }
}

/// `arn:<partition>:organizations::<account>:ou/o-<org>/ou-<root>-<suffix>`.
pub fn organizational_unit_arn(value: &str) -> Result<(), String> {
    let ok = organizations_resource(value)
        .and_then(|r| r.strip_prefix("ou/"))
        .and_then(|r| r.split_once('/'))
        .is_some_and(|(org, ou)| is_org_id(org) && is_ou_id(ou));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be an organizational unit ARN such as \
             \"arn:aws:organizations::111111111111:ou/o-exampleorgid/ou-ab12-cd34ef56\", got {value:?}"
        ))
    }
}

/// The resource part of an Organizations ARN whose region is empty and
/// whose account is 12 digits.
fn organizations_resource(value: &str) -> Option<&str> {
    let fields: Vec<&str> = value.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = fields.as_slice() else {
        return None;
    };
    let ok = *arn == "arn"
        && partition.starts_with("aws")
        && *service == "organizations"
        && region.is_empty()
        && crate::validate::account_id(account).is_ok();
    ok.then_some(*resource)
}

fn is_lower_alnum(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// `o-` and 10 to 32 lowercase letters or digits.
fn is_org_id(s: &str) -> bool {
    s.strip_prefix("o-")
        .is_some_and(|id| (10..=32).contains(&id.len()) && is_lower_alnum(id))
}

/// `ou-`, 4 to 32 characters of the root id, `-`, 8 to 32 characters.
fn is_ou_id(s: &str) -> bool {
    s.strip_prefix("ou-")
        .and_then(|id| id.split_once('-'))
        .is_some_and(|(root, suffix)| {
            (4..=32).contains(&root.len())
                && (8..=32).contains(&suffix.len())
                && is_lower_alnum(root)
                && is_lower_alnum(suffix)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        for (value, ok) in [
            ("111111111111", true),
            ("11111111111", false),
            ("11111111111a", false),
            ("", false),
        ] {
            assert_eq!(account_id(value).is_ok(), ok, "{value:?}");
        }
    }

    #[test]
    fn ami_ids() {
        for (value, ok) in [
            ("ami-12345678", true),
            ("ami-0123456789abcdef0", true),
            ("ami-0123456789ABCDEF0", false),
            ("ami-1234567", false),
            ("ami-0123456789abcdef", false),
            ("snap-0123456789abcdef0", false),
            ("", false),
        ] {
            assert_eq!(ami_id(value).is_ok(), ok, "{value}");
        }
    }

    #[test]
    fn regions() {
        let cases = [
            ("eu-west-1", true),
            ("us-gov-west-1", true),
            ("cn-north-1", true),
            ("ap-southeast-5", true),
            ("eu-west", false),
            ("EU-WEST-1", false),
            ("euwest1", false),
            ("", false),
        ];
        for (value, ok) in cases {
            assert_eq!(region(value).is_ok(), ok, "{value:?}");
        }
    }

    #[test]
    fn role_arns() {
        let cases = [
            ("arn:aws:iam::111111111111:role/ami-publisher", true),
            ("arn:aws-cn:iam::111111111111:role/path/name", true),
            ("arn:aws:iam::111111111111:user/bob", false),
            ("arn:aws:iam::1111:role/x", false),
            ("arn:aws:iam::111111111111:role/", false),
            ("ami-publisher", false),
            ("arn:aws:iam::111111111111:role/*", false),
            ("arn:aws:iam::111111111111:role/ami-*", false),
            ("arn:awsx:iam::111111111111:role/x", false),
            ("arn:aws-us-gov:iam::111111111111:role/x", true),
            ("arn:aws:iam::111111111111:role/has space", false),
        ];
        for (value, ok) in cases {
            assert_eq!(role_arn(value).is_ok(), ok, "{value:?}");
        }
    }

    #[test]
    fn external_ids() {
        let long = "x".repeat(1225);
        for (value, ok) in [
            ("ab", true),
            ("a", false),
            (" ", false),
            ("tenant=42/prod@example.com", true),
            ("has space", false),
            (long.as_str(), false),
            (&long[..1224], true),
        ] {
            assert_eq!(external_id(value).is_ok(), ok, "{value:?}");
        }
    }

    #[test]
    fn tag_keys_and_values() {
        let long_key = "k".repeat(129);
        for (key, ok) in [
            ("Team", true),
            ("aws:cloudformation:stack", false),
            ("AWS:x", false),
            ("awsome", true),
            ("", false),
            (long_key.as_str(), false),
            (&long_key[..128], true),
        ] {
            assert_eq!(tag_key(key).is_ok(), ok, "{key:?}");
        }
        let long_value = "é".repeat(257);
        for (value, ok) in [
            ("", true),
            (long_value.as_str(), false),
            (&long_value[..512], true), // 256 two-byte characters
        ] {
            assert_eq!(
                tag_value(value).is_ok(),
                ok,
                "{} chars",
                value.chars().count()
            );
        }
    }

    #[test]
    fn endpoint_urls() {
        for (value, ok) in [
            ("http://127.0.0.1:4566", true),
            ("https://ec2.eu-west-1.amazonaws.com", true),
            ("ec2.local", false),
            ("https://", false),
        ] {
            assert_eq!(endpoint_url(value).is_ok(), ok, "{value:?}");
        }
    }
}
