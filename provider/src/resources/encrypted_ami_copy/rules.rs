//! The resource's pure rules: its states and tag keys, diagnostic
//! summaries, description and name checks, deterministic names and
//! idempotency tokens, and telling whether two key forms name the same KMS
//! key (tag maps are `tag_rules.rs`). No AWS here, so all of it is
//! unit-tested table by table.

use sha2::{Digest, Sha256};

use super::model::CopyModel;

/// The tag saying the copy is encrypted; always `"true"`.
pub(super) const TAG_ENCRYPTED: &str = "Encrypted";
/// The tag naming the AMI the copy was made from.
pub(super) const TAG_COPIED_FROM: &str = "CopiedFromAMI";
/// The tag a create puts on the new AMI (not its snapshots) and takes off
/// once it records the finished copy: an AMI that still carries it was
/// started by a create that never finished, such as one whose Terraform was
/// killed, so a later create may take it over even when it has finished
/// since. A copy in state never keeps it (if its removal failed, a refresh
/// shows it in `tags_all` as drift, and the next apply removes it).
pub(super) const TAG_CREATING: &str = "imagecopier:creating";
/// The `state` of a finished copy.
pub(super) const AVAILABLE: &str = "available";
/// The `state` of a copy that is disabled (EC2 DisableImage).
pub(super) const DISABLED: &str = "disabled";
/// The `state` of a copy whose AMI is gone while some of its snapshots
/// remain: it is still in state, so that nothing is orphaned, and only a
/// replacement (or destroy) can follow.
pub(super) const DEREGISTERED: &str = "deregistered";

/// A diagnostic's summary, worded as the aws provider words them: what was
/// being done, to which copy, named by its AMI id or, before it has one, by
/// its name.
pub(super) fn summary(verb: &str, model: &CopyModel) -> String {
    match model.id.known().or(model.name.known()) {
        Some(id) => format!("{verb} EC2 AMI copy ({id})"),
        None => format!("{verb} EC2 AMI copy"),
    }
}

/// The most characters EC2 takes in an AMI description.
pub(super) const MAX_DESCRIPTION_CHARS: usize = 255;

/// An AMI description: at most [`MAX_DESCRIPTION_CHARS`] characters.
pub(super) fn description(value: &str) -> Result<(), String> {
    let count = value.chars().count();
    if count > MAX_DESCRIPTION_CHARS {
        Err(format!(
            "has at most {MAX_DESCRIPTION_CHARS} characters, this one has {count}"
        ))
    } else {
        Ok(())
    }
}

/// An AMI name: 3 to 128 of letters, digits and `()[] ./-'@_`.
pub(super) fn ami_name(value: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "()[] ./-'@_".contains(c);
    if (3..=128).contains(&value.len()) && value.chars().all(allowed) {
        Ok(())
    } else {
        Err(format!(
            "must be 3 to 128 letters, digits or ( ) [ ] . / - ' @ _ and spaces, got {value:?}"
        ))
    }
}

/// The ways a KMS key can be named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum KeyForm {
    /// A key id (UUID or `mrk-...`).
    Id(String),
    /// `arn:<partition>:kms:<region>:<account>:key/<id>`.
    KeyArn(String),
    /// `alias/<name>`.
    Alias(String),
    /// `arn:<partition>:kms:<region>:<account>:alias/<name>`.
    AliasArn(String),
}

/// Parses a key reference, or says why it is not one.
pub(super) fn key_form(value: &str) -> Result<KeyForm, String> {
    let bad = || {
        format!("must be a KMS key id, key ARN, alias name (alias/...) or alias ARN, got {value:?}")
    };
    if let Some(rest) = value.strip_prefix("arn:") {
        let fields: Vec<&str> = rest.splitn(5, ':').collect();
        if fields.len() != 5
            || !fields[0].starts_with("aws")
            || fields[1] != "kms"
            || fields[2].is_empty()
        {
            return Err(bad());
        }
        crate::validate::account_id(fields[3]).map_err(|_| bad())?;
        return match fields[4].split_once('/') {
            Some(("key", id)) if is_key_id(id) => Ok(KeyForm::KeyArn(value.to_owned())),
            Some(("alias", name)) if !name.is_empty() => Ok(KeyForm::AliasArn(value.to_owned())),
            _ => Err(bad()),
        };
    }
    if value
        .strip_prefix("alias/")
        .is_some_and(|name| !name.is_empty())
    {
        return Ok(KeyForm::Alias(value.to_owned()));
    }
    if is_key_id(value) {
        return Ok(KeyForm::Id(value.to_owned()));
    }
    Err(bad())
}

fn is_key_id(id: &str) -> bool {
    let uuid = id.len() == 36
        && id.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    let mrk = id
        .strip_prefix("mrk-")
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    uuid || mrk
}

/// Whether two key references name the same key, when that can be told
/// without AWS: `Some(true)` for the same text, a key id and its key ARN, or
/// an alias and its alias ARN; `None` when only DescribeKey can tell (an
/// alias against a key ARN, or either unparseable).
pub(super) fn same_key_locally(a: &str, b: &str) -> Option<bool> {
    if a == b {
        return Some(true);
    }
    let tail = |form: &KeyForm| match form {
        KeyForm::Id(id) => ("key", id.clone()),
        KeyForm::KeyArn(arn) => (
            "key",
            arn.rsplit_once("key/")
                .map(|(_, id)| id.to_owned())
                .unwrap_or_default(),
        ),
        KeyForm::Alias(alias) => ("alias", alias.clone()),
        KeyForm::AliasArn(arn) => (
            "alias",
            arn.rsplit_once(':')
                .map(|(_, a)| a.to_owned())
                .unwrap_or_default(),
        ),
    };
    let (ka, kb) = (key_form(a).ok()?, key_form(b).ok()?);
    let ((kind_a, name_a), (kind_b, name_b)) = (tail(&ka), tail(&kb));
    if kind_a != kind_b {
        return None;
    }
    let both_arns = matches!(
        (&ka, &kb),
        (KeyForm::KeyArn(_), KeyForm::KeyArn(_)) | (KeyForm::AliasArn(_), KeyForm::AliasArn(_))
    );
    // Two different ARNs are different keys; a short form and an ARN with the
    // same name are the same key in the caller's account and region.
    if both_arns {
        Some(false)
    } else if name_a == name_b {
        Some(true)
    } else {
        Some(false)
    }
}

/// The default AMI name: readable (the source id) and unique per source,
/// region and key, so that two copies of one source with different keys
/// never collide, and stable so that a rerun finds the copy it started.
pub(super) fn default_name(
    source_ami_id: &str,
    source_region: &str,
    kms_key_id: Option<&str>,
) -> String {
    let digest = hash(&[source_region, kms_key_id.unwrap_or("")]);
    format!("{source_ami_id}-encrypted-{}", &digest[..10])
}

/// The name of a copy whose default name another AMI, `holder_id`, holds
/// (see `naming`): as readable and deterministic as the default, and
/// different from it.
pub(super) fn name_beside(
    source_ami_id: &str,
    source_region: &str,
    kms_key_id: Option<&str>,
    holder_id: &str,
) -> String {
    let digest = hash(&[source_region, kms_key_id.unwrap_or(""), "beside", holder_id]);
    format!("{source_ami_id}-encrypted-{}", &digest[..10])
}

/// The CopyImage ClientToken for one copy attempt; `attempt` is a value
/// unique to that attempt ([`new_attempt`]).
///
/// EC2 remembers what a token returned long after the copy it made is gone,
/// so a token built from the inputs alone would hand every re-creation of
/// the same copy (`-replace`, destroy then apply, a rollback) the AMI the
/// first one made, long deregistered. The token therefore changes with each
/// attempt, and stays the same only for retries of one call (the SDK's,
/// after a lost answer), which then return the copy already started. An
/// attempt cut short by a kill is found again by the copy's unique name, not
/// by its token: EC2 refuses a second AMI with the same name.
pub(super) fn client_token(
    account: &str,
    region: &str,
    source_ami_id: &str,
    source_region: &str,
    name: &str,
    kms_key_id: Option<&str>,
    attempt: &str,
) -> String {
    hash(&[
        "imagecopier-copy-v2",
        account,
        region,
        source_ami_id,
        source_region,
        name,
        kms_key_id.unwrap_or(""),
        attempt,
    ])
}

/// A value unique to one copy attempt, for [`client_token`]: 128 random bits.
pub(super) fn new_attempt() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// Hex SHA-256 of the parts joined with NUL (which no part can contain), 64 chars.
fn hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
    const KEY_ARN: &str =
        "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const ALIAS_ARN: &str = "arn:aws:kms:eu-west-1:222222222222:alias/ami";

    #[test]
    fn descriptions_have_at_most_255_characters() {
        assert!(description(&"é".repeat(255)).is_ok());
        assert!(description(&"d".repeat(256)).is_err());
        assert!(description("").is_ok());
    }

    #[test]
    fn key_forms_parse() {
        let cases = [
            (KEY_ID, true),
            (KEY_ARN, true),
            ("alias/ami", true),
            (ALIAS_ARN, true),
            ("mrk-1234567890abcdef1234567890abcdef", true),
            ("alias/", false),
            ("arn:aws:kms:eu-west-1:2222:key/x", false),
            ("arn:aws:s3:::bucket", false),
            ("ami", false),
        ];
        for (value, ok) in cases {
            assert_eq!(key_form(value).is_ok(), ok, "{value}");
        }
    }

    #[test]
    fn key_forms_compare_without_aws_where_they_can() {
        let cases = [
            (KEY_ID, KEY_ID, Some(true)),
            (KEY_ID, KEY_ARN, Some(true)),
            ("alias/ami", ALIAS_ARN, Some(true)),
            ("alias/ami", "alias/other", Some(false)),
            (
                KEY_ARN,
                "arn:aws:kms:eu-west-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                Some(false),
            ),
            ("alias/ami", KEY_ARN, None),
            (KEY_ID, "alias/ami", None),
        ];
        for (a, b, want) in cases {
            assert_eq!(same_key_locally(a, b), want, "{a} vs {b}");
            assert_eq!(same_key_locally(b, a), want, "{b} vs {a}");
        }
    }

    #[test]
    fn names_and_tokens_are_deterministic_and_distinct() {
        let name = default_name("ami-0123456789abcdef0", "eu-west-1", Some("alias/ami"));
        assert_eq!(
            name,
            default_name("ami-0123456789abcdef0", "eu-west-1", Some("alias/ami"))
        );
        assert!(
            name.starts_with("ami-0123456789abcdef0-encrypted-"),
            "{name}"
        );
        assert!(ami_name(&name).is_ok(), "{name}");
        let others = [
            default_name("ami-0123456789abcdef0", "eu-west-2", Some("alias/ami")),
            default_name("ami-0123456789abcdef0", "eu-west-1", None),
            default_name("ami-0123456789abcdef1", "eu-west-1", Some("alias/ami")),
        ];
        assert!(others.iter().all(|o| *o != name), "{others:?}");

        let token = |account: &str, attempt: &str| {
            client_token(
                account,
                "eu-west-1",
                "ami-1",
                "eu-west-1",
                &name,
                None,
                attempt,
            )
        };
        let (first, second) = (new_attempt(), new_attempt());
        assert_ne!(first, second, "each copy attempt gets its own value");
        assert_eq!(token("222222222222", &first), token("222222222222", &first));
        assert_eq!(token("222222222222", &first).len(), 64);
        assert!(token("222222222222", &first).is_ascii());
        assert_ne!(token("222222222222", &first), token("333333333333", &first));
        // A re-creation of the same copy never replays an earlier attempt's token.
        assert_ne!(
            token("222222222222", &first),
            token("222222222222", &second)
        );
    }

    #[test]
    fn the_name_beside_a_holder_differs_from_the_default() {
        let default = default_name("ami-1", "eu-west-1", None);
        let beside = name_beside("ami-1", "eu-west-1", None, "ami-holder");
        assert_ne!(default, beside);
        assert!(beside.starts_with("ami-1-encrypted-"), "{beside}");
        assert!(ami_name(&beside).is_ok());
        assert_ne!(beside, name_beside("ami-1", "eu-west-1", None, "ami-other"));
        assert_eq!(
            beside,
            name_beside("ami-1", "eu-west-1", None, "ami-holder")
        );
    }
}
